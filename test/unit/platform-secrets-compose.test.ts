import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInventory, parseInventory } from '../../src/inventory/index.js';
import { platformOf, runImage, secretVariable } from '../../src/platform/model.js';
import { loadSecrets, parseEnvFile, redactedEnvDiff, renderEnvFile, secretUses, SecretsError } from '../../src/platform/secrets.js';
import { renderCompose } from '../../src/platform/compose.js';
import { clearSecrets, redact, redactResource, registerSecrets } from '../../src/engine/redact.js';
import { repoRoot } from '../../src/sandbox/paths.js';

const platform = async () => platformOf(await loadInventory([join(repoRoot(), 'inventory.yaml')]));
const tmp = () => mkdtemp(join(tmpdir(), 'hostkit-secrets-'));

describe('secrets: a file outside git, every missing one listed before anything is touched', () => {
  it('lists every missing secret with where it is used, values never printed', async () => {
    const p = await platform();
    const dir = await tmp();
    const file = join(dir, 'secrets.yaml');
    const all = [...secretUses(p).keys()];
    await writeFile(
      file,
      all
        .filter((n) => n !== 'seller1_prod_db_password' && n !== 'jupyter_token')
        .map((n) => `${n}: v-${n}-value`)
        .join('\n') + '\njupyter_token: ""\n',
    );
    const err = await loadSecrets(p, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsError);
    expect((err as Error).message).toBe(
      `${file}: 2 missing secrets:\n` +
        '  jupyter_token (pro-0kt-stack/jupyter JUPYTER_TOKEN)\n' +
        '  seller1_prod_db_password (seller1-prod-stack/web DRUPAL_DB_PASSWORD, seller1-prod-stack/db POSTGRES_PASSWORD, seller1-prod-stack/n8n DB_POSTGRESDB_PASSWORD)',
    );
    expect((err as Error).message).not.toContain('-value');
  });

  it('a missing file names every secret it must define; no file named at all too', async () => {
    const p = await platform();
    const err = (await loadSecrets(p, '/nonexistent/secrets.yaml').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /^cannot read the secrets file \/nonexistent\/secrets.yaml \(ENOENT\); it must define:\n {2}authelia_jwt_secret \(pro-0kt-stack\/authelia/,
    );
    expect(err.message.split('\n')).toHaveLength(1 + secretUses(p).size);
    expect(((await loadSecrets(p, undefined).catch((e: unknown) => e)) as Error).message).toMatch(
      /names no secrets file \(secrets.file or --secrets FILE\)/,
    );
  });

  it('refuses values a .env cannot carry', async () => {
    const p = await platform();
    const file = join(await tmp(), 's.yaml');
    await writeFile(
      file,
      [...secretUses(p).keys()].map((n) => `${n}: ${n === 'minio_root_password' ? `"it's a secret"` : 'x1234567'}`).join('\n'),
    );
    expect(((await loadSecrets(p, file).catch((e: unknown) => e)) as Error).message).toMatch(
      /single quote or a line break:\n {2}minio_root_password/,
    );
  });

  it('renders a .env per stack with only its secrets; the diff names variables, never values', async () => {
    const p = await platform();
    const prod = p.stacks.find((s) => s.name === 'seller1-prod-stack')!;
    const secrets = new Map([...secretUses(p).keys()].map((n) => [n, `value-of-${n}`]));
    const env = renderEnvFile(prod, secrets);
    expect([...parseEnvFile(env)]).toEqual([
      ['HOSTKIT_SECRET_SELLER1_PROD_DB_PASSWORD', 'value-of-seller1_prod_db_password'],
      ['HOSTKIT_SECRET_SELLER1_PROD_N8N_ENCRYPTION_KEY', 'value-of-seller1_prod_n8n_encryption_key'],
    ]);
    const changed = env.replace('value-of-seller1_prod_db_password', 'new-value');
    const diff = redactedEnvDiff('/x/.env', env, changed);
    expect(diff).toBe(
      '--- /x/.env\n+++ /x/.env (desired)\n-HOSTKIT_SECRET_SELLER1_PROD_DB_PASSWORD=*** (old value)\n+HOSTKIT_SECRET_SELLER1_PROD_DB_PASSWORD=*** (new value)\n',
    );
    expect(redactedEnvDiff('/x/.env', undefined, env)).not.toContain('value-of');
  });
});

describe('redaction: registered secret values never reach a report', () => {
  afterEach(() => clearSecrets());
  it('replaces every registered value, longest first, in summaries, diffs, errors and notes', () => {
    registerSecrets(['s3cr3t99-value', 's3cr3t99', 'ab']);
    expect(redact('password=s3cr3t99-value; other=s3cr3t99; short ab stays')).toBe('password=***; other=***; short ab stays');
    const r = redactResource({
      id: 'x',
      status: 'failed',
      durationMs: 1,
      changes: [{ summary: 'set s3cr3t99', diff: '-s3cr3t99-value\n' }],
      error: 'stderr: bad password s3cr3t99',
      notes: ['saw s3cr3t99'],
    });
    expect(JSON.stringify(r)).not.toContain('s3cr3t99');
  });
});

describe('compose files: rendered from templates/compose/stack.hbs, parsed back', () => {
  it('renders every stack as compose YAML saying what the inventory says', async () => {
    const p = await platform();
    for (const stack of p.stacks) {
      const doc = parse(renderCompose(stack)) as {
        name: string;
        services: Record<
          string,
          {
            container_name: string;
            image: string;
            restart: string;
            networks: string[];
            environment?: Record<string, string>;
            ports?: string[];
            depends_on?: Record<string, { condition: string }>;
            healthcheck?: { test: string[] };
          }
        >;
        networks: Record<string, { name: string }>;
      };
      expect(doc.name).toBe(stack.name);
      expect(Object.keys(doc.services)).toEqual(stack.services.map((s) => s.key));
      for (const svc of stack.services) {
        const got = doc.services[svc.key]!;
        expect(got.container_name).toBe(svc.containerName);
        // A service built from git runs its application image (FROM svc.image), else svc.image itself.
        expect(got.image).toBe(runImage(svc));
        expect(got.image).toBe(svc.build ? `hostkit-app/${svc.containerName}:git` : svc.image);
        expect(got.restart).toBe('always');
        expect(got.networks).toEqual(svc.networks);
        for (const e of svc.environment) {
          expect(got.environment?.[e.name]).toBe(
            'secret' in e ? `\${${secretVariable(e.secret)}:?secret ${e.secret} is missing from .env}` : e.value.replace(/\$/g, '$$$$'),
          );
        }
      }
      expect(Object.values(doc.networks).map((n) => n.name)).toEqual(stack.networks.map((n) => n.name));
    }
  });

  it('escapes literal dollars, gates depends_on on health, publishes with the declared binding', () => {
    const inv = parseInventory(
      `all: { hosts: { h: { address: 10.0.0.1 } } }
npm: { stack: s, service: proxy }
stacks:
  s:
    layer: development
    networks: { n: { name: s_n } }
    services:
      proxy: { container_name: px, image: "a:1", ports: ["127.0.0.1:81:81"], networks: [n], depends_on: [db, cache], environment: { X: "a$b", N: 5 } }
      db: { container_name: db1, image: "b:1", networks: [n], healthcheck: { test: "true" } }
      cache: { container_name: cache1, image: "c:1", networks: [n] }
`,
      'inv.yaml',
    );
    const doc = parse(renderCompose(platformOf(inv).stacks[0]!)) as { services: Record<string, Record<string, unknown>> };
    expect(doc.services.proxy!.environment).toEqual({ X: 'a$$b', N: '5' });
    expect(doc.services.proxy!.ports).toEqual(['127.0.0.1:81:81/tcp']);
    expect(doc.services.proxy!.depends_on).toEqual({ db: { condition: 'service_healthy' }, cache: { condition: 'service_started' } });
    expect(doc.services.db!.healthcheck).toEqual({
      test: ['CMD-SHELL', 'true'],
      interval: '30s',
      timeout: '5s',
      retries: 3,
      start_period: '30s',
      start_interval: '2s',
    });
  });
});
