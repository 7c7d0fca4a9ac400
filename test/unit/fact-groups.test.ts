// Facts of one group (the path facts) are probed by ONE command of the batch, and each still
// parses its own output. Real sh, real files, real processes (the local transport).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchScript, gatherAll, gatherFacts, probesOf } from '../../src/engine/gather.js';
import type { Fact, FactGroup } from '../../src/engine/types.js';
import { defineFact } from '../../src/facts/define.js';
import { fileContentFact } from '../../src/facts/file-content.js';
import { fileFact } from '../../src/facts/file.js';
import { pathsCommand, printed, splitPaths, type PathMember } from '../../src/facts/paths.js';
import { pathFact, pathIdsFact } from '../../src/facts/stat.js';
import { LocalTransport } from '../../src/transports/local.js';
import { buildFact } from '../../src/facts/index.js';
import { factOutput, readFactFixture } from '../fixtures/facts/fixture.mjs';

const root = mkdtempSync(join(tmpdir(), 'hostkit-groups-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'dir'));
writeFileSync(join(root, 'file'), 'hello\n');
writeFileSync(join(root, "sp ace 'q'"), 'x');
symlinkSync('file', join(root, 'link'));
const names = ['dir', 'file', "sp ace 'q'", 'link', 'absent'];
const pathFacts = (): Fact<unknown>[] =>
  names.flatMap((n) => {
    const p = join(root, n);
    return [pathFact(p), pathIdsFact(p), fileFact(p), fileContentFact(p)];
  });
const local = () => new LocalTransport({ name: 'localhost', become: false });

describe('fact groups', () => {
  it('every path fact of a batch is ONE probe, and each reads what its own probe reads', async () => {
    const facts = pathFacts();
    const uname = defineFact('test.uname', [], 'uname -s', (o) => o.stdout.trim());
    const probes = probesOf([uname, ...facts]);
    expect(probes.map((p) => p.facts.length)).toEqual([1, facts.length]);
    const t = local();
    const merged = await gatherFacts(t, [uname, ...facts]);
    expect(t.stats.execs).toBe(1);
    for (const f of facts) expect(merged.get(f), f.key).toEqual((await gatherFacts(local(), [f])).get(f));
    expect(merged.get(fileFact(join(root, 'link')))).toEqual({
      path: join(root, 'link'),
      exists: true,
      type: 'other',
      kind: 'symbolic link',
    });
  });

  it('a fact alone in its group runs its own command', () => {
    const f = pathFact('/srv');
    expect(probesOf([f])[0]!.command).toBe(f.command);
    expect(batchScript(probesOf([f]), '@@m@@')).toContain(f.command);
  });

  it("a member whose output cannot be parsed fails that fact only; a group's output that cannot be split fails its members only", async () => {
    const odd: PathMember = { path: join(root, 'file'), statFor: 'f', bytesFor: '', render: () => printed('garbage\n') };
    const group = (member: PathMember): FactGroup<PathMember> => ({ id: 'host.paths', member, command: pathsCommand, split: splitPaths });
    const bad = {
      ...defineFact('test.odd', [], 'echo garbage', (o) => {
        if (o.stdout === 'garbage\n') throw new Error('not a path state');
        return o.stdout;
      }),
      group: group(odd),
    };
    const facts = pathFacts();
    const got = await gatherAll(local(), [bad, ...facts]);
    expect(got.get(bad.key)).toMatchObject({ error: expect.objectContaining({ message: expect.stringContaining('not a path state') }) });
    expect(facts.filter((f) => 'error' in got.get(f.key)!)).toEqual([]);

    const broken = <T>(key: string): Fact<T> => ({
      ...defineFact<T>('test.broken', [key], 'true', () => undefined as T),
      group: {
        id: 'test.broken',
        member: key,
        command: () => 'echo half',
        split: () => {
          throw new Error('cut short');
        },
      },
    });
    const uname = defineFact('test.uname', [], 'uname -s', (o) => o.stdout.trim());
    const got2 = await gatherAll(local(), [broken('a'), uname, broken('b')]);
    expect(
      [...got2.entries()].map(([k, v]) => [
        k,
        'error' in v ? (v.error.message.includes('cut short') ? 'cut short' : v.error.message) : 'ok',
      ]),
    ).toEqual([
      ['test.broken("a")', 'cut short'],
      ['test.broken("b")', 'cut short'],
      ['test.uname', 'ok'],
    ]);
  });

  it('a path stat could not read (gone between the tests and stat) fails its facts only, with its own stderr lines', () => {
    const fx = readFactFixture('host.paths', 'gone-meanwhile');
    const facts = (fx.args[0] as [string, string][]).map(([name, path]) => buildFact(name, [path]));
    const own = splitPaths(
      fx,
      facts.map((f) => f.group!.member as PathMember),
    );
    const failed = facts.filter((_f, i) => own[i]!.exitCode !== 0).map((f) => f.key);
    const gone = '/tmp/hostkit-fixture/paths/file';
    // Its four facts, and the bytes behind the symlink to it (base64 failed as its own probe would).
    expect(failed).toEqual([
      `path.stat("${gone}")`,
      `path.stat-ids("${gone}")`,
      `file.bytes("${gone}")`,
      `file.content("${gone}")`,
      'file.content("/tmp/hostkit-fixture/paths/link-file")',
    ]);
    expect(own[0]!.stderr).toBe(`stat: cannot statx '${gone}': No such file or directory\nbase64: ${gone}: No such file or directory\n`);
    expect(() => facts[0]!.parse(own[0]!)).toThrow(/stat failed: stat: cannot statx/);
    expect(facts[4]!.parse(own[4]!)).toEqual({
      path: '/tmp/hostkit-fixture/paths/empty',
      exists: true,
      type: 'file',
      owner: 'UNKNOWN',
      group: 'UNKNOWN',
      mode: '0644',
    });
  });

  it('an output cut short or with the wrong number of paths is refused', () => {
    const out = factOutput('host.paths', 'tricky');
    const member = fileFact('/x').group!.member as PathMember;
    expect(() => splitPaths({ ...out, stdout: out.stdout.slice(0, -20) }, [member])).toThrow(/cut short/);
    expect(() => splitPaths(out, [member])).toThrow(/classes are not 1/);
  });
});
