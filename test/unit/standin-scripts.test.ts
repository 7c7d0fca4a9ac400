import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamImage } from '../../src/platform/upstream-images.js';
import { standinSpec } from '../../src/sandbox/standins.js';

/**
 * The strict stand-ins' scripts (sandbox/standin/) run with busybox, as in the images, on the spec
 * of a table row (src/platform/upstream-images.ts): the precondition check and the port resolution.
 */
const SCRIPTS = join(import.meta.dirname, '../../sandbox/standin');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostkit-standin-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `script` of sandbox/standin with the row's spec, paths under `dir` (the row's container paths prefixed). */
async function run(ref: string, script: string, env: Record<string, string> = {}, args: string[] = []) {
  const row = upstreamImage(ref)!;
  const rebase = (p: string) => join(dir, p);
  const spec = join(dir, `${script}.spec`);
  await writeFile(
    spec,
    standinSpec({ ...row, writable: row.writable.map(rebase), files: row.files.map((f) => ({ ...f, path: rebase(f.path) })) }),
  );
  const r = await execa('busybox', ['sh', join(SCRIPTS, script), ...args], {
    reject: false,
    env: { HS_SPEC: spec, HS_YAML_AWK: join(SCRIPTS, 'yaml.awk'), ...env },
    extendEnv: false,
  });
  return { code: r.exitCode, err: String(r.stderr), out: String(r.stdout) };
}

const AUTHELIA = (session: string) => `# rendered
server:
  address: 'tcp://:9091/'
authentication_backend:
  file:
    path: /config/users_database.yml
storage:
  local: { path: /config/db.sqlite3 }
notifier:
  filesystem: { filename: /config/notification.txt }
${session}
access_control:
  default_policy: deny
`;

describe('sandbox/standin/check.sh', () => {
  const config = () => join(dir, 'config/configuration.yml');
  it('Authelia: fails while configuration.yml is missing, passes with every section and a cookie domain', async () => {
    await mkdir(join(dir, 'config'), { recursive: true });
    await rm(config(), { force: true });
    let r = await run('authelia/authelia:4.38.17', 'check.sh');
    expect(r.code).toBe(1);
    expect(r.err).toContain('required file');
    expect(r.err).toContain('configuration.yml is missing');

    await writeFile(config(), AUTHELIA('session:\n  cookies:\n    - domain: 0kt.ru\n      authelia_url: https://auth.0kt.ru'));
    r = await run('authelia/authelia:4.38.17', 'check.sh');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('Authelia: a missing section, a session without a domain, tabs or a non-key line are refused', async () => {
    const cases: [string, string][] = [
      [AUTHELIA('').replace(/^notifier:[\s\S]*?(?=^access_control)/m, ''), 'missing top-level keys: notifier session'],
      [AUTHELIA('session:\n  cookies:\n    - name: authelia_session'), 'session names no cookie domain'],
      [AUTHELIA('session:\n\tdomain: 0kt.ru'), 'tab in indentation'],
      [`${AUTHELIA('session:\n  domain: 0kt.ru')}{{ not rendered }}\n`, 'not a top-level key'],
    ];
    for (const [text, why] of cases) {
      await writeFile(config(), text);
      const r = await run('authelia/authelia:4.38.17', 'check.sh');
      expect(r.code, why).toBe(1);
      expect(r.err).toContain(why);
    }
  });

  it('pgAdmin: required env and a writable /var/lib/pgadmin', async () => {
    await mkdir(join(dir, 'var/lib/pgadmin'), { recursive: true });
    let r = await run('dpage/pgadmin4:8.14', 'check.sh');
    expect(r.code).toBe(1);
    expect(r.err).toContain('required env PGADMIN_DEFAULT_EMAIL is not set');
    expect(r.err).toContain('required env PGADMIN_DEFAULT_PASSWORD is not set');
    r = await run('dpage/pgadmin4:8.14', 'check.sh', { PGADMIN_DEFAULT_EMAIL: 'a@b', PGADMIN_DEFAULT_PASSWORD: 'x' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('rest-server: an .htpasswd without a user line is refused', async () => {
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'data/.htpasswd'), '# no users\n');
    expect((await run('restic/rest-server:0.13.0', 'check.sh')).err).toContain('has no user:hash line');
    await writeFile(join(dir, 'data/.htpasswd'), 'backup:$2y$05$abc\n');
    expect((await run('restic/rest-server:0.13.0', 'check.sh')).code).toBe(0);
  });

  it('n8n: with DB_TYPE=postgresdb the declared database must be reachable (psql, declared credentials)', async () => {
    const env = { DB_TYPE: 'postgresdb', DB_POSTGRESDB_HOST: 'db', DB_POSTGRESDB_USER: 'n8n', PATH: '/usr/bin:/bin' };
    const r = await run('n8nio/n8n:1.72.1', 'check.sh', env);
    expect(r.code).toBe(1);
    expect(r.err).toContain('database env incomplete');
    expect((await run('n8nio/n8n:1.72.1', 'check.sh', { DB_TYPE: 'sqlite' })).err).not.toContain('database');
  });
});

describe('sandbox/standin/ports.sh', () => {
  it('the real image listens on its default port, or where its env or command line moves it', async () => {
    expect((await run('dpage/pgadmin4:8.14', 'ports.sh')).out.trim()).toBe('80');
    expect((await run('dpage/pgadmin4:8.14', 'ports.sh', { PGADMIN_LISTEN_PORT: '5050' })).out.trim()).toBe('5050');
    expect((await run('portainer/portainer-ce:2.21.5', 'ports.sh', {}, ['--bind=:9002', '--admin-password-file=/x'])).out.trim()).toBe(
      '9002',
    );
    expect(
      (await run('minio/minio:RELEASE.2024-12-18T13-15-44Z', 'ports.sh', {}, ['server', '/data', '--console-address', ':9001'])).out.trim(),
    ).toBe('9000 9001');
    expect((await run('gitea/gitea:1.22.6', 'ports.sh')).out.trim()).toBe('3000 22');
    expect((await run('gitea/gitea:1.22.6', 'ports.sh', { SSH_LISTEN_PORT: '2222' })).out.trim()).toBe('3000 2222');
  });
});
