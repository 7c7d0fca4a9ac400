/**
 * OpenSSH known_hosts: parse, match a host's key, append (accept-new). Keys are compared as raw
 * SSH wire blobs (what ssh2's hostVerifier receives), never by fingerprint.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { type BigIntStats, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { fileStamp, stampOf } from './file-stamp.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'trusted'; entry: KnownHostEntry }
  /** No usable (non-revoked, non-CA) entry names the host. */
  | { status: 'unknown' }
  /** The host is known, but with different key(s); `entries` are the known ones. */
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

/** The name OpenSSH files a host under: `address` on port 22, `[address]:port` otherwise. */
export function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** Unparseable lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked' && fields[0] !== '@cert-authority') return;
      marker = fields.shift() as KnownHostEntry['marker'];
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    const key = Buffer.from(b64, 'base64');
    // The blob starts with its own type name; a mismatch means a corrupt line.
    if (key.length === 0 || blobKeyType(key) !== keyType) return;
    entries.push({ line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return entries;
}

/** Reads the key type out of an SSH public key blob (a uint32-length-prefixed string). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's `SHA256:<base64 without padding>`. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Does the entry's host field name `token` (see hostToken)? Honours hashes, globs and `!negation`. */
export function entryMatchesHost(hosts: string, token: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(token)) {
      if (negated) return false; // a negated match overrides any positive one
      matched = true;
    }
  }
  return matched;
}

/**
 * The entries of one file, indexed once: a fleet checks every host against the same file, so
 * plain host names are looked up in a map instead of matching every line's patterns per host
 * (N hosts x N lines was quadratic). Hashed, glob and negated entries are still matched in turn.
 */
interface KnownHostsIndex {
  /** Entries whose patterns are all plain names, under each (lower-cased) name. */
  plain: Map<string, KnownHostEntry[]>;
  /** Entries that need matching: hashed, globs, negations. */
  patterned: KnownHostEntry[];
  revoked: Map<string, KnownHostEntry>;
}

const indexes = new WeakMap<readonly KnownHostEntry[], KnownHostsIndex>();

function indexOf(entries: readonly KnownHostEntry[]): KnownHostsIndex {
  let index = indexes.get(entries);
  if (index) return index;
  index = { plain: new Map(), patterned: [], revoked: new Map() };
  for (const e of entries) {
    if (e.marker === '@revoked') {
      const k = e.key.toString('base64');
      if (!index.revoked.has(k)) index.revoked.set(k, e);
      continue;
    }
    if (e.marker !== undefined) continue;
    const patterns = e.hosts.split(',');
    if (e.hosts.startsWith('|') || patterns.some((p) => /[*?!]/.test(p))) {
      index.patterned.push(e);
      continue;
    }
    for (const p of new Set(patterns.map((x) => x.toLowerCase()))) {
      const list = index.plain.get(p);
      if (list) list.push(e);
      else index.plain.set(p, [e]);
    }
  }
  indexes.set(entries, index);
  return index;
}

/** The usable (unmarked) entries naming the host, in file order. */
function entriesFor(entries: readonly KnownHostEntry[], token: string): KnownHostEntry[] {
  const index = indexOf(entries);
  const plain = index.plain.get(token.toLowerCase()) ?? [];
  const patterned = index.patterned.filter((e) => entryMatchesHost(e.hosts, token));
  return patterned.length === 0 ? plain : [...plain, ...patterned].sort((a, b) => a.line - b.line);
}

/**
 * OpenSSH semantics: a revoked key is refused wherever it appears; otherwise any matching
 * entry with the same blob trusts the key; a host known only with other keys has "changed".
 * (A host known only under other key *types* also counts as changed: we ask ssh2 to prefer the
 * known types, so a server that no longer offers them deserves a human look.)
 */
export function checkHostKey(entries: readonly KnownHostEntry[], address: string, port: number, key: Buffer): HostKeyVerdict {
  const revoked = indexOf(entries).revoked.get(key.toString('base64'));
  if (revoked) return { status: 'revoked', entry: revoked };
  const known = entriesFor(entries, hostToken(address, port));
  const same = known.find((e) => e.key.equals(key));
  if (same) return { status: 'trusted', entry: same };
  return known.length > 0 ? { status: 'changed', entries: known } : { status: 'unknown' };
}

/** Key types the host is already known under, to put first in the host-key algorithm offer. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], address: string, port: number): string[] {
  return [...new Set(entriesFor(entries, hostToken(address, port)).map((e) => e.keyType))];
}

export function formatKnownHostsLine(address: string, port: number, key: Buffer): string {
  const type = blobKeyType(key);
  if (!type) throw new Error('not an SSH public key blob');
  return `${hostToken(address, port)} ${type} ${key.toString('base64')}`;
}

// One parse per file per process while the file is unchanged (same inode, size and mtime): every
// host of a run reads the same known_hosts. An append (accept-new) changes size and mtime; our own
// appends extend the cached parse instead of having the next host read the whole file again.
interface ParsedFile {
  entries: KnownHostEntry[];
  /** Newlines in the text: the next appended line's number follows from it. */
  newlines: number;
}
/** `done`: the read finished, so it holds the file as of `stamp` (not a later append). */
const parsed = new Map<string, { stamp: string; file: Promise<ParsedFile>; done: boolean }>();

const countNewlines = (text: string) => text.split('\n').length - 1;

/** Missing file = no entries (the accept-new case). The result is shared: do not mutate it. */
export async function readKnownHosts(file: string): Promise<readonly KnownHostEntry[]> {
  let stamp: string;
  try {
    stamp = fileStamp(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const cached = parsed.get(file);
  if (cached?.stamp === stamp) return (await cached.file).entries;
  // Read at once (a small file, and then the caller's TCP connect goes out before anything else
  // the run does meanwhile: src/engine/host-batch.ts buildRoles); the promise is what the hosts share.
  const read = (async () => {
    try {
      const text = readFileSync(file, 'utf8');
      return { entries: parseKnownHosts(text), newlines: countNewlines(text) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], newlines: 0 };
      throw err;
    }
  })();
  remember(file, stamp, read);
  return (await read).entries;
}

function remember(file: string, stamp: string, read: Promise<ParsedFile>): void {
  const entry = { stamp, file: read, done: false };
  parsed.set(file, entry);
  // A failed read is not remembered: the next host tries again.
  read.then(
    () => {
      entry.done = true;
    },
    () => parsed.get(file)?.file === read && parsed.delete(file),
  );
}

/** `base` with the lines of `text` (appended to it) parsed and numbered after its own. */
function extended(base: ParsedFile, text: string): ParsedFile {
  const added = parseKnownHosts(text).map((e) => ({ ...e, line: e.line + base.newlines }));
  return { entries: [...base.entries, ...added], newlines: base.newlines + countNewlines(text) };
}

// Hosts connecting in parallel may append to the same file: in-process, appends are serialized per
// path, and the lines that arrive while one write runs go together in the next (one write for a
// burst of new hosts, not one read-check-write each in turn).
const appendQueues = new Map<string, Promise<unknown>>();
const nextWrite = new Map<string, { lines: string[]; written: Promise<void> }>();

/** Appends `[address]:port type base64` (creating ~/.ssh 0700 and the file 0600 if needed). */
export function appendKnownHost(file: string, address: string, port: number, key: Buffer): Promise<void> {
  const line = formatKnownHostsLine(address, port, key);
  const waiting = nextWrite.get(file);
  if (waiting) {
    waiting.lines.push(line);
    return waiting.written;
  }
  const batch = { lines: [line], written: Promise.resolve() };
  nextWrite.set(file, batch);
  batch.written = (appendQueues.get(file) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      nextWrite.delete(file); // lines from now on go in the write after this one
      return appendLines(file, batch.lines);
    });
  appendQueues.set(file, batch.written);
  return batch.written;
}

async function appendLines(file: string, lines: string[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let before: BigIntStats | undefined;
  let prefix = '';
  try {
    before = statSync(file, { bigint: true });
    if (before.size > 0n) {
      // Only the last byte: don't glue onto an unterminated line.
      const fh = await open(file, 'r');
      try {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, Number(before.size) - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const text = `${prefix}${lines.map((l) => `${l}\n`).join('')}`;
  // A parse of exactly the file as it is now (a read still running might see the append too).
  const cached = before ? parsed.get(file) : undefined;
  const base = cached?.done && before && cached.stamp === stampOf(before) ? cached : undefined;
  await appendFile(file, text, { mode: 0o600 });
  // The file is what the cache (or nothing) held plus exactly these bytes: extend the cache. If
  // anyone else wrote in between, the sizes disagree and the next host reads the file again.
  if (before && !base) return;
  let after: BigIntStats;
  try {
    after = statSync(file, { bigint: true });
  } catch {
    return;
  }
  const size = (before?.size ?? 0n) + BigInt(Buffer.byteLength(text));
  if (after.size !== size || (before && after.ino !== before.ino)) return;
  const start = base ? base.file : Promise.resolve({ entries: [], newlines: 0 });
  remember(
    file,
    stampOf(after),
    start.then((b) => extended(b, text)),
  );
}
