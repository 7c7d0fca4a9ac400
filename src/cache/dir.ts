import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The control machine's cache of derived values ($XDG_CACHE_HOME/hostkit, else ~/.cache/hostkit):
 * only what can be recomputed from the inventory and secrets, so deleting it is always safe.
 * HOSTKIT_CACHE_DIR overrides it (tests); HOSTKIT_CACHE_DIR=off turns caching off.
 */
export function cacheDir(): string | undefined {
  const own = process.env.HOSTKIT_CACHE_DIR;
  if (own === 'off') return undefined;
  if (own) return own;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hostkit');
}
