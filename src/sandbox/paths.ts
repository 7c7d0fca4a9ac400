import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Environment variable that moves the sandbox state dir (key pair, known_hosts, inventory). */
export const SANDBOX_DIR_ENV = 'HOSTKIT_SANDBOX_DIR';

let cachedRoot: string | undefined;

/**
 * The package root: the nearest ancestor holding package.json. Found by walking up because this
 * module runs from src/sandbox under vitest and from dist/sandbox when compiled.
 */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cachedRoot = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The sandbox state dir: $HOSTKIT_SANDBOX_DIR, else <repo>/.sandbox (git-ignored). */
export function sandboxDir(): string {
  const fromEnv = process.env[SANDBOX_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : join(repoRoot(), '.sandbox');
}

export interface SandboxPaths {
  dir: string;
  /** Private half of the management key; the public half is `${keyFile}.pub`. */
  keyFile: string;
  knownHosts: string;
}

export function sandboxPaths(dir = sandboxDir()): SandboxPaths {
  return { dir, keyFile: join(dir, 'id_ed25519'), knownHosts: join(dir, 'known_hosts') };
}
