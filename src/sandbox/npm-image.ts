import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, sandboxDir } from './paths.js';

/**
 * A REAL Nginx Proxy Manager for the sandbox: sandbox/build-npm-image.sh builds it from NPM's own
 * source (the vendor folder) or, without it, names the pinned upstream image when Docker has it;
 * with neither it fails naming both. Saved into an archive for the inventory's archive source.
 */
export const NPM_VERSIONS = ['2.12.3', '2.15.1'] as const;
export type NpmVersionTag = (typeof NPM_VERSIONS)[number];
export const NPM_REF = (version: string) => `jc21/nginx-proxy-manager:${version}`;

export interface NpmImage {
  version: string;
  /** The image tag (hostkit-npm:<version>-<hash>, or the upstream reference). */
  tag: string;
  /** `docker save` of that tag. */
  archive: string;
}

const builds = new Map<string, Promise<NpmImage>>();

/** Builds (or reuses) the image of one NPM version and its archive; memoised per process. */
export function ensureNpmImage(version: string, dir = join(sandboxDir(), 'npm-images')): Promise<NpmImage> {
  let p = builds.get(version);
  if (!p) {
    p = buildNpmImage(version, dir);
    builds.set(version, p);
    p.catch(() => builds.delete(version));
  }
  return p;
}

async function buildNpmImage(version: string, dir: string): Promise<NpmImage> {
  const script = join(repoRoot(), 'sandbox', 'build-npm-image.sh');
  const r = await execa('bash', [script, version], { reject: false, stdin: 'ignore', cwd: repoRoot() });
  const tag = String(r.stdout).trim().split('\n').pop() ?? '';
  if (r.exitCode !== 0 || !tag) {
    const tail = String(r.stderr).trim().split('\n').slice(-20).join('\n');
    throw new Error(`sandbox/build-npm-image.sh ${version} failed (exit ${r.exitCode}):\n${tail}`);
  }
  await mkdir(dir, { recursive: true });
  const archive = join(dir, `${tag.replace(/[^A-Za-z0-9.-]+/g, '_')}.tar`);
  if (!existsSync(archive)) {
    const partial = `${archive}.${process.pid}.partial`;
    const s = await execa('docker', ['save', '-o', partial, tag], { reject: false, stdin: 'ignore' });
    if (s.exitCode !== 0) throw new Error(`docker save ${tag} failed (exit ${s.exitCode}): ${String(s.stderr).trim()}`);
    await rename(partial, archive); // atomic: a concurrent run never loads half an archive
  }
  return { version, tag, archive };
}
