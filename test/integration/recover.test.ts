import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './harness.js';
import { DEFAULT_REAL_DBS, repoRoot } from '../../src/sandbox/index.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { runScript } from './platform-harness.js';
import { backupSection, prepareBackupHost, type BackupHost } from './backup-harness.js';

/**
 * Issue 6, acceptance 3, 4 and 5: back up a provisioned target, destroy it, recover a bare one
 * with scripts/recover.mjs; refusal on a non-empty data root; an interrupted recovery resumed.
 */
const PG_MARKERS = `docker exec seller1-prod-db psql -q -tA -U seller1 -d seller1 -c "SELECT id, v FROM marker ORDER BY id"`;
const MY_MARKERS = `docker exec commerce-db mariadb -N commerce -e "SELECT id, v FROM marker ORDER BY id"`;
// Every file under the data root except the live database files (the marker databases compared by
// content above, and every other PostgreSQL: the stand-in archive carries the real postgres image,
// whose files change while it runs) and the live data of the real NPM (its sqlite, logs and
// generated configs).
const LIVE = ['./seller1-prod/db/*', './commerce/db/*', './postgres-shared/data/*', './seller1-dev/db/*', './varbase/db/*', './nginx/*'];
const CHECKSUMS = `cd /mnt/data && find . -type f ${LIVE.map((p) => `! -path '${p}'`).join(' ')} -print0 | sort -z | xargs -0 sha256sum`;

describe('disaster recovery (scripts/recover.mjs)', () => {
  const name = `hk-dr-${randomBytes(3).toString('hex')}`;
  let target: Target;
  let backupHost: Target;
  let dir: string;
  let inv: PlatformInventory;
  let bh: BackupHost;
  let secretsFile: string;
  const before: Record<string, string> = {};
  const outputs: string[] = [];
  const timings: Record<string, number> = {};
  const run = async (script: string, args: string[]) => {
    const r = await runScript(script, args, inv.paths, 1_200_000);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  /** Destroy the target (docker rm -f -v) and start a bare one with the same name. */
  const replaceTarget = async () => {
    await target.remove();
    target = await startTarget({ name });
    inv = await writePlatformInventory([target], dir, { realDbs: DEFAULT_REAL_DBS, secretsFile, extra: backupSection(bh) });
  };
  const state = async () => ({
    pg: (await target.exec(PG_MARKERS)).stdout,
    my: (await target.exec(MY_MARKERS)).stdout,
    files: (await target.exec(CHECKSUMS)).stdout,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-dr-'));
    [target, backupHost] = await Promise.all([startTarget({ name }), startTarget()]);
    const base = await writePlatformInventory([target], dir, { realDbs: DEFAULT_REAL_DBS });
    secretsFile = base.secretsFile;
    bh = await prepareBackupHost(backupHost, dir, secretsFile);
    inv = await writePlatformInventory([target], dir, { realDbs: DEFAULT_REAL_DBS, secretsFile, extra: backupSection(bh) });
  });
  afterAll(async () => {
    console.log(`[recover timings] ${JSON.stringify(timings)}`);
    await Promise.all([target?.remove(), backupHost?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('setup: provision, marker rows and files, one backup', async () => {
    const p = await run('scripts/provision.mjs', []);
    expect(p.exitCode, p.stdout.slice(-3000) + p.stderr.slice(-2000)).toBe(0);
    expect(
      (
        await target.exec(
          `docker exec seller1-prod-db psql -q -v ON_ERROR_STOP=1 -U seller1 -d seller1 -c "CREATE TABLE marker(id int primary key, v text); INSERT INTO marker SELECT g, md5(g::text) FROM generate_series(1, 1000) g"`,
        )
      ).exitCode,
    ).toBe(0);
    expect(
      (
        await target.exec(
          `docker exec commerce-db mariadb commerce -e "CREATE TABLE marker(id int primary key, v text); INSERT INTO marker SELECT seq, md5(seq) FROM seq_1_to_1000"`,
        )
      ).exitCode,
    ).toBe(0);
    // Several data directories; one large file so that a restore takes long enough to interrupt.
    const files = await target.exec(
      'for d in nginx/data gitea/data python/dev seller1-prod/files uptime/data; do mkdir -p /mnt/data/$d && head -c 200000 /dev/urandom > /mnt/data/$d/marker.bin; done; head -c 300M /dev/urandom > /mnt/data/minio/data/big.bin',
    );
    expect(files.exitCode, files.stderr).toBe(0);
    const b = await run('scripts/backup.mjs', []);
    timings.backupS = Math.round(b.durationMs / 100) / 10;
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    Object.assign(before, await state());
    expect(before.pg!.split('\n')).toHaveLength(1000);
    expect(before.my!.split('\n')).toHaveLength(1000);
    expect(before.files).toContain('./minio/data/big.bin');
  });

  it('3. destroyed, then recovered on a bare server: rows, files, NPM networks identical; audit 0', async () => {
    await replaceTarget();
    const dry = await run('scripts/recover.mjs', ['--dry-run', '--limit', name]);
    expect(dry.exitCode, dry.stdout.slice(-3000) + dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would restore the newest snapshot');
    expect((await target.exec('ls /mnt/data 2>&1; command -v docker restic')).stdout).toMatch(/No such file/);

    const r = await run('scripts/recover.mjs', ['--limit', name]);
    timings.recoverS = Math.round(r.durationMs / 100) / 10;
    expect(r.exitCode, r.stdout.slice(-5000) + r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/recovery time: [\d.]+ s/);
    expect(r.stdout).toMatch(/6 full audit \(--check\)\s+[\d.]+\s+clean \(exit 0\)/);
    console.log(r.stdout.slice(r.stdout.lastIndexOf('\nstep ')));
    const after = await state();
    expect(after.pg).toBe(before.pg);
    expect(after.my).toBe(before.my);
    expect(after.files).toBe(before.files);
    const npmNets = (
      await target.exec(`docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' pro-0kt-nginx`)
    ).stdout
      .trim()
      .split(' ');
    expect(npmNets).toHaveLength(7);
    const audit = await run('scripts/audit.mjs', []);
    expect(audit.exitCode, audit.stdout.slice(-3000)).toBe(0);
  });

  it('4. a non-empty data root is refused and nothing changes', async () => {
    const ids = (await target.exec('docker ps -q --no-trunc | sort')).stdout;
    const r = await run('scripts/recover.mjs', ['--limit', name]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/REFUSED: the data root \/mnt\/data is not empty/);
    expect(r.stdout).not.toContain('### 1 base');
    expect(await state()).toEqual(before);
    expect((await target.exec('docker ps -q --no-trunc | sort')).stdout).toBe(ids);
  });

  // One bare server for two scenarios (a recovery costs ~5 min here): its host key is not known yet
  // (refused, then --accept-new-host-keys), and that recovery is killed mid-restore and re-run.
  it('4+6. a fresh target whose host key is not known: refused, nothing changed; --accept-new-host-keys recovers; killed mid-restore, re-run: completes, data identical', async () => {
    await replaceTarget();
    // A known_hosts of this test only, without the new server's key (the shared one is left alone).
    const knownHosts = join(dir, 'known_hosts_dr');
    await writeFile(knownHosts, '');
    const overlay = join(dir, 'unknown-key.yaml');
    await writeFile(overlay, stringify({ all: { vars: { known_hosts: knownHosts } } }));
    const paths = inv.paths;
    inv = { ...inv, paths: [...paths, overlay] };
    try {
      const refused = await run('scripts/recover.mjs', ['--limit', name]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/host-key: .* is not in .*known_hosts_dr \(strict checking\)/);
      expect(refused.stderr).toContain('host_key_checking: accept-new');
      expect(refused.stderr).not.toContain('hostKeyChecking');
      expect(refused.stdout).not.toContain('### 1 base');
      expect((await target.exec('ls /mnt/data 2>&1; command -v docker restic')).stdout).toMatch(/No such file/);
      expect(await readFile(knownHosts, 'utf8')).toBe('');

      const bin = join(repoRoot(), 'node_modules', '.bin', 'zx');
      const args = ['scripts/recover.mjs', '--limit', name, '--accept-new-host-keys', ...inv.paths.flatMap((p) => ['-i', p])];
      const child = execa(bin, args, { cwd: repoRoot(), reject: false, stdin: 'ignore', env: { FORCE_COLOR: '0' } });
      let killedDuringRestore = false;
      for (let i = 0; i < 3000 && child.exitCode === null; i++) {
        if ((await target.exec('test -f /var/lib/hostkit/recover.json && pgrep -x restic >/dev/null')).exitCode === 0) {
          child.kill('SIGKILL');
          killedDuringRestore = true;
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      const first = await child;
      outputs.push(String(first.stdout), String(first.stderr));
      expect(killedDuringRestore, String(first.stdout).slice(-2000) + String(first.stderr).slice(-2000)).toBe(true);
      expect((await target.exec('cat /var/lib/hostkit/recover.json')).stdout).toContain('"restored":false');
      // The accepted key was recorded before anything ran on the host.
      expect(await readFile(knownHosts, 'utf8')).toMatch(/^\S+ (ssh-ed25519|ecdsa-sha2-\S+|rsa-sha2-\S+|ssh-rsa) \S{20,}/m);

      const r = await run('scripts/recover.mjs', ['--limit', name]);
      timings.resumedRecoverS = Math.round(r.durationMs / 100) / 10;
      expect(r.exitCode, r.stdout.slice(-5000) + r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toContain('continuing the recovery recorded in /var/lib/hostkit/recover.json');
      expect(r.stdout).toMatch(/6 full audit \(--check\)\s+[\d.]+\s+clean \(exit 0\)/);
      expect(await state()).toEqual(before);
    } finally {
      inv = { ...inv, paths };
    }
  });

  it('5. no secret value appears in any output', async () => {
    const secrets = Object.values(parse(await readFile(secretsFile, 'utf8')) as Record<string, string>).flatMap((v) => [
      v,
      ...v.split('\n').filter((l) => l.length > 20),
    ]);
    for (const out of outputs) for (const v of secrets) expect(out.includes(v), 'a secret value in the output').toBe(false);
  });
});
