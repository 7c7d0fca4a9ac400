import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './harness.js';
import { DEFAULT_REAL_DBS } from '../../src/sandbox/index.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { runScript, WITHOUT_HARDENING } from './platform-harness.js';
import { backupSection, prepareBackupHost, type BackupHost } from './backup-harness.js';

/**
 * Issue 6, acceptance 1, 2 and 5: the platform with real PostgreSQL (production) and MariaDB
 * (development) on a bare target, marker data, then backups to a second target over sftp.
 */
describe('backups with restic to an offsite sftp host (scripts/backup.mjs)', () => {
  let target: Target;
  let backupHost: Target;
  let dir: string;
  let inv: PlatformInventory;
  let bh: BackupHost;
  const outputs: string[] = [];
  const timings: Record<string, number> = {};
  const run = async (script: string, args: string[], paths = inv.paths) => {
    const r = await runScript(script, args, paths);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-backup-'));
    [target, backupHost] = await Promise.all([startTarget(), startTarget()]);
    const base = await writePlatformInventory([target], dir, { realDbs: DEFAULT_REAL_DBS });
    bh = await prepareBackupHost(backupHost, dir, base.secretsFile);
    inv = await writePlatformInventory([target], dir, {
      realDbs: DEFAULT_REAL_DBS,
      secretsFile: base.secretsFile,
      extra: { ...backupSection(bh), ...WITHOUT_HARDENING },
    });
  });
  afterAll(async () => {
    console.log(`[backup timings] ${JSON.stringify(timings)}`);
    await Promise.all([target?.remove(), backupHost?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('1. provisions the platform with real databases and the backup role; marker data written', async () => {
    const p = await run('scripts/provision.mjs', []);
    timings.provisionS = Math.round(p.durationMs / 100) / 10;
    expect(p.exitCode, p.stdout.slice(-4000) + p.stderr.slice(-2000)).toBe(0);
    const pg = await target.exec(
      `docker exec seller1-prod-db psql -q -v ON_ERROR_STOP=1 -U seller1 -d seller1 -c "CREATE TABLE marker(id int primary key, v text); INSERT INTO marker SELECT g, md5(g::text) FROM generate_series(1, 500) g"`,
    );
    expect(pg.exitCode, pg.stderr).toBe(0);
    const my = await target.exec(
      `docker exec commerce-db mariadb commerce -e "CREATE TABLE marker(id int primary key, v text); INSERT INTO marker SELECT seq, md5(seq) FROM seq_1_to_500"`,
    );
    expect(my.exitCode, my.stderr).toBe(0);
    const files = await target.exec(
      'for d in nginx/data gitea/data python/dev seller1-prod/files; do mkdir -p /mnt/data/$d && head -c 100000 /dev/urandom > /mnt/data/$d/marker.bin; done',
    );
    expect(files.exitCode, files.stderr).toBe(0);
  });

  it('2. backup now: a snapshot on the backup host with the dumps; timer active; --check 0', async () => {
    const b = await run('scripts/backup.mjs', []);
    timings.backupS = Math.round(b.durationMs / 100) / 10;
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toMatch(/snapshot [0-9a-f]{8,}/);
    expect((await backupHost.exec('ls /srv/restic/leruepecie/snapshots | wc -l')).stdout.trim()).toBe('1');
    const ls = await target.exec('/usr/local/sbin/hostkit-backup restic ls latest');
    expect(ls.stdout).toContain('/mnt/data/seller1-prod/dumps/seller1-prod-db.sql');
    expect(ls.stdout).toContain('/mnt/data/commerce/dumps/commerce-db.sql');
    expect(ls.stdout).toContain('/mnt/data/nginx/data/marker.bin');
    expect(ls.stdout).not.toContain('/mnt/data/seller1-prod/db/'); // live DB files: through the dumps
    const snaps = JSON.parse((await target.exec('/usr/local/sbin/hostkit-backup snapshots')).stdout) as { tags: string[] }[];
    expect(snaps[0]!.tags).toEqual(
      expect.arrayContaining([`host:${target.name}`, 'stack:seller1-prod-stack', expect.stringMatching(/^date:\d{4}-\d\d-\d\d$/)]),
    );
    expect(
      (await target.exec('grep -c "INSERT INTO\\|COPY public.marker" /mnt/data/seller1-prod/dumps/seller1-prod-db.sql')).stdout.trim(),
    ).not.toBe('0');
    expect(
      (
        await target.exec('systemctl is-enabled hostkit-backup.timer; systemctl is-active hostkit-backup.timer hostkit-backup-check.timer')
      ).stdout
        .trim()
        .split('\n'),
    ).toEqual(['enabled', 'active', 'active']);
    const c = await run('scripts/backup.mjs', ['--check']);
    expect(c.exitCode, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toMatch(/newest snapshot \w+ is [\d.]+ h old \(limit 26 h\)/);
    const again = await run('scripts/audit.mjs', ['--only', 'backup']);
    expect(again.exitCode, again.stdout).toBe(0);
  });

  it('2. backup host unreachable: the run fails loudly; --check 2; the age limit (clock) turns --check 2 too', async () => {
    await backupHost.exec('systemctl stop ssh.socket ssh.service 2>/dev/null; systemctl stop ssh');
    const b = await run('scripts/backup.mjs', []);
    expect(b.exitCode).toBe(1);
    expect(b.stderr).toMatch(/BACKUP FAILED: systemctl start hostkit-backup.service exit \d+, step "open repository"/);
    const c = await run('scripts/backup.mjs', ['--check']);
    expect(c.exitCode, c.stdout + c.stderr).toBe(2);
    expect(c.stderr).toContain('last backup run FAILED at step "open repository"');

    await backupHost.exec('systemctl start ssh');
    const fresh = await run('scripts/backup.mjs', []);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect((await run('scripts/backup.mjs', ['--check'])).exitCode).toBe(0);
    // The clock, simulated by the inventory's limit: the newest snapshot is now "too old".
    const old = join(dir, 'old-limit.yaml');
    await writeFile(old, stringify(backupSection(bh, 0.0001)));
    const stale = await run('scripts/backup.mjs', ['--check'], [...inv.paths, old]);
    expect(stale.exitCode, stale.stdout + stale.stderr).toBe(2);
    expect(stale.stderr).toMatch(/is [\d.]+ h old \(limit 0.0001 h\)/);
  });

  it('5. no secret value appears in any output', async () => {
    const secrets = Object.values(parse(await readFile(inv.secretsFile, 'utf8')) as Record<string, string>).flatMap((v) => [
      v,
      ...v.split('\n').filter((l) => l.length > 20),
    ]);
    const journal = await target.exec('journalctl -u hostkit-backup.service --no-pager -o cat; cat /var/lib/hostkit/backup/last-run.json');
    for (const out of [...outputs, journal.stdout])
      for (const v of secrets) expect(out.includes(v), `secret found in output: ${out.slice(0, 200)}`).toBe(false);
  });
});
