import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import type { InventoryDocument } from '../inventory/schema.js';
import { NPM_REF, type NpmImage } from './npm-image.js';
import { repoRoot, sandboxDir } from './paths.js';

/**
 * The sandbox's local Let's Encrypt (sandbox/build-pebble-image.sh): Debian's pebble as one more
 * service of the proxy's stack (container "pebble", on the proxy's network), its DNS answering
 * every name with its gateway (the target, where NPM publishes 80), so HTTP-01 validation really
 * fetches NPM's webroot. Its CA is written to the proxy's data directory, where NPM's certbot
 * reads it (REQUESTS_CA_BUNDLE); NPM's LE_SERVER points at it.
 */
export const PEBBLE_CONTAINER = 'pebble';
/** Inside the NPM container: the CA pebble's ACME listener uses (shared through NPM's /data volume). */
export const PEBBLE_CA_IN_NPM = '/data/pebble/ca.pem';

let building: Promise<{ tag: string; archive: string }> | undefined;

export function ensurePebbleImage(dir = join(sandboxDir(), 'npm-images')): Promise<{ tag: string; archive: string }> {
  building ??= (async () => {
    const r = await execa('bash', [join(repoRoot(), 'sandbox', 'build-pebble-image.sh')], { reject: false, stdin: 'ignore' });
    const tag = String(r.stdout).trim().split('\n').pop() ?? '';
    if (r.exitCode !== 0 || !tag.startsWith('hostkit-pebble:')) {
      throw new Error(
        `sandbox/build-pebble-image.sh failed (exit ${r.exitCode}):\n${String(r.stderr).trim().split('\n').slice(-20).join('\n')}`,
      );
    }
    await mkdir(dir, { recursive: true });
    const archive = join(dir, `${tag.replace(/[^A-Za-z0-9.-]+/g, '_')}.tar`);
    if (!existsSync(archive)) {
      const partial = `${archive}.${process.pid}.partial`;
      await execa('docker', ['save', '-o', partial, tag], { stdin: 'ignore' });
      await rename(partial, archive);
    }
    return { tag, archive };
  })().catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

/**
 * The overlay for a real NPM (and, with `pebble`, the local Let's Encrypt and the proxy role's
 * secrets): NPM's image from `npm` replaces the stand-in of the pinned reference; for >= 2.13 the
 * first admin comes from INITIAL_ADMIN_*; without `pebble` the proxy section is dropped (the
 * platform tests that do not exercise the proxy role).
 */
export function realNpmOverlay(doc: InventoryDocument, npm: NpmImage, pebble?: { tag: string; archive: string }): Record<string, unknown> {
  const { stack, service } = doc.npm!;
  const pinned = doc.stacks![stack]!.services[service]!.image;
  const ref = NPM_REF(npm.version);
  const env: Record<string, unknown> = {};
  if (pebble) {
    env.LE_SERVER = `https://${PEBBLE_CONTAINER}:14000/dir`;
    env.REQUESTS_CA_BUNDLE = PEBBLE_CA_IN_NPM;
  }
  const [major, minor] = npm.version.split('.').map(Number) as [number, number];
  if (pebble && doc.proxy && (major > 2 || minor >= 13)) {
    const admin = doc.proxy.admin;
    env.INITIAL_ADMIN_EMAIL = admin.email;
    env.INITIAL_ADMIN_PASSWORD = admin.password;
  }
  const npmData = doc.stacks![stack]!.services[service]!.volumes.find((v) => v.endsWith(':/data'))!.split(':')[0]!;
  const network = doc.stacks![stack]!.services[service]!.networks[0]!;
  const services: Record<string, unknown> = { [service]: { image: ref, environment: env } };
  if (pebble) {
    services[PEBBLE_CONTAINER] = {
      container_name: PEBBLE_CONTAINER,
      image: pebble.tag,
      description: "Sandbox only: local Let's Encrypt (pebble)",
      volumes: [`${npmData}/pebble:/var/lib/pebble`],
      networks: [network],
    };
  }
  return {
    ...(pebble ? {} : { proxy: null }),
    stacks: { [stack]: { services } },
    images: {
      ...(pinned !== ref ? { [pinned]: null } : {}),
      [ref]: { source: 'archive', archive: npm.archive, archive_tag: npm.tag },
      ...(pebble ? { [pebble.tag]: { source: 'archive', archive: pebble.archive } } : {}),
    },
  };
}

/** Adds a random value for each proxy secret the secrets file lacks (the sandbox's operator secrets). */
export async function addProxySecrets(doc: InventoryDocument, file: string): Promise<void> {
  const admin = doc.proxy?.admin;
  if (!admin) return;
  const names = [admin.password.secret, ...(typeof admin.email === 'string' ? [] : [admin.email.secret])];
  const values = (parse(await readFile(file, 'utf8')) as Record<string, string> | null) ?? {};
  let changed = false;
  for (const n of names) {
    if (values[n]) continue;
    values[n] = randomBytes(18).toString('base64url');
    changed = true;
  }
  if (changed)
    await writeFile(file, `# Generated sandbox secrets (random); never used for a real server.\n${stringify(values)}`, { mode: 0o600 });
}
