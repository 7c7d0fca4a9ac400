import bcrypt from 'bcryptjs';
import { cachedText } from './store.js';

/**
 * bcrypt with a given salt, remembered on the control machine: a cost-10 hash takes ~65 ms of
 * bcryptjs (pure JavaScript) and the platform renders some on every run, audits included.
 * The entry is named by a digest of the salt and the value and holds only the hash, which the
 * host's file holds anyway; it lives in the user's own cache directory (0700), trusted as
 * ~/.ssh is.
 */
export function cachedBcrypt(value: string, salt: string): string {
  return cachedText(
    'bcrypt',
    `${salt}\0${value}`,
    () => bcrypt.hashSync(value, salt),
    (hit) => hit.startsWith(salt) && hit.length === 60,
  );
}
