// The control machine's caches stay bounded: every write keeps only the newest entries of its kind.
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepNewest } from '../../src/cache/prune.js';
import { cachedText, KEEP_PER_KIND } from '../../src/cache/store.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'hostkit-prune-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.HOSTKIT_CACHE_DIR;
});

describe('keepNewest', () => {
  it('removes all but the newest owned files, by mtime, and leaves the others alone', () => {
    const d = fresh();
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(d, `${i}.v8`), '');
      utimesSync(join(d, `${i}.v8`), 1000 + i, 1000 + i);
    }
    writeFileSync(join(d, 'other.tmp'), '');
    keepNewest(d, 2, (n) => n.endsWith('.v8'));
    expect(readdirSync(d).sort()).toEqual(['4.v8', '5.v8', 'other.tmp']);
  });

  it('a missing folder is nothing to prune', () => {
    expect(() => keepNewest(join(fresh(), 'absent'), 1)).not.toThrow();
  });
});

describe('cachedText', () => {
  it(`keeps at most ${KEEP_PER_KIND} entries of a kind, the newest`, () => {
    const d = fresh();
    process.env.HOSTKIT_CACHE_DIR = d;
    const kind = join(d, 'k');
    for (let i = 0; i < KEEP_PER_KIND + 3; i++) cachedText('k', `key ${i}`, () => `value ${i}`);
    expect(readdirSync(kind)).toHaveLength(KEEP_PER_KIND);
    // a pruned entry is only a miss: the value is computed again
    expect(cachedText('k', 'key 0', () => 'value 0')).toBe('value 0');
  });
});
