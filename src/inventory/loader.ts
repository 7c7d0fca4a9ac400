import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { cacheDir } from '../cache/dir.js';
import { InventoryError } from './errors.js';
import { readVarsFiles } from './group-vars.js';
import type { LoadOptions } from './parse.js';
import type { Inventory } from './types.js';
import { locatedOnDemand } from './positions.js';
import { readValidated, validatedKey, writeValidated } from './validated-cache.js';

// What identifies the validating code: bundle.mjs defines it as the content hash of the sources
// and the lockfile. Without it (tsc's dist/, tests from source) the validated cache is off.
declare const __HOSTKIT_BUILD_ID__: string | undefined;
const BUILD_ID = typeof __HOSTKIT_BUILD_ID__ === 'string' ? __HOSTKIT_BUILD_ID__ : undefined;

/**
 * Read, merge in order (later files override) and validate inventory files; throws
 * InventoryError. This module stays light (no zod, no yaml): an inventory validated before, of
 * exactly these files for these roles by this build, comes from the validated cache
 * (validated-cache.ts) without loading either; any other load is parse.ts's, loaded here on
 * demand, and its answer is recorded for the next run.
 */
export async function loadInventory(paths: string[], options: LoadOptions & { buildId?: string } = {}): Promise<Inventory> {
  if (paths.length === 0) throw new InventoryError([{ file: '(none)', line: 0, col: 0, path: '', message: 'no inventory file given' }]);
  const read = await Promise.all(
    paths.map(async (file) => {
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (err) {
        return { file, error: (err as Error).message };
      }
    }),
  );
  const unreadable = read.flatMap((r) =>
    'error' in r ? [{ file: r.file, line: 0, col: 0, path: '', message: `cannot read: ${r.error}` }] : [],
  );
  if (unreadable.length) throw new InventoryError(unreadable);
  const vars = await readVarsFiles(paths);
  if (vars.problems.length) throw new InventoryError(vars.problems);
  const texts = read as { file: string; text: string }[];

  const dir = validatedCacheDir(options);
  const key =
    dir &&
    validatedKey({
      build: dir.build,
      roles: options.roles?.map((r) => r.name),
      home: homedir(),
      inputs: texts,
      varsFiles: vars.files,
    });
  const hit = key ? await readValidated(dir.path, key) : undefined;
  if (hit) return withLazyLocate(hit, texts);

  const { validateInventory } = await import('./parse.js');
  const inventory = await validateInventory(texts, vars.files, options);
  if (key) writeValidated(dir.path, key, inventory);
  return inventory;
}

/**
 * Where validated inventories are kept, or undefined: no build id, caches off (`cacheDir: null`,
 * HOSTKIT_CACHE_DIR=off, HOSTKIT_YAML_CACHE=off), or a user role's own section schema in the run
 * (code of the user's, which no key here covers).
 */
function validatedCacheDir(options: LoadOptions & { buildId?: string }): { path: string; build: string } | undefined {
  const build = options.buildId ?? BUILD_ID;
  if (!build || options.cacheDir === null || process.env.HOSTKIT_YAML_CACHE === 'off') return undefined;
  if (Object.keys(options.roleSections ?? {}).length || options.roles?.some((r) => r.schema)) return undefined;
  const path = options.cacheDir ?? cacheDir();
  return path ? { path, build } : undefined;
}

/**
 * A cached inventory's positions (`locate`): its YAML parsed from the same texts, by parse.ts
 * loaded on demand. `locate` is synchronous, so positions.ts's `prepareLocate` (awaited where an
 * error is about to be positioned) loads it; until then `locate` gives no position rather than a
 * wrong one.
 */
function withLazyLocate(cached: Omit<Inventory, 'locate'>, texts: { file: string; text: string }[]): Inventory {
  let located: Inventory['locate'];
  const inventory: Inventory = { ...cached, locate: (path) => located?.(path) ?? { file: '', line: 0, col: 0, path: '', message: '' } };
  return locatedOnDemand(inventory, async () => {
    const { locatorOf } = await import('./parse.js');
    located ??= locatorOf(texts);
  });
}
