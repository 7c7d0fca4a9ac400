import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cacheDir } from '../cache/dir.js';
import { join } from 'node:path';
import { YAML_ID } from '../cache/yaml-id.js';

/**
 * Parsed inventory YAML, kept between runs: parsing the 42 KB inventory is most of a cron
 * check's start-up (~100 ms of CPU), a JSON.parse of its plain value ~2 ms. An entry is the
 * plain value of a CLEAN parse (no syntax error, duplicate key, cyclic alias or warning) of
 * exactly the text whose sha256 names it; it serves the happy path only: the YAML nodes that
 * give positions (file:line:col) are re-parsed from the real text whenever anything asks for one
 * (src/inventory/parse.ts). Any read, parse or check failure of an entry is a miss.
 */

/** What a parse depends on besides the text: the parser and how parse.ts calls it (bump on change). */
export const PARSER = `${YAML_ID}; parseDocument(merge, uniqueKeys: false) + toJS(maxAliasCount: 100); v1`;

export interface YamlCache {
  /** The cached plain value of `text` (a hit), else undefined. */
  get(text: string): { value: unknown } | undefined;
  /** Records the plain value of a clean parse of `text`, if JSON keeps it exactly. */
  put(text: string, value: unknown): void;
  /** Lookups answered and entries written, for tests and benchmarks. */
  readonly stats: { hits: number; misses: number; writes: number };
}

export { cacheDir } from '../cache/dir.js';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const entryPath = (dir: string, hash: string) => join(dir, 'yaml', `${hash}.json`);

/**
 * An entry file: a header line {parser, sha256 of the text, sha256 of the value's JSON}, then the
 * value's JSON. The value's hash catches a damaged or truncated file that still parses.
 */
function readEntry(data: string, hash: string): { body: string; value?: unknown } | undefined {
  const nl = data.indexOf('\n');
  if (nl < 0) return undefined;
  const header = JSON.parse(data.slice(0, nl)) as { parser?: unknown; sha256?: unknown; value?: unknown };
  const body = data.slice(nl + 1);
  if (header.parser !== PARSER || header.sha256 !== hash || header.value !== sha256(body)) return undefined;
  return { body, value: JSON.parse(body) }; // a body that does not parse is a miss here, not an error later
}

/**
 * A cache for the given texts, their entries read up front (in parallel) so that the parser's
 * lookups stay synchronous. `dir: null` (or HOSTKIT_YAML_CACHE=off) turns it off.
 */
export async function openYamlCache(texts: readonly string[], dir: string | null = defaultDir()): Promise<YamlCache | undefined> {
  if (dir === null) return undefined;
  // Every get() has a value of its own, as every parse of a file makes new objects: the one
  // read up front, then copies parsed from the JSON text (the same text given twice).
  const found = new Map<string, { body: string; value?: unknown }>();
  await Promise.all(
    [...new Set(texts.map(sha256))].map(async (hash) => {
      try {
        const entry = readEntry(await readFile(entryPath(dir, hash), 'utf8'), hash);
        if (entry) found.set(hash, entry);
      } catch {
        // Absent, unreadable or corrupt: a miss.
      }
    }),
  );
  const stats = { hits: 0, misses: 0, writes: 0 };
  return {
    stats,
    get: (text) => {
      const entry = found.get(sha256(text));
      if (!entry) {
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      if (!('value' in entry)) return { value: JSON.parse(entry.body) };
      const { value } = entry;
      delete entry.value;
      return { value };
    },
    put: (text, value) => {
      if (!isPlainJson(value)) return;
      const hash = sha256(text);
      const body = JSON.stringify(value);
      const file = entryPath(dir, hash);
      // Written whole under a temporary name, then renamed: a reader sees the old entry, the new one or none.
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        mkdirSync(join(dir, 'yaml'), { recursive: true, mode: 0o700 });
        writeFileSync(tmp, `${JSON.stringify({ parser: PARSER, sha256: hash, value: sha256(body) })}\n${body}`, { mode: 0o600 });
        renameSync(tmp, file);
        stats.writes++;
      } catch {
        // A cache that cannot be written only costs the next run a parse.
        rmSync(tmp, { force: true });
      }
    },
  };
}

function defaultDir(): string | null {
  return process.env.HOSTKIT_YAML_CACHE === 'off' ? null : (cacheDir() ?? null);
}

/**
 * True when JSON gives back exactly this value: a tree (no object reached twice, which YAML
 * aliases make and JSON would copy) of plain objects, arrays, strings, booleans, null and finite
 * numbers (not -0). Anything else is parsed again on every run.
 */
export function isPlainJson(value: unknown, seen = new Set<object>()): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== 'object') return false;
  if (seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    if (Object.keys(value).length !== value.length) return false; // holes or extra properties
    return value.every((v) => isPlainJson(v, seen));
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every((v) => isPlainJson(v, seen));
}
