import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import type { Inventory } from './types.js';
import { keepNewest } from '../cache/prune.js';

/**
 * Validated inventories, kept between runs. Loading zod, yaml and the schema and validating the
 * inventory is a third of a cron check's start-up (~50 ms of CPU of ~190 before the first SSH
 * byte), for an answer that depends only on the inputs named by the KEY below: the build of
 * hostkit that validates, the roles whose sections are validated, the home directory (`~/` in
 * key paths), and every inventory and group_vars/host_vars file's name and exact text. A hit is
 * that very answer; anything else (no entry, another key, a damaged file) is a miss and the full
 * load runs, as without the cache. Only answers that loaded without a problem are kept (an
 * inventory that fails is validated afresh every time, with its positioned problems).
 *
 * The entry is v8.serialize of the inventory (without its `locate` function), checked to come
 * back deep-equal before it is written; a header line names the key and the body's sha256.
 */

/** What a hit's key is made of, besides the texts: never the text of a file alone. */
export interface ValidatedKeyParts {
  /** The build of the validating code (bundle.mjs's content hash); no build: no cache. */
  build: string;
  /** Role names whose sections are validated, or undefined for every section. */
  roles?: readonly string[];
  home: string;
  inputs: readonly { file: string; text: string }[];
  varsFiles: readonly { file: string; kind: string; name: string; text: string }[];
}

export type CachedInventory = Omit<Inventory, 'locate'>;

const FORMAT = 'hostkit-validated-inventory v1';

export function validatedKey(parts: ValidatedKeyParts): string {
  const h = createHash('sha256');
  // Length-prefixed fields: no two different inputs give the same byte stream.
  const field = (s: string) => h.update(`${Buffer.byteLength(s)}:`).update(s);
  field(FORMAT);
  field(parts.build);
  field(parts.roles ? [...new Set(parts.roles)].sort().join(',') : '*');
  field(parts.home);
  field(String(parts.inputs.length));
  for (const i of parts.inputs) for (const s of [i.file, i.text]) field(s);
  field(String(parts.varsFiles.length));
  for (const v of parts.varsFiles) for (const s of [v.file, v.kind, v.name, v.text]) field(s);
  return h.digest('hex');
}

const entryPath = (dir: string, key: string) => join(dir, 'inventory', `${key}.v8`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The inventory recorded under `key`, or undefined (absent, unreadable, damaged: a miss). */
export async function readValidated(dir: string, key: string): Promise<CachedInventory | undefined> {
  try {
    const data = await readFile(entryPath(dir, key));
    const nl = data.indexOf(0x0a);
    if (nl < 0) return undefined;
    const header = JSON.parse(data.subarray(0, nl).toString('utf8')) as { format?: unknown; key?: unknown; body?: unknown };
    const body = data.subarray(nl + 1);
    if (header.format !== FORMAT || header.key !== key || header.body !== sha256(body)) return undefined;
    return deserialize(body) as CachedInventory;
  } catch {
    return undefined;
  }
}

/**
 * Records a loaded inventory under `key` when v8's serializer gives it back exactly (plain data:
 * a class instance or a function would come back as something else, and is never recorded).
 * Written whole under a temporary name, then renamed; a cache that cannot be written only costs
 * the next run the full load.
 */
export function writeValidated(dir: string, key: string, inventory: Inventory): boolean {
  const { locate: _locate, ...value } = inventory;
  let body: Buffer;
  try {
    body = serialize(value);
    if (!isDeepStrictEqual(deserialize(body), value)) return false;
  } catch {
    return false;
  }
  const file = entryPath(dir, key);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(join(dir, 'inventory'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ format: FORMAT, key, body: sha256(body) })}\n`), body]), {
      mode: 0o600,
    });
    renameSync(tmp, file);
    pruneValidated(dir);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/** Entries kept: every build, role set and edit of the inventory makes a new one (~35 KB each). */
export const KEEP_ENTRIES = 64;

/** Removes all but the KEEP_ENTRIES newest entries (a write only: a miss, never a hit, pays it). */
export function pruneValidated(dir: string): void {
  keepNewest(join(dir, 'inventory'), KEEP_ENTRIES, (n) => n.endsWith('.v8'));
}
