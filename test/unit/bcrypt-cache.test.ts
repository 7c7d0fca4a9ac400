// The control machine's bcrypt cache: a hit is the hash bcrypt computes, a bad entry is a miss.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedBcrypt } from '../../src/cache/bcrypt.js';

const SALT = `$2b$10$${bcrypt.encodeBase64(Buffer.alloc(16, 7), 16)}`;
let dir: string;
const saved = process.env.HOSTKIT_CACHE_DIR;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hostkit-cache-'));
  process.env.HOSTKIT_CACHE_DIR = dir;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved === undefined) delete process.env.HOSTKIT_CACHE_DIR;
  else process.env.HOSTKIT_CACHE_DIR = saved;
});
const entries = () => readdirSync(join(dir, 'bcrypt')).map((f) => join(dir, 'bcrypt', f));

describe('cachedBcrypt', () => {
  it("computes bcrypt's own hash, stores it, and answers the same from the cache", () => {
    const first = cachedBcrypt('s3cret', SALT);
    expect(first).toBe(bcrypt.hashSync('s3cret', SALT));
    expect(bcrypt.compareSync('s3cret', first)).toBe(true);
    expect(entries()).toHaveLength(1);
    expect(readFileSync(entries()[0]!, 'utf8')).toBe(first);
    expect(cachedBcrypt('s3cret', SALT)).toBe(first);
  });

  it('another value or salt is another entry; the entry name reveals neither', () => {
    cachedBcrypt('a', SALT);
    cachedBcrypt('b', SALT);
    expect(entries()).toHaveLength(2);
    for (const f of entries()) expect(f).toMatch(/\/[0-9a-f]{64}$/);
  });

  it('a corrupt or foreign entry is a miss: the real hash is computed and stored again', () => {
    cachedBcrypt('s3cret', SALT);
    const [file] = entries();
    writeFileSync(file!, 'garbage');
    expect(cachedBcrypt('s3cret', SALT)).toBe(bcrypt.hashSync('s3cret', SALT));
    writeFileSync(file!, bcrypt.hashSync('other', `$2b$10$${bcrypt.encodeBase64(Buffer.alloc(16, 9), 16)}`));
    expect(cachedBcrypt('s3cret', SALT)).toBe(bcrypt.hashSync('s3cret', SALT));
  });

  it('HOSTKIT_CACHE_DIR=off: no cache, the same hash', () => {
    process.env.HOSTKIT_CACHE_DIR = 'off';
    expect(cachedBcrypt('s3cret', SALT)).toBe(bcrypt.hashSync('s3cret', SALT));
    expect(readdirSync(dir)).toEqual([]);
  });
});
