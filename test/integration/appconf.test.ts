import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './harness.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { changedCount, containerStates, drifts, parseReport, runScript } from './platform-harness.js';
import { AUTHELIA_REQUIRED } from '../unit/authelia-keys.js';

/**
 * Issue 13, acceptance 3 and 4 (appconf's part) on one fresh target: the platform's managed
 * configuration files and its databases/roles, with REAL PostgreSQL for every server whose
 * databases the inventory declares (the shared one, seller1-prod-db, seller1-dev-db).
 */
describe('managed config files and databases/roles (stacks role)', () => {
  let target: Target;
  let dir: string;
  let inv: PlatformInventory;
  let secrets: Record<string, string>;
  const timings: Record<string, number> = {};
  const provision = (args: string[]) => runScript('scripts/provision.mjs', ['--only', 'docker,data,stacks', ...args], inv.paths);
  const sh = async (cmd: string) => {
    const r = await target.exec(cmd);
    return r.stdout.trim();
  };
  const psql = (container: string, user: string, sql: string) =>
    sh(`docker exec ${container} psql -X -U ${user} -d postgres -tA -c "${sql}"`);
  const started = async () =>
    new Map(
      (await sh(`docker ps -q | xargs docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}}'`))
        .split('\n')
        .map((l) => l.split(' '))
        .map(([name, id, at]) => [name!.slice(1), `${id} ${at}`]),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-appconf-'));
    target = await startTarget();
    inv = await writePlatformInventory([target], dir);
    secrets = parse(await readFile(inv.secretsFile, 'utf8')) as Record<string, string>;
  });
  afterAll(async () => {
    console.log(`[appconf timings] ${JSON.stringify(timings)}`);
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('provisions: databases and roles exist on their servers, Authelia config parses, again 0 changed', async () => {
    const first = await provision(['--json']);
    timings.provisionS = Math.round(first.durationMs / 100) / 10;
    expect(first.exitCode, first.stderr.slice(-3000)).toBe(0);

    expect(
      await psql(
        'pro-0kt-postgres',
        'postgres',
        "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('n8n','gitea')",
      ),
    ).toBe('gitea,n8n');
    expect(
      await psql(
        'pro-0kt-postgres',
        'postgres',
        "SELECT string_agg(datname || ':' || pg_get_userbyid(datdba), ',' ORDER BY datname) FROM pg_database WHERE datname IN ('n8n','gitea')",
      ),
    ).toBe('gitea:gitea,n8n:n8n');
    for (const db of ['seller1-prod-db', 'seller1-dev-db'])
      expect(await psql(db, 'seller1', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'n8n'"), db).toBe('seller1');
    // n8n's role logs in over TCP with the password from the secrets file (as n8n does).
    const login = await target.exec(
      `docker exec -e PGPASSWORD='${secrets.n8n_utils_db_password}' pro-0kt-postgres psql -X -h 127.0.0.1 -U n8n -d n8n -tA -c 'SELECT current_user'`,
    );
    expect(login.stdout.trim(), login.stderr).toBe('n8n');

    const conf = '/mnt/data/authelia/config/configuration.yml';
    expect(await sh(`stat -c '%a %U:%G' ${conf} /mnt/data/authelia/config/users_database.yml`)).toBe('600 root:root\n600 root:root');
    const doc = parse(await sh(`cat ${conf}`)) as Record<string, unknown>;
    for (const key of AUTHELIA_REQUIRED) expect(doc, key.join('.')).toHaveProperty(key);
    expect(await sh("grep -c '^backup:[$]2b[$]10[$]' /mnt/data/restic/data/.htpasswd")).toBe('1');
    expect(await sh('cat /mnt/data/portainer/data/admin_password')).toBe(secrets.portainer_admin_password);

    const second = await provision(['--json']);
    timings.secondRunS = Math.round(second.durationMs / 100) / 10;
    expect(second.exitCode, second.stderr.slice(-3000)).toBe(0);
    expect(changedCount(parseReport(second.stdout)), JSON.stringify(drifts(parseReport(second.stdout)))).toBe(0);
  });

  it('drift: n8n role deleted, Authelia config removed -> --check 2 naming each; apply repairs them, recreating nothing', async () => {
    await psql('pro-0kt-postgres', 'postgres', 'ALTER DATABASE n8n OWNER TO postgres; DROP ROLE n8n');
    await sh('rm /mnt/data/authelia/config/configuration.yml');
    const before = await started();

    const check = await provision(['--check', '--json']);
    expect(check.exitCode, check.stderr.slice(-2000)).toBe(2);
    const found = drifts(parseReport(check.stdout));
    expect(found).toContain('role n8n missing on pro-0kt-postgres: create (login, password from secret n8n_utils_db_password)');
    expect(found).toContain('database n8n on pro-0kt-postgres is owned by postgres, not n8n: change its owner');
    expect(found).toContain('create /mnt/data/authelia/config/configuration.yml (root:root 0600)');

    const t0 = performance.now();
    const repair = await provision(['--json']);
    timings.repairS = Math.round((performance.now() - t0) / 100) / 10;
    expect(repair.exitCode, repair.stderr.slice(-3000)).toBe(0);
    const report = parseReport(repair.stdout);
    const changed = report.hosts.flatMap((h) => h.resources).filter((r) => r.status === 'changed');
    const ids = changed.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['config /mnt/data/authelia/config/configuration.yml', 'databases pro-0kt-postgres']));
    // A stand-in that checks its config or role at start may have gone unhealthy: then its stack restarts it too.
    expect(ids.filter((id) => !id.startsWith('config ') && !id.startsWith('databases '))).toEqual(
      ids.includes('stack pro-0kt-stack') ? ['stack pro-0kt-stack'] : [],
    );
    expect(report.hosts.flatMap((h) => h.handlers)).toContainEqual({ id: 'restart pro-0kt-authelia', status: 'ran' });

    // Only Authelia restarted (n8n too if its stand-in lost its role), nothing recreated.
    const after = await started();
    for (const [name, v] of before) expect(after.get(name)?.split(' ')[0], name).toBe(v.split(' ')[0]);
    const moved = [...after].filter(([name, v]) => before.get(name) !== v).map(([name]) => name);
    expect(moved).toContain('pro-0kt-authelia');
    expect(moved.filter((n) => n !== 'pro-0kt-authelia' && n !== 'pro-0kt-n8n')).toEqual([]);
    expect(after.get('pro-0kt-authelia')!.split(' ')[0]).toBe(before.get('pro-0kt-authelia')!.split(' ')[0]);
    expect(await psql('pro-0kt-postgres', 'postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'n8n'")).toBe('n8n');
    const states = await containerStates((c) => target.exec(c));
    expect(states.get('pro-0kt-authelia')).toMatchObject({ state: 'running', health: 'healthy' });

    const clean = await provision(['--check']);
    expect(clean.exitCode, clean.stdout.slice(-2000)).toBe(0);
  });
});
