import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configUnitFiles, stagedUnitScript, type ConfigUnitSpec, type UnitFile } from '../../src/resources/config-unit.js';
import { F2B_UNIT, JAIL_LOCAL, SSHD_FILTER_LOCAL, fail2banRole } from '../../src/roles/fail2ban.js';
import { buildRole } from '../../src/engine/role-input.js';
import { inventorySchema } from '../../src/inventory/schema.js';

/** Debian 12's stock files that make `fail2ban-client -t` fail alone (test/fixtures/fail2ban/README.md). */
const DEBIAN_12 = join(import.meta.dirname, '../fixtures/fail2ban/debian-12');

/**
 * A stand-in for fail2ban-client's configuration test with Debian 12's verdicts: the stock sshd
 * jail (jail.d/defaults-debian.conf, default backend) fails unless a jail.local moves it to the
 * journal; an unknown filter fails. It logs every call and the tree it was pointed at.
 */
const FAKE_CHECKER = (log: string) =>
  [
    '#!/bin/sh',
    `echo "$*" >> ${log}`,
    'dir=/etc/fail2ban',
    'while [ $# -gt 0 ]; do case "$1" in -c) dir=$2; shift 2;; *) shift;; esac; done',
    `ls -R "$dir" >> ${log}`,
    'if grep -qs "no-such-filter" "$dir/jail.local"; then',
    '  echo "ERROR   Found no accessible config files for \'filter.d/no-such-filter\' under $dir"; echo "ERROR   Unable to read the filter \'no-such-filter\'"; exit 255',
    'fi',
    // Read in fail2ban's order: jail.d/*.conf, then jail.local; the only backend lines here are sshd's.
    'if grep -qs "^enabled = true" "$dir/jail.d/defaults-debian.conf" && ! cat "$dir"/jail.d/*.conf "$dir/jail.local" 2>/dev/null | grep -q "^backend = systemd"; then',
    '  echo "ERROR   Failed during configuration: Have not found any log file for sshd jail"; exit 255',
    'fi',
    'echo "OK: configuration test is successful"',
  ].join('\n');

const FILTER = '[Definition]\nfailregex = %(known/failregex)s\n';
const JAIL = '[sshd]\nenabled = true\nbackend = systemd\n';

describe('a configuration unit: all files staged, checked once together, then swapped in', () => {
  let dir = '';
  let root = '';
  let log = '';
  const unitFiles = (jail = JAIL): UnitFile[] =>
    [
      { path: `${root}/filter.d/sshd.local`, content: FILTER },
      { path: `${root}/jail.local`, content: jail },
    ].map((f) => ({ ...f, owner: 'root', group: 'root', mode: '0644' }));
  const unit = (files: UnitFile[]): ConfigUnitSpec => ({ root, validate: 'fail2ban-client -t', dirOption: '-c', files });
  const run = (script: string) => execa('sh', ['-c', script], { reject: false, env: { PATH: `${dir}/bin:${process.env.PATH}` } });
  const tree = async () => {
    const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    const out: Record<string, string> = {};
    for (const f of files) out[join(f.parentPath, f.name).slice(root.length + 1)] = await readFile(join(f.parentPath, f.name), 'utf8');
    return out;
  };
  const checks = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('-t '));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-unit-'));
    root = join(dir, 'etc', 'fail2ban');
    log = join(dir, 'calls');
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'fail2ban-client'), FAKE_CHECKER(log));
    await chmod(join(dir, 'bin', 'fail2ban-client'), 0o755);
    await cp(DEBIAN_12, root, { recursive: true });
    await mkdir(join(root, 'filter.d'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("Debian 12's stock tree fails the check alone: the old file-by-file order could never pass", async () => {
    const alone = await run(`fail2ban-client -t -c ${root}`);
    expect(alone.exitCode).toBe(255);
    expect(alone.stdout).toContain('Have not found any log file for sshd jail');
  });

  it("Debian 13's stock tree passes alone (its defaults-debian.conf puts sshd on the journal)", async () => {
    const trixie = join(dir, 'trixie');
    await cp(join(DEBIAN_12, '..', 'debian-13'), trixie, { recursive: true });
    expect((await run(`fail2ban-client -t -c ${trixie}`)).exitCode).toBe(0);
  });

  it('on a fresh Debian 12 tree both files go in with one check of a staging copy, whichever file comes first', async () => {
    for (const order of [unitFiles(), unitFiles().reverse()]) {
      await rm(join(root, 'jail.local'), { force: true });
      await rm(join(root, 'filter.d', 'sshd.local'), { force: true });
      await rm(log, { force: true });
      const r = await run(stagedUnitScript(unit(order)));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await tree()).toEqual({
        'jail.d/defaults-debian.conf': '[sshd]\nenabled = true\n',
        'filter.d/sshd.local': FILTER,
        'jail.local': JAIL,
      });
      const calls = await checks();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(new RegExp(`^-t -c ${dir}/etc/\\.fail2ban\\.hostkit-\\w{6}$`)); // never the live tree
      const staged = await readFile(log, 'utf8');
      expect(staged).toContain('jail.local');
      expect(staged).toContain('sshd.local');
      expect((await readdir(join(dir, 'etc'))).sort()).toEqual(['fail2ban']); // the staging copy is gone
    }
  });

  it('a rejected unit leaves the live tree byte for byte as it was and names the new file', async () => {
    const good = await run(stagedUnitScript(unit(unitFiles())));
    expect(good.exitCode, good.stderr).toBe(0);
    const before = await tree();
    const r = await run(stagedUnitScript(unit(unitFiles(`${JAIL}\n[webapp]\nenabled = true\nfilter = no-such-filter\n`))));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Unable to read the filter 'no-such-filter'");
    expect(r.stderr).toContain(`under ${root}`); // the checker's words, the staging path shown as the live one
    expect(r.stderr).toContain(`rejected the new ${root}/jail.local; the previous file was put back`);
    expect(await tree()).toEqual(before);
    expect((await readdir(join(dir, 'etc'))).sort()).toEqual(['fail2ban']);
  });

  it('both files new and rejected together: both named', async () => {
    const r = await run(stagedUnitScript(unit(unitFiles('[sshd]\nenabled = true\n'))));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Have not found any log file for sshd jail');
    expect(r.stderr).toContain(`rejected the new ${root}/filter.d/sshd.local, ${root}/jail.local; the previous files were put back`);
    expect(Object.keys(await tree())).toEqual(['jail.d/defaults-debian.conf']);
  });

  it('when every file already has its content the script neither checks nor writes (the second member of a unit)', async () => {
    const script = stagedUnitScript(unit(unitFiles()));
    expect((await run(script)).exitCode).toBe(0);
    await rm(log);
    expect((await run(script)).exitCode).toBe(0);
    expect(await checks()).toEqual([]);
  });

  it('refuses a file outside the unit root', () => {
    expect(() => stagedUnitScript({ ...unit(unitFiles()), files: [{ ...unitFiles()[0]!, path: '/etc/other.conf' }] })).toThrow(
      /is not a file under it/,
    );
    expect(() =>
      configUnitFiles({ root: '/etc/fail2ban', validate: 'x', dirOption: '-c' }, [{ ...unitFiles()[0]!, path: '/etc/x' }]),
    ).toThrow(/is not a file under it/);
  });
});

describe('the fail2ban role writes its files as one unit', () => {
  const host = {
    name: 'h',
    address: 'a',
    port: 22,
    user: 'root',
    become: false,
    connection: 'ssh',
    protected: false,
    hostKeyChecking: 'strict',
    connectTimeoutMs: 1000,
    groups: [],
  } as const;

  it('both files carry the same unit (/etc/fail2ban, checked with -c on a staging copy) and the same write', () => {
    const { resources } = buildRole(
      fail2banRole,
      { sources: [], hosts: [], groups: {}, doc: inventorySchema.parse({ all: {}, fail2ban: {} }) },
      host,
    );
    const files = resources.filter((r) => r.id.startsWith('file ')) as unknown as {
      id: string;
      spec: { unit: ConfigUnitSpec };
      writeAction(): { script: string };
    }[];
    expect(files.map((f) => f.id)).toEqual([`file ${SSHD_FILTER_LOCAL}`, `file ${JAIL_LOCAL}`]);
    for (const f of files) {
      expect(f.spec.unit.root).toBe(F2B_UNIT.root);
      expect(f.spec.unit.files.map((x) => x.path)).toEqual([SSHD_FILTER_LOCAL, JAIL_LOCAL]);
    }
    expect(files[0]!.writeAction().script).toBe(files[1]!.writeAction().script);
    expect(files[0]!.writeAction().script).toContain('fail2ban-client -t -c "$stage"');
    // Neither file requires the other: the order of the files never matters.
    expect((resources[2] as unknown as { requires: string[] }).requires).toEqual(['packages fail2ban']);
  });
});
