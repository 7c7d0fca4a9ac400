import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { cacheDir } from './dir.js';

/**
 * bcrypt with a given salt, remembered on the control machine: a cost-10 hash takes ~65 ms of
 * bcryptjs (pure JavaScript) and the platform renders some on every run, audits included.
 * The entry is named by a digest of the salt and the value and holds only the hash, which the
 * host's file holds anyway; it lives in the user's own cache directory (0700), trusted as
 * ~/.ssh is. Any read or write problem is a miss: the hash is computed as without a cache.
 */
export function cachedBcrypt(value: string, salt: string): string {
  const dir = cacheDir();
  const file = dir && join(dir, 'bcrypt', createHash('sha256').update(`${salt}\0${value}`).digest('hex'));
  if (file) {
    try {
      const hit = readFileSync(file, 'utf8');
      if (hit.startsWith(salt) && hit.length === 60) return hit;
    } catch {
      // a miss
    }
  }
  const hash = bcrypt.hashSync(value, salt);
  if (file) {
    try {
      mkdirSync(join(dir, 'bcrypt'), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, hash, { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // an unwritable cache only costs the next run the hash again
    }
  }
  return hash;
}
