import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/sandbox/index.js';
import { defaultPlatformYaml, runRole, useTarget } from './harness.js';

const XSD = join(repoRoot(), 'test', 'fixtures', 'junit', 'junit-10.xsd');
// A package install: apt takes seconds, long enough for the live line to be redrawn.
const BASE = 'base:\n  packages: [jq]\n  unattended_upgrades: false\n';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal control sequences under test
const CONTROL = /[\r\x1b]/;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Issue 15, acceptance 4 and 5: --junit, --json on an unreachable host, the live line on a TTY only. */
describe('reporters on a sandbox target (--junit, --json errors, live line)', () => {
  const sb = useTarget({ platformYaml: `${defaultPlatformYaml()}\n${BASE}` });

  it('--junit in --check after two drifts: valid JUnit XML, the two drifts as failures, every other resource passed', async () => {
    const apply = await runRole('data', [], { inventory: sb.inventory });
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect((await sb.target.exec('chmod 0777 /mnt/data/nginx /mnt/data/python')).exitCode).toBe(0);
    const file = join(await mkdtemp(join(tmpdir(), 'hostkit-junit-')), 'check.xml');
    const check = await runRole('data', ['--check', '--junit', file], { inventory: sb.inventory });
    expect(check.exitCode, check.stdout + check.stderr).toBe(2);
    const xml = await readFile(file, 'utf8');
    const lint = await execa('xmllint', ['--noout', '--schema', XSD, file], { reject: false });
    expect(lint.exitCode, `${lint.stderr}\n${xml}`).toBe(0);
    const cases = [...xml.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
    const failures = cases.filter((c) => c[3]?.includes('<failure'));
    expect(failures.map((c) => c[1]).sort()).toEqual(['directory /mnt/data/nginx', 'directory /mnt/data/python']);
    expect(failures[0]![3]).toMatch(/&gt; mode of \/mnt\/data\/\w+ 0?777 -&gt; 0?7[05]5?0?/);
    const passed = cases.filter((c) => !c[3] || !/<(failure|error|skipped)/.test(c[3]));
    expect(passed.length).toBe(cases.length - 2);
    expect(passed.length).toBeGreaterThan(3);
    expect(xml).toMatch(/<testsuite name="\S+ data" tests="\d+" failures="2" errors="0" skipped="0"/);
  });

  it('--json on an unreachable host: a JSON error object on stdout naming the host, exit 1', async () => {
    const doc = parse(await readFile(sb.inventory, 'utf8')) as { all: { hosts: Record<string, Record<string, unknown>> } };
    doc.all.hosts[sb.target.name]!.port = await closedPort();
    const inventory = join(await mkdtemp(join(tmpdir(), 'hostkit-inv-')), 'inventory.yaml');
    await writeFile(inventory, stringify(doc));
    const r = await runRole('data', ['--check', '--json'], { inventory });
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout) as { exitCode: number; error: { message: string; host: string } };
    expect(out.exitCode).toBe(1);
    expect(out.error.host).toBe(sb.target.name);
    expect(out.error.message).toMatch(/ECONNREFUSED/);
    // Before any host: a bad inventory is a JSON error object too.
    const bad = join(await mkdtemp(join(tmpdir(), 'hostkit-inv-')), 'inventory.yaml');
    await writeFile(bad, 'all: { hosts: { web1: { port: "x" } } }\n');
    const early = await runRole('data', ['--check', '--json'], { inventory: bad });
    expect(early.exitCode).toBe(1);
    expect((JSON.parse(early.stdout) as { error: { message: string } }).error.message).toMatch(/port/);
  });

  it('on a TTY a live line names host, role, resource, step and seconds during a long step; a non-TTY run has no control characters', async () => {
    const cmd = `npx zx roles/base.mjs -i ${sb.inventory}`;
    const tty = await execa('script', ['-qfec', cmd, '/dev/null'], {
      cwd: repoRoot(),
      reject: false,
      stdin: 'ignore',
      env: { CI: '', NO_COLOR: '1', FORCE_COLOR: '0', COLUMNS: '200' },
      timeout: 300_000,
    });
    expect(tty.exitCode, String(tty.stdout).slice(-3000)).toBe(0);
    const out = String(tty.stdout);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the live line's control sequence
    const live = [...out.matchAll(/\r\x1b\[2K… (\d+)s (\S+) base: ([^\r\n\x1b]*)/g)];
    expect(live.length, out.slice(0, 3000)).toBeGreaterThan(0);
    expect(live.every((m) => m[2] === sb.target.name)).toBe(true);
    // The apt install was shown with its resource and step while it ran, and the count went up.
    const apt = live.filter((m) => /^package[^:]*: /.test(m[3]!));
    expect(apt.length, live.map((m) => m[0]).join('\n')).toBeGreaterThan(0);
    expect(Math.max(...apt.map((m) => Number(m[1])))).toBeGreaterThanOrEqual(1);
    console.log(`[live line] ${apt.at(-1)![0].slice(5)}`);

    await sb.target.exec('apt-get remove -y jq >/dev/null 2>&1');
    const plain = await runRole('base', [], { inventory: sb.inventory });
    expect(plain.exitCode, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toContain('changed ');
    expect(plain.stdout + plain.stderr).not.toMatch(CONTROL);
    // CI on a terminal: plain lines too.
    const ci = await execa('script', ['-qfec', `${cmd} --check`, '/dev/null'], {
      cwd: repoRoot(),
      reject: false,
      stdin: 'ignore',
      env: { CI: 'true' },
    });
    expect(String(ci.stdout)).not.toContain('\x1b[2K');
  });
});
