import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, InventoryError, loadInventory, parseInventory } from '../../src/inventory/index.js';
import { allServices, LAYERS, platformOf } from '../../src/platform/model.js';
import { repoRoot } from '../../src/sandbox/paths.js';

const INVENTORY = join(repoRoot(), 'inventory.yaml');

/** A minimal valid platform; each case below breaks one thing in it. */
const BASE = `all:
  hosts:
    web1: { address: 10.0.0.1 }
data:
  root: /mnt/data
  directories:
    - { path: nginx }
    - { path: app }
npm:
  stack: infra
  service: npm
  networks:
    - { stack: infra, network: front }
    - { stack: app, network: app-net }
stacks:
  infra:
    layer: infrastructure
    networks:
      front: { name: infra_front }
    services:
      npm:
        container_name: proxy
        image: jc21/nginx-proxy-manager:2.12.3
        ports: ["0.0.0.0:80:80", "127.0.0.1:81:81"]
        volumes: ["nginx/data:/data"]
        networks: [front]
  app:
    layer: development
    networks:
      app-net: { name: app_app-net }
    services:
      web:
        container_name: app-web
        image: drupal:10.3.10-apache
        expose: [80]
        volumes: ["app/files:/files"]
        environment: { DB_PASSWORD: { secret: app_db }, PLAIN: "a$b" }
        networks: [app-net]
        depends_on: [db]
      db:
        container_name: app-db
        image: postgres:16.6
        networks: [app-net]
        healthcheck: { test: ["CMD-SHELL", "pg_isready"] }
`;

/** Replaces one exact snippet of BASE (fails loudly when the snippet is not there). */
function variant(from: string, to: string, base = BASE): string {
  if (!base.includes(from)) throw new Error(`snippet not in BASE: ${from}`);
  return base.replace(from, to);
}

function problems(text: string): string[] {
  try {
    parseInventory(text, 'inv.yaml');
  } catch (err) {
    if (err instanceof InventoryError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error('expected an InventoryError');
}

describe('the platform in inventory.yaml', () => {
  it('declares the seed: 7 stacks, 35 containers in 3 layers, NPM on all 7 networks', async () => {
    const p = platformOf(await loadInventory([INVENTORY]));
    expect(p.stacks.map((s) => `${s.layer}:${s.name}`)).toEqual([
      'infrastructure:pro-0kt-stack',
      'production:seller1-prod-stack',
      'development:seller1-dev-stack',
      'development:myshop-stack',
      'development:commerce-stack',
      'development:varbase-stack',
      'development:python-stack',
    ]);
    expect(allServices(p)).toHaveLength(35);
    expect(p.stacks.map((s) => s.services.length)).toEqual([16, 4, 4, 3, 3, 3, 2]);
    expect(p.stacks.flatMap((s) => s.networks.map((n) => n.name))).toEqual(
      p.stacks.map((s) => `${s.name}_${s.networks[0]!.key}`), // the seed's <stack>_<network> names
    );
    expect(p.npm?.networks).toHaveLength(7);
    expect(LAYERS).toEqual(['infrastructure', 'production', 'development']);
  });

  it('publishes only NPM: 80/443 public, 81 on loopback; every service restarts always', async () => {
    const services = allServices(platformOf(await loadInventory([INVENTORY])));
    const published = services.flatMap((s) => s.ports.map((p) => `${s.containerName} ${p.hostIp}:${p.hostPort}`));
    expect(published).toEqual(['pro-0kt-nginx 0.0.0.0:80', 'pro-0kt-nginx 0.0.0.0:443', 'pro-0kt-nginx 127.0.0.1:81']);
    expect(services.every((s) => s.restart === 'always')).toBe(true);
    expect(services.every((s) => /:[^:]+$/.test(s.image) && !s.image.endsWith(':latest'))).toBe(true);
  });

  it('keeps every volume under a declared /mnt/data directory (or a socket)', async () => {
    const inv = await loadInventory([INVENTORY]);
    const dirs = new Set(inv.doc.data!.directories.map((d) => d.path));
    for (const s of allServices(platformOf(inv))) {
      for (const v of s.volumes) {
        if (v.dataDir) expect(dirs.has(v.dataDir), `${s.containerName} ${v.source}`).toBe(true);
        else expect(v.source).toBe('/var/run/docker.sock');
      }
    }
  });
});

describe('platform validation: a clear error at the line to edit, before any host is touched', () => {
  it('accepts the base platform', () => {
    expect(() => parseInventory(BASE, 'inv.yaml')).not.toThrow();
  });

  it('duplicate container name', () => {
    expect(problems(variant('container_name: app-db', 'container_name: app-web'))).toEqual([
      'inv.yaml:41:25: stacks.app.services.db.container_name: duplicate container name "app-web" (first given at line 33, column 25)',
    ]);
  });

  it('host port published twice (0.0.0.0 overlaps any address)', () => {
    expect(problems(variant('"127.0.0.1:81:81"', '"127.0.0.1:80:80"'))).toEqual([
      'inv.yaml:24:34: stacks.infra.services.npm.ports[1]: host port 80/tcp is published twice (first at line 24, column 17)',
    ]);
  });

  it('a public binding outside the proxy', () => {
    expect(problems(variant('expose: [80]', 'ports: ["0.0.0.0:8080:80"]'))).toEqual([
      'inv.yaml:35:17: stacks.app.services.web.ports[0]: "0.0.0.0:8080:80" publishes on a public address; only the proxy (npm: infra/npm) may. Bind to 127.0.0.1 and use an SSH tunnel, or use expose:',
    ]);
  });

  it('service on an undeclared network', () => {
    expect(problems(variant('networks: [app-net]\n        depends_on', 'networks: [app-net, backend]\n        depends_on'))).toEqual([
      'inv.yaml:38:29: stacks.app.services.web.networks[1]: network "backend" is not declared in stacks.app.networks (declared: app-net)',
    ]);
  });

  it('unknown image source, and a source missing its path', () => {
    const text = `${BASE}images:\n  postgres:16.6: { source: ftp }\n  drupal:10.3.10-apache: { source: archive }\n`;
    expect(problems(text)).toEqual([
      'inv.yaml:46:28: images["postgres:16.6"].source: expected one of "pull", "archive", "build", got "ftp"',
    ]);
    expect(
      problems(`${BASE}images:\n  drupal:10.3.10-apache: { source: archive }\n  redis:7.4.1: { source: build, context: x }\n`),
    ).toEqual([
      'inv.yaml:46:36: images["drupal:10.3.10-apache"].source: source "archive" needs "archive: <path of a docker save tarball>"',
      'inv.yaml:47:3: images["redis:7.4.1"]: image "redis:7.4.1" is not used by any service',
    ]);
  });

  it('unpinned image, unknown depends_on, volume outside the data directories, strict keys', () => {
    const text = variant(
      'image: postgres:16.6',
      'image: postgres:latest\n        volumes: ["pg/data:/var/lib/postgresql/data"]\n        restart_policy: always',
      variant('depends_on: [db]', 'depends_on: [db, cache]'),
    );
    expect(problems(text)).toEqual([
      'inv.yaml:42:16: stacks.app.services.db.image: expected an image reference with a pinned tag, e.g. "postgres:16.6" (not "latest"), got "postgres:latest"',
      'inv.yaml:44:9: stacks.app.services.db.restart_policy: unknown key "restart_policy"; allowed keys: container_name, image, description, command, ports, expose, environment, volumes, networks, depends_on, healthcheck, restart, domains, files, database, build, installer',
    ]);
    const semantic = variant(
      'depends_on: [db]',
      'depends_on: [db, cache]',
      variant('volumes: ["app/files:/files"]', 'volumes: ["pg/files:/files"]'),
    );
    expect(problems(semantic)).toEqual([
      'inv.yaml:36:19: stacks.app.services.web.volumes[0]: "pg/files" is not under a declared data directory (data.directories: nginx, app)',
      'inv.yaml:39:26: stacks.app.services.web.depends_on[1]: depends_on "cache": no such service in stack app (services: web, db)',
    ]);
  });

  it('NPM connections naming an unknown stack or network', () => {
    expect(
      problems(variant('- { stack: app, network: app-net }', '- { stack: app, network: other }\n    - { stack: nope, network: x }')),
    ).toEqual([
      'inv.yaml:14:30: npm.networks[1].network: stack app declares no network "other" (declared: app-net)',
      'inv.yaml:15:16: npm.networks[2].stack: no stack "nope" in stacks',
    ]);
  });

  it('an overlay is positioned in the file that set the value', async () => {
    const { parseInventorySources } = await import('../../src/inventory/index.js');
    try {
      parseInventorySources([
        { file: 'base.yaml', text: BASE },
        { file: 'overlay.yaml', text: 'stacks:\n  app:\n    services:\n      db:\n        container_name: proxy\n' },
      ]);
      expect.unreachable();
    } catch (err) {
      expect((err as InventoryError).problems.map(formatProblem)).toEqual([
        'overlay.yaml:5:25: stacks.app.services.db.container_name: duplicate container name "proxy" (first given at base.yaml line 22, column 25)',
      ]);
    }
  });
});
