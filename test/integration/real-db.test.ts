import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './harness.js';
import { DEFAULT_REAL_DBS } from '../../src/sandbox/index.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { containerStates, runScript, WITHOUT_HARDENING } from './platform-harness.js';

/**
 * Issue 6, step 1: the platform with REAL PostgreSQL (seller1-prod-db) and MariaDB (commerce-db)
 * built from Debian's packages; the inventory's own environment and healthchecks drive them.
 */
describe('real databases in the sandbox platform', () => {
  let target: Target;
  let dir: string;
  let inv: PlatformInventory;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-realdb-'));
    const t0 = performance.now();
    target = await startTarget();
    inv = await writePlatformInventory([target], dir, { realDbs: DEFAULT_REAL_DBS, extra: WITHOUT_HARDENING });
    timings.prepareS = Math.round(performance.now() - t0) / 1000;
  });
  afterAll(async () => {
    console.log(`[real-db timings] ${JSON.stringify(timings)}`);
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('provisions: both real databases run healthy and accept SQL through their clients', async () => {
    const run = await runScript('scripts/provision.mjs', [], inv.paths);
    timings.provisionS = Math.round(run.durationMs / 100) / 10;
    expect(run.exitCode, run.stdout.slice(-3000) + run.stderr.slice(-3000)).toBe(0);

    const states = await containerStates((c) => target.exec(c));
    expect(states.get('seller1-prod-db')).toMatchObject({ state: 'running', health: 'healthy' });
    expect(states.get('commerce-db')).toMatchObject({ state: 'running', health: 'healthy' });
    const image = (name: string) => target.exec(`docker inspect -f '{{.Config.Image}}' ${name}`).then((r) => r.stdout.trim());
    expect(await image('seller1-prod-db')).toBe(inv.dbImages!.postgres);
    expect(await image('commerce-db')).toBe(inv.dbImages!.mariadb);

    const pg = await target.exec(
      `docker exec seller1-prod-db psql -q -U seller1 -d seller1 -tA -c "CREATE TABLE t(x text); INSERT INTO t VALUES ('hello'); SELECT x || ' ' || split_part(version(), ' ', 1) FROM t"`,
    );
    expect(pg.stdout.trim(), pg.stderr).toBe('hello PostgreSQL');
    const my = await target.exec(
      `docker exec commerce-db mariadb -N commerce -e "CREATE TABLE t(x text); INSERT INTO t VALUES ('hello'); SELECT CONCAT(x, ' ', @@version) FROM t"`,
    );
    expect(my.stdout.trim(), my.stderr).toMatch(/^hello .*MariaDB/);
    // The application user from the inventory's secrets logs in over TCP (as Drupal would).
    const appLogin = await target.exec(
      `docker exec commerce-db sh -c 'mariadb -h127.0.0.1 -ucommerce -p"$MARIADB_PASSWORD" commerce -N -e "SELECT COUNT(*) FROM t"'`,
    );
    expect(appLogin.stdout.trim(), appLogin.stderr).toBe('1');
  });
});
