import { execa } from 'execa';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxPaths, type SandboxPaths } from './paths.js';

/**
 * Serialise read-modify-write of the state dir: two vitest workers start targets at once and
 * would otherwise lose each other's known_hosts lines (or both generate a key pair).
 * mkdir is atomic; a lock older than 30 s is left over from a killed process and is broken.
 */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 30_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`sandbox state lock ${lock} held for too long`);
      else await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Create the state dir and the ed25519 management key pair once; returns the paths. */
export async function ensureSandboxState(paths: SandboxPaths = sandboxPaths()): Promise<SandboxPaths> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (existsSync(paths.keyFile) && existsSync(`${paths.keyFile}.pub`) && existsSync(paths.knownHosts)) return paths;
  return withLock(paths.dir, async () => {
    if (!existsSync(paths.keyFile) || !existsSync(`${paths.keyFile}.pub`)) {
      await rm(paths.keyFile, { force: true });
      await rm(`${paths.keyFile}.pub`, { force: true });
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hostkit-sandbox', '-f', paths.keyFile], { stdin: 'ignore' });
    }
    await chmod(paths.keyFile, 0o600); // OpenSSH refuses a group/world-readable identity
    if (!existsSync(paths.knownHosts)) await writeFile(paths.knownHosts, '', { mode: 0o600 });
    return paths;
  });
}

export async function readPublicKey(paths: SandboxPaths = sandboxPaths()): Promise<string> {
  return (await readFile(`${paths.keyFile}.pub`, 'utf8')).trim();
}

/** OpenSSH's host pattern for a non-default port. */
export function knownHostsPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

async function editKnownHosts(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const dir = file.slice(0, file.lastIndexOf('/')) || '/';
  await withLock(dir, async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    const out = edit(text.split('\n').filter((l) => l.trim() !== ''));
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, out.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    await rename(tmp, file);
  });
}

/**
 * Record `[address]:port <type> <key>`, replacing any line for that host pattern: Docker reuses
 * host ports, so an older line there belongs to a removed container.
 */
export async function setKnownHost(file: string, address: string, port: number, hostKey: string): Promise<void> {
  const pattern = knownHostsPattern(address, port);
  const [type, key] = hostKey.trim().split(/\s+/);
  if (!type || !key) throw new Error(`not an OpenSSH public key: ${hostKey}`);
  await editKnownHosts(file, (lines) => [...lines.filter((l) => l.split(/\s+/)[0] !== pattern), `${pattern} ${type} ${key}`]);
}

/** Drop the line for address:port, only if it still holds this key (the port may be reused). */
export async function removeKnownHost(file: string, address: string, port: number, hostKey: string): Promise<void> {
  if (!existsSync(file)) return;
  const pattern = knownHostsPattern(address, port);
  const key = hostKey.trim().split(/\s+/)[1];
  await editKnownHosts(file, (lines) => lines.filter((l) => !(l.split(/\s+/)[0] === pattern && l.split(/\s+/)[2] === key)));
}
