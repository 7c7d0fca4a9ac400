import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './dir.js';
import { keepNewest } from './prune.js';

/**
 * Entries kept per kind: every edit of a template, compose file or inventory text makes a new one
 * and nothing else removes the old (3,500 compose-parsed entries, 15 MB, after a few weeks of
 * tests here); the whole platform needs ~100 of a kind.
 */
export const KEEP_PER_KIND = 512;

/**
 * A value derived from `key` (the whole input it depends on, versions included), remembered in
 * the control machine's cache under `kind`/<sha256 of key>. `valid` vets an entry before use;
 * any read, vetting or write problem is a miss, and the value is computed as without a cache.
 */
export function cachedText(kind: string, key: string, compute: () => string, valid: (text: string) => boolean = () => true): string {
  const dir = cacheDir();
  const file = dir && join(dir, kind, createHash('sha256').update(key).digest('hex'));
  if (file) {
    try {
      const hit = readFileSync(file, 'utf8');
      if (valid(hit)) return hit;
    } catch {
      // a miss
    }
  }
  const text = compute();
  if (file) {
    try {
      mkdirSync(join(dir, kind), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, file);
      keepNewest(join(dir, kind), KEEP_PER_KIND, (n) => !n.endsWith('.tmp'));
    } catch {
      // an unwritable cache only costs the next run the work again
    }
  }
  return text;
}
