import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../inventory/index.js';
import { allServices, platformOf, type PlatformModel } from '../platform/model.js';
import { repoRoot } from './paths.js';
import { buildStandins, writeSandboxSecrets, writeStandinOverlay } from './standins.js';
import type { Target } from './targets.js';
import { ensureDbImages, realDbOverlay, type DbImages, type RealDb } from './db-images.js';
import { ensureNpmImage } from './npm-image.js';
import { addProxySecrets, ensurePebbleImage, realNpmOverlay } from './pebble.js';
import { appRepoOverlay } from './app-repos.js';

/**
 * The sandbox platform inventory: the real inventory.yaml, then an overlay replacing its hosts
 * by sandbox targets, then an overlay replacing each upstream image by its stand-in (archive
 * source) and the secrets file by generated ones. Stacks, names, networks, ports, data
 * directories, NPM connections and firewall stay the real declaration.
 */
export interface PlatformInventory {
  /** -i arguments, in order. */
  paths: string[];
  secretsFile: string;
  archive: string;
  /** Set when real databases replace some stand-ins (opts.realDbs). */
  dbImages?: DbImages;
}

export async function writePlatformInventory(
  targets: Target[],
  dir: string,
  opts: {
    base?: string[];
    extra?: Record<string, unknown>;
    secretsFile?: string;
    /** Services that run real PostgreSQL/MariaDB (sandbox/build-db-images.sh) instead of a stand-in. */
    realDbs?: readonly RealDb[];
    /** The real NPM's version (sandbox/build-npm-image.sh); default the inventory's pin. */
    npmVersion?: string;
    /** Keep the proxy section and run pebble (the local Let's Encrypt) for the proxy role. */
    proxy?: boolean;
  } = {},
): Promise<PlatformInventory> {
  const base = opts.base ?? [join(repoRoot(), 'inventory.yaml')];
  const inventory = await loadInventory(base);
  const platform = platformOf(inventory);
  const first = targets[0];
  if (!first) throw new Error('writePlatformInventory: no targets');
  const hosts = {
    all: {
      vars: { user: 'root', identity_file: first.keyFile, known_hosts: first.knownHosts, host_key_checking: 'strict' },
      hosts: {
        ...Object.fromEntries(inventory.hosts.map((h) => [h.name, null])),
        ...Object.fromEntries(targets.map((t) => [t.name, { address: t.address, port: t.port, protected: false }])),
      },
      children: {
        ...Object.fromEntries(
          Object.keys(inventory.groups)
            .filter((g) => g !== 'all')
            .map((g) => [g, null]),
        ),
        sandbox: { hosts: Object.fromEntries(targets.map((t) => [t.name, null])) },
      },
    },
  };
  const hostsPath = resolve(dir, 'hosts-overlay.yaml');
  await writeFile(hostsPath, `# Generated: sandbox targets replace the inventory's hosts.\n${stringify(hosts)}`);
  const secretsFile = opts.secretsFile ?? (await writeSandboxSecrets(platform, resolve(dir, 'secrets.yaml')));
  const standins = await buildStandins(platform);
  const standinPath = await writeStandinOverlay(resolve(dir, 'standins-overlay.yaml'), standins, secretsFile);
  const paths = [...base, hostsPath, standinPath];
  const apps = await writeAppRepoOverlay(platform, dir);
  if (apps) paths.push(apps);
  if (inventory.doc.npm) {
    // The real NPM replaces its stand-in (and, for the proxy role, pebble and the proxy secrets).
    const pinned = inventory.doc.stacks?.[inventory.doc.npm.stack]?.services[inventory.doc.npm.service]?.image ?? '';
    const npm = await ensureNpmImage(opts.npmVersion ?? pinned.split(':').pop()!);
    const pebble = opts.proxy ? await ensurePebbleImage() : undefined;
    if (pebble) await addProxySecrets(inventory.doc, secretsFile);
    const npmPath = resolve(dir, 'npm-overlay.yaml');
    await writeFile(
      npmPath,
      `# Generated: the real NPM (built from its source) replaces the stand-in.\n${stringify(realNpmOverlay(inventory.doc, npm, pebble))}`,
    );
    paths.push(npmPath);
  }
  let dbImages: DbImages | undefined;
  const realDbs = realDbsFor(platform, opts.realDbs);
  if (realDbs.length) {
    const dbPath = resolve(dir, 'real-db-overlay.yaml');
    dbImages = await writeRealDbOverlay(dbPath, realDbs);
    paths.push(dbPath);
  }
  if (opts.extra) {
    const extraPath = resolve(dir, 'extra-overlay.yaml');
    await writeFile(extraPath, `# Generated: test-specific changes.\n${stringify(opts.extra)}`);
    paths.push(extraPath);
  }
  return { paths, secretsFile, archive: standins.archive, ...(dbImages ? { dbImages } : {}) };
}

/**
 * The database servers that must be real: those asked for, plus every server whose databases and
 * roles the inventory declares (the stacks role creates them with the server's own client).
 */
export function realDbsFor(platform: PlatformModel, asked: readonly RealDb[] = []): RealDb[] {
  const out = [...asked];
  for (const svc of allServices(platform)) {
    if (svc.database && !out.some((d) => d.stack === svc.stack && d.service === svc.key))
      out.push({ stack: svc.stack, service: svc.key, engine: svc.database.engine });
  }
  return out;
}

async function writeRealDbOverlay(path: string, dbs: readonly RealDb[]): Promise<DbImages> {
  const images = await ensureDbImages();
  await writeFile(
    path,
    `# Generated: real databases from Debian's packages replace these stand-ins.\n${stringify(realDbOverlay(images, dbs))}`,
  );
  return images;
}

/**
 * For the demo and anyone running the real inventory on a sandbox server: when the inventory
 * declares stacks, the overlay swapping upstream images for stand-ins (and generated secrets).
 */
export async function standinOverlayFor(inventoryPaths: string[], dir: string): Promise<string[]> {
  const inventory = await loadInventory(inventoryPaths);
  if (!inventory.doc.stacks) return [];
  const platform = platformOf(inventory);
  const secretsFile = await writeSandboxSecrets(platform, resolve(dir, 'demo-secrets.yaml'));
  const standins = await writeStandinOverlay(resolve(dir, 'demo-standins.yaml'), await buildStandins(platform), secretsFile);
  const overlays = [standins];
  const apps = await writeAppRepoOverlay(platform, dir);
  if (apps) overlays.push(apps);
  const realDbs = realDbsFor(platform);
  if (realDbs.length) {
    overlays.push(resolve(dir, 'demo-real-dbs.yaml'));
    await writeRealDbOverlay(overlays.at(-1)!, realDbs);
  }
  if (!inventory.doc.proxy) return overlays;
  // The demo's NPM is a stand-in without an API: the proxy role is left out.
  const noProxy = resolve(dir, 'demo-no-proxy.yaml');
  await writeFile(noProxy, '# Generated: the demo NPM is a stand-in; no proxy role.\nproxy: null\n');
  return [...overlays, noProxy];
}

/** Local git repositories for the services built from git (their real remotes are never contacted). */
async function writeAppRepoOverlay(platform: ReturnType<typeof platformOf>, dir: string): Promise<string | undefined> {
  const overlay = await appRepoOverlay(platform, dir);
  if (!overlay) return undefined;
  const path = resolve(dir, 'app-repos-overlay.yaml');
  await writeFile(path, `# Generated: local git repositories stand in for the applications' remotes.\n${stringify(overlay)}`);
  return path;
}
