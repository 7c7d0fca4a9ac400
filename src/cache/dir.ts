import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The control machine's cache of derived values: parsed inventory YAML, bcrypt hashes,
 * precompiled templates. $XDG_CACHE_HOME/hostkit, else ~/.cache/hostkit (a relative XDG path is
 * ignored, as the spec says). Only what can be recomputed from the inventory, the templates and
 * the secrets: deleting it is always safe. HOSTKIT_CACHE_DIR overrides it; HOSTKIT_CACHE_DIR=off
 * turns every cache off.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env.HOSTKIT_CACHE_DIR;
  if (own === 'off') return undefined;
  if (own) return own;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'hostkit');
}
