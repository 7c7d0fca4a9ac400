/**
 * OpenSSH known_hosts: parse, match a host's key, append (accept-new). Keys are compared as raw
 * SSH wire blobs (what ssh2's hostVerifier receives), never by fingerprint.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
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
 * OpenSSH semantics: a revoked key is refused wherever it appears; otherwise any matching
 * entry with the same blob trusts the key; a host known only with other keys has "changed".
 * (A host known only under other key *types* also counts as changed: we ask ssh2 to prefer the
 * known types, so a server that no longer offers them deserves a human look.)
 */
export function checkHostKey(entries: readonly KnownHostEntry[], address: string, port: number, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const token = hostToken(address, port);
  const known = entries.filter((e) => e.marker === undefined && entryMatchesHost(e.hosts, token));
  const same = known.find((e) => e.key.equals(key));
  if (same) return { status: 'trusted', entry: same };
  return known.length > 0 ? { status: 'changed', entries: known } : { status: 'unknown' };
}

/** Key types the host is already known under, to put first in the host-key algorithm offer. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], address: string, port: number): string[] {
  const token = hostToken(address, port);
  const types = entries.filter((e) => e.marker === undefined && entryMatchesHost(e.hosts, token)).map((e) => e.keyType);
  return [...new Set(types)];
}

export function formatKnownHostsLine(address: string, port: number, key: Buffer): string {
  const type = blobKeyType(key);
  if (!type) throw new Error('not an SSH public key blob');
  return `${hostToken(address, port)} ${type} ${key.toString('base64')}`;
}

/** Missing file = no entries (the accept-new case). */
export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

// Hosts connecting in parallel may append to the same file: serialize per path in-process.
const appendQueues = new Map<string, Promise<unknown>>();

/** Appends `[address]:port type base64` (creating ~/.ssh 0700 and the file 0600 if needed). */
export function appendKnownHost(file: string, address: string, port: number, key: Buffer): Promise<void> {
  const line = formatKnownHostsLine(address, port, key);
  const prev = appendQueues.get(file) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      let prefix = '';
      try {
        const { size } = await stat(file);
        if (size > 0) {
          const text = await readFile(file);
          if (text[text.length - 1] !== 0x0a) prefix = '\n'; // don't glue onto an unterminated line
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
    });
  appendQueues.set(file, next);
  return next;
}
