import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseInventory } from '../../src/inventory/index.js';
import { findService, platformOf } from '../../src/platform/model.js';
import { renderFiles } from '../../src/platform/files.js';
import { preparePlatform, PlatformPrepareError } from '../../src/platform/prepare.js';
import { secretUses } from '../../src/platform/secrets.js';
import { stackResources } from '../../src/roles/stacks.js';
import { handlersOf } from '../../src/engine/resource.js';
import { repoRoot } from '../../src/sandbox/paths.js';
import { AUTHELIA_REQUIRED, AUTHELIA_SECRET_ENV } from './authelia-keys.js';

// as-recorded.yaml drops the services' git builds: a unit test never fetches the declared remotes.
const inventory = () => loadInventory([join(repoRoot(), 'inventory.yaml'), join(repoRoot(), 'test/fixtures/platform/as-recorded.yaml')]);
const fakeSecrets = async () => {
  const p = platformOf(await inventory());
  return new Map([...secretUses(p).keys()].map((n) => [n, `value-of-${n}`]));
};
const rendered = async () => {
  const p = platformOf(await inventory());
  return { p, ...renderFiles(p, await fakeSecrets()) };
};
const file = (files: { path: string; content: string }[], path: string) => files.find((f) => f.path === path)!.content;

describe("Authelia's files rendered from the inventory", () => {
  it("configuration.yml parses and has every key Authelia's validator requires; the secrets it needs are in the environment", async () => {
    const { p, files, problems } = await rendered();
    expect(problems).toEqual([]);
    const doc = parse(file(files, '/mnt/data/authelia/config/configuration.yml')) as Record<string, unknown>;
    for (const key of AUTHELIA_REQUIRED) expect(doc, key.join('.')).toHaveProperty(key);
    expect(doc).toMatchObject({
      session: { cookies: [{ domain: '0kt.ru', authelia_url: 'https://auth.0kt.ru' }], redis: { host: 'pro-0kt-redis', port: 6379 } },
      access_control: { default_policy: 'deny', rules: [{ domain: '*.0kt.ru', policy: 'two_factor' }] },
      authentication_backend: { file: { path: '/config/users_database.yml' }, password_reset: { disable: true } },
      storage: { local: { path: '/config/db.sqlite3' } },
    });
    // The redis host is a container of the same network, and the secrets come from the environment.
    const authelia = findService(p, 'pro-0kt-stack', 'authelia')!;
    expect(findService(p, 'pro-0kt-stack', 'redis')!.containerName).toBe('pro-0kt-redis');
    expect(authelia.dependsOn).toContain('redis');
    expect(authelia.environment.filter((e) => 'secret' in e).map((e) => e.name)).toEqual(expect.arrayContaining(AUTHELIA_SECRET_ENV));
    expect(authelia.volumes.map((v) => `${v.source}:${v.target}`)).toContain('/mnt/data/authelia/config:/config');
  });

  it('the users database holds a bcrypt hash of the secret (not the secret), the same on every render', async () => {
    const a = await rendered();
    const b = await rendered();
    const users = parse(file(a.files, '/mnt/data/authelia/config/users_database.yml')) as {
      users: Record<string, { password: string; email: string }>;
    };
    const hash = users.users.admin!.password;
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(bcrypt.compareSync('value-of-authelia_user_admin_password', hash)).toBe(true);
    expect(file(a.files, '/mnt/data/authelia/config/users_database.yml')).not.toContain('value-of-');
    expect(b.files).toEqual(a.files);
    expect(a.hashes).toContain(hash); // registered for redaction like the secrets
  });

  it("rest-server's .htpasswd (bcrypt, which rest-server accepts) and Portainer's plain admin password file", async () => {
    const { files } = await rendered();
    const htpasswd = file(files, '/mnt/data/restic/data/.htpasswd');
    const line = htpasswd.split('\n').find((l) => l.startsWith('backup:'))!;
    expect(bcrypt.compareSync('value-of-restic_rest_password', line.slice('backup:'.length))).toBe(true);
    expect(file(files, '/mnt/data/portainer/data/admin_password')).toBe('value-of-portainer_admin_password');
    expect(files.every((f) => f.mode === '0600' && f.owner === 'root')).toBe(true);
  });
});

describe('files and databases in the stacks role', () => {
  it('each file notifies its own container restart; databases come after the server files and before the stack is brought up', async () => {
    const p = platformOf(await inventory());
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-appconf-'));
    const secretsFile = join(dir, 'secrets.yaml');
    await writeFile(secretsFile, [...secretUses(p).keys()].map((n) => `${n}: value-of-${n}`).join('\n'));
    const resources = stackResources(await preparePlatform(p, { secretsFile }));
    const ids = resources.map((r) => r.id);
    const conf = resources.find((r) => r.id === 'config /mnt/data/authelia/config/configuration.yml')!;
    expect(conf.handlers.map((h) => h.id)).toEqual(['restart pro-0kt-authelia']);
    expect(resources.find((r) => r.id === 'config /mnt/data/restic/data/.htpasswd')!.handlers.map((h) => h.id)).toEqual([
      'restart pro-0kt-restic',
    ]);
    expect(handlersOf(resources).map((h) => h.id)).toEqual([
      'restart pro-0kt-authelia',
      'restart pro-0kt-portainer',
      'restart pro-0kt-restic',
    ]);
    for (const [db, stack] of [
      ['pro-0kt-postgres', 'pro-0kt-stack'],
      ['seller1-prod-db', 'seller1-prod-stack'],
      ['seller1-dev-db', 'seller1-dev-stack'],
    ] as const) {
      const at = ids.indexOf(`databases ${db}`);
      expect(at, db).toBeGreaterThan(ids.indexOf(`compose ${stack}`));
      expect(at, db).toBeLessThan(ids.indexOf(`stack ${stack}`));
      expect(resources[ids.indexOf(`stack ${stack}`)]!.requires).toContain(`databases ${db}`);
    }
  });

  it('a missing template or a field the template needs stops the run in prepare, naming the file', async () => {
    const text = `all: { hosts: { h: { address: 127.0.0.1 } } }
stacks:
  s:
    layer: infrastructure
    networks: { n: { name: s_n } }
    services:
      a:
        container_name: s-a
        image: busybox:1.36
        networks: [n]
        files:
          - { path: a/conf.yml, template: nope/missing.hbs }
          - { path: a/users.yml, template: authelia/users_database.yml.hbs, vars: { users: [{ name: x }] } }
`;
    const inv = parseInventory(text, 'inv.yaml');
    const err = await preparePlatform(platformOf(inv)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformPrepareError);
    expect((err as Error).message).toMatch(/file \/mnt\/data\/a\/conf.yml of s\/a: .*ENOENT/);
    expect((err as Error).message).toMatch(
      /file \/mnt\/data\/a\/users.yml of s\/a: template authelia\/users_database.yml.hbs: json: the value is not defined/,
    );
  });
});
