import { createServer, type Server } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target } from './harness.js';
import { execa } from 'execa';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { buildStandins, writeSandboxSecrets } from '../../src/sandbox/standins.js';
import { loadInventory } from '../../src/inventory/index.js';
import { platformOf } from '../../src/platform/model.js';
import { containerStates, runScript } from './platform-harness.js';

/**
 * Issue 5, acceptance 6: bad platforms fail with a clear error before any host is touched
 * (a TCP listener standing in for the host counts connections: there must be none).
 * Acceptance 4: a production stack that never becomes healthy stops the run before the
 * development layer, naming the failing container with its last log lines (real target).
 */
describe('errors before any host is touched', () => {
  let server: Server;
  let connections = 0;
  let dir: string;
  let hostOverlay: string;
  const repoInventory = join(import.meta.dirname, '../../inventory.yaml');
  const EMPTY_ARCHIVE = join(tmpdir(), `hostkit-empty-${process.pid}.tar`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-preflight-'));
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // A docker save archive holding no image at all (manifest.json only).
    await writeFile(join(dir, 'manifest.json'), '[]');
    await execa('tar', ['-C', dir, '-cf', EMPTY_ARCHIVE, 'manifest.json']);
    hostOverlay = join(dir, 'hosts.yaml');
    await writeFile(
      hostOverlay,
      `all:\n  hosts:\n    leruepecie: null\n    listener: { address: 127.0.0.1, port: ${port} }\n  children:\n    production: null\n`,
    );
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs provision with the real inventory plus an overlay; returns its error output. */
  const provisionWith = async (overlay: string, extraArgs: string[] = []) => {
    const path = join(dir, `overlay-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, overlay);
    const r = await runScript('scripts/provision.mjs', ['--dry-run', ...extraArgs], [repoInventory, hostOverlay, path], 120_000);
    expect(r.exitCode, r.stdout).toBe(1);
    expect(connections, 'a bad platform must not reach any host').toBe(0);
    return r.stderr;
  };

  it('a missing secret: every missing one listed', async () => {
    const secrets = join(dir, 'secrets.yaml');
    await writeFile(secrets, 'postgres_shared_password: x1234567\n');
    const err = await provisionWith(`secrets: { file: ${secrets} }\n`);
    expect(err).toMatch(new RegExp(`error: ${secrets}: 2\\d missing secrets:\\n  authelia_jwt_secret \\(pro-0kt-stack/authelia `));
    expect(err).toContain(
      '  seller1_prod_db_password (seller1-prod-stack/web DRUPAL_DB_PASSWORD, seller1-prod-stack/db POSTGRES_PASSWORD, seller1-prod-stack/n8n DB_POSTGRESDB_PASSWORD)',
    );
    expect(err).not.toContain('postgres_shared_password (');
    expect(err).not.toContain('x1234567');
  });

  it('an unknown image source', async () => {
    expect(await provisionWith('images:\n  "redis:7.4.1": { source: registry }\n')).toMatch(
      /overlay-\w+\.yaml:2:28: images\["redis:7.4.1"\]\.source: expected one of "pull", "archive", "build", got "registry"/,
    );
  });

  it('a duplicate container name', async () => {
    expect(await provisionWith('stacks:\n  commerce-stack:\n    services:\n      redis:\n        container_name: myshop-redis\n')).toMatch(
      /overlay-\w+\.yaml:5:25: stacks\.commerce-stack\.services\.redis\.container_name: duplicate container name "myshop-redis" \(first given at \S+\/inventory\.yaml line \d+, column 25\)/,
    );
  });

  it('a port published twice', async () => {
    expect(await provisionWith('stacks:\n  pro-0kt-stack:\n    services:\n      homarr:\n        ports: ["127.0.0.1:81:7575"]\n')).toMatch(
      /overlay-\w+\.yaml:5:17: stacks\.pro-0kt-stack\.services\.homarr\.ports\[0\]: host port 81\/tcp is published twice \(first at \S+\/inventory\.yaml line \d+, column \d+\)/,
    );
  });

  it('a service on an undeclared network', async () => {
    expect(
      await provisionWith(
        'stacks:\n  seller1-prod-stack:\n    services:\n      web:\n        networks: [seller1-prod-network, pro-0kt-network]\n',
      ),
    ).toMatch(
      /overlay-\w+\.yaml:5:42: stacks\.seller1-prod-stack\.services\.web\.networks\[1\]: network "pro-0kt-network" is not declared in stacks\.seller1-prod-stack\.networks \(declared: seller1-prod-network\)/,
    );
  });

  it('a missing image archive, or one without the image', async () => {
    const secrets = await writeSandboxSecrets(platformOf(await loadInventory([repoInventory])), join(dir, 'all-secrets.yaml'));
    const err = await provisionWith(
      `images:\n  "redis:7.4.1": { source: archive, archive: /nonexistent/images.tar }\n  "postgres:16.6": { source: archive, archive: ${EMPTY_ARCHIVE} }\n`,
      ['--secrets', secrets],
    );
    expect(err).toContain('error: images (2 problems):\n  image postgres:16.6: archive');
    expect(err).toContain('image redis:7.4.1: archive /nonexistent/images.tar: no such file');
  });
});

describe('layer gating on a real target: a production stack that never becomes healthy', () => {
  let target: Target;
  let dir: string;
  let inv: PlatformInventory;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-gating-'));
    target = await startTarget();
    // Docker from the target's own apt (Debian 13): this test is about the stacks role alone.
    const install = await target.exec(
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null 2>&1 && docker compose version',
    );
    if (install.exitCode !== 0) throw new Error(`installing docker in the target failed: ${install.stderr}`);
    // The build source, offline: a context FROM the python stand-in that the archive loads first.
    const standins = await buildStandins(platformOf(await loadInventory([join(import.meta.dirname, '../../inventory.yaml')])));
    const context = join(dir, 'python-app');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), `FROM ${standins.tags.get('python:3.12.8-slim')}\nLABEL app=flask-demo\n`);
    inv = await writePlatformInventory([target], dir, {
      extra: {
        images: { 'python:3.12.8-slim': { source: 'build', context, archive: null, archive_tag: null } },
        compose: { wait_timeout: 60 },
        stacks: {
          'seller1-prod-stack': {
            services: {
              web: {
                healthcheck: {
                  test: ['CMD-SHELL', 'echo failing on purpose >&2; exit 1'],
                  interval: '2s',
                  retries: 2,
                  start_period: '0s',
                  start_interval: '1s',
                },
              },
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('4. stops before the development layer and reports the failing container with its log tail', async () => {
    // The data layout first, as provision does: the strict stand-ins refuse mounts their uid cannot write.
    const data = await runScript('roles/data.mjs', [], inv.paths);
    expect(data.exitCode, data.stderr.slice(-2000)).toBe(0);
    const run = await runScript('roles/stacks.mjs', ['--json'], inv.paths);
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout) as { hosts: { error?: string; resources: { id: string; status: string; error?: string }[] }[] };
    const resources = report.hosts[0]!.resources;
    const failed = resources.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.id)).toEqual(['stack seller1-prod-stack']);
    expect(failed[0]!.error).toMatch(/docker compose up failed: .*seller1-prod-web.*unhealthy/);
    expect(failed[0]!.error).toMatch(/failing containers: seller1-prod-web \(running, unhealthy\)/);
    expect(failed[0]!.error).toMatch(
      /last log lines of seller1-prod-web:\n(\s+.*\n)*\s+stand-in for drupal:10\.3\.10-apache listening on: 80/,
    );
    // The infrastructure layer came up; nothing of the development layer was attempted.
    expect(resources.find((r) => r.id === 'stack pro-0kt-stack')?.status).toBe('changed');
    const dev = resources.filter((r) => /seller1-dev-stack|myshop-stack|commerce-stack|varbase-stack|python-stack/.test(r.id));
    expect(dev.length).toBe(20);
    expect(dev.every((r) => r.status === 'skipped')).toBe(true);
    const states = await containerStates((c) => target.exec(c));
    expect([...states.keys()].filter((n) => /^(seller1-dev|myshop|commerce|varbase|python)-/.test(n))).toEqual([]);
    expect(states.get('pro-0kt-nginx')?.health).toBe('healthy');
    // Images come first: the build-source image was built on the host from the context.
    expect(resources.find((r) => r.id === 'image python:3.12.8-slim (build)')?.status).toBe('changed');
    expect(
      (
        await target.exec(
          `docker image inspect -f '{{index .Config.Labels "app"}} {{index .Config.Labels "hostkit.context-hash"}}' python:3.12.8-slim`,
        )
      ).stdout,
    ).toMatch(/^flask-demo [0-9a-f]{16}$/);
    // The human output names it too.
    const human = await runScript('roles/stacks.mjs', [], inv.paths);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/failing containers: seller1-prod-web \(running, unhealthy\)/);
    expect(human.stdout).toMatch(/skipped\s+stack seller1-dev-stack/);
    expect(human.stdout).toMatch(/ok\s+image python:3.12.8-slim \(build\)/); // built once, not again
  });
});
