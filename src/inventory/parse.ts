import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Pair,
  parseDocument,
  Scalar,
  visit,
  type Node,
  YAMLMap,
} from 'yaml';
import { z } from 'zod';
import { isIgnoredAnsibleVar, resolveSpellings } from './ansible-vars.js';
import { didYouMean, formatPath, InventoryError, showValue, type Problem } from './errors.js';
import { expectedErrorMap } from './zod-messages.js';
import type { VarsFile } from './group-vars.js';
import { looksLikeIni, parseIni } from './ini.js';
import { expandHostPattern } from './ranges.js';
import { hostVarsSchema, type Group, type RoleSections } from './document.schema.js';
import type { HostVars, InventoryDocument } from './schema.js';
import { inventorySchemaFor, type ComposedSchema, type SchemaRole } from './slices.js';
import type { HostConfig, Inventory } from './types.js';
import { openYamlCache, type YamlCache } from './yaml-cache.js';

type Path = (string | number)[];

/**
 * One parsed file: its plain value feeds the merge, its YAML nodes give the positions. With the
 * value from the cache (yaml-cache.ts) the nodes are parsed from the text when first asked for.
 */
interface Source {
  file: string;
  text: string;
  readonly doc: Document.Parsed;
  readonly lc: LineCounter;
  value: unknown;
}

type Nodes = { doc: Document.Parsed; lc: LineCounter };

function lazySource(file: string, text: string, value: unknown, nodes: () => Nodes): Source {
  let parsed: Nodes | undefined;
  const get = () => (parsed ??= nodes());
  return {
    file,
    text,
    value,
    get doc() {
      return get().doc;
    },
    get lc() {
      return get().lc;
    },
  };
}

export interface LoadOptions {
  /** Schemas of the user roles' sections (`roles.<name>`) to validate too: the roles a script runs. */
  roleSections?: RoleSections;
  /**
   * The roles the run reads the inventory for: only their sections are validated (slices.ts), the
   * others are accepted as written. Absent: every section.
   */
  roles?: readonly SchemaRole[];
  /**
   * The parsed-YAML cache's folder (yaml-cache.ts); default $XDG_CACHE_HOME/hostkit or
   * ~/.cache/hostkit (HOSTKIT_YAML_CACHE=off turns it off); null: no cache.
   */
  cacheDir?: string | null;
}

/**
 * The full load of inventory files already read (loader.ts reads them and answers from the
 * validated cache when it can): the schema of the run's roles, YAML (parses cached), merge,
 * validation; throws InventoryError.
 */
export async function validateInventory(
  texts: { file: string; text: string }[],
  varsFiles: VarsFile[],
  options: LoadOptions = {},
): Promise<Inventory> {
  const schema = inventorySchemaFor(options.roles, options.roleSections);
  const cache = await openYamlCache(
    [...texts, ...varsFiles].map((f) => f.text),
    options.cacheDir,
  );
  return parseInventoryWith(texts, varsFiles, await schema, cache);
}

/**
 * `locate` of an inventory loaded from these texts, its YAML parsed afresh: for an inventory the
 * validated cache gave (no YAML nodes), asked only when an error needs a position.
 */
export function locatorOf(texts: { file: string; text: string }[]): NonNullable<Inventory['locate']> {
  const where = new Locator(texts.map(({ file, text }) => parseSource(file, text).source));
  return (path) => where.value(path);
}

/** group_vars/ and host_vars/ files: a map of host variables per group or host name. */
const varsFilesSchema = z
  .object({
    group_vars: z.record(z.string(), hostVarsSchema.nullable()).optional(),
    host_vars: z.record(z.string(), hostVarsSchema.nullable()).optional(),
  })
  .strict();
type VarsFiles = z.infer<typeof varsFilesSchema>;

/**
 * Several inventory texts merged in order, as `-i a.yaml -i b.ini` does (YAML or Ansible INI,
 * see ini.ts), plus the group_vars/host_vars files next to them, validated by `composed`.
 */
export function parseInventoryWith(
  inputs: { file: string; text: string }[],
  varsFiles: VarsFile[],
  composed: ComposedSchema,
  cache?: YamlCache,
): Inventory {
  const problems: Problem[] = [];
  const sources: Source[] = [];
  const varsSources: Source[] = [];
  let fatal = false;
  for (const { file, text } of inputs) {
    const parsed = parseSource(file, text, true, cache);
    problems.push(...parsed.problems);
    fatal ||= parsed.fatal;
    sources.push(parsed.source);
  }
  for (const vf of varsFiles) {
    const parsed = parseSource(vf.file, vf.text, false, cache);
    problems.push(...parsed.problems);
    fatal ||= parsed.fatal;
    // An empty file sets nothing (and must not delete what an earlier file of the folder set).
    if (parsed.source.value != null) varsSources.push(rootedAt(parsed.source, vf.kind, vf.name));
  }
  // Schema errors on a half-parsed document would only echo the syntax error.
  if (fatal) throw new InventoryError(problems);
  const allInputs = [...inputs, ...varsFiles];

  const merged = withoutExtensions(sources.reduce<unknown>((acc, s) => mergeValues(acc, s.value), undefined));
  const where = new Locator(sources);
  const mergedVars = varsSources.reduce<unknown>((acc, s) => mergeValues(acc, s.value), undefined) ?? {};
  const whereVars = new Locator(varsSources);
  const warnings = [
    ...dropIgnoredAnsibleVars(isPlainObject(merged) ? merged.all : undefined, ['all'], where, true),
    ...(isPlainObject(mergedVars)
      ? Object.entries(mergedVars).flatMap(([kind, byName]) =>
          isPlainObject(byName)
            ? Object.entries(byName).flatMap(([name, vars]) => dropIgnoredAnsibleVars(vars, [kind, name], whereVars, false))
            : [],
        )
      : []),
  ];
  const ctx = { error: expectedErrorMap, jitless: jitlessFor(allInputs) };
  const result = composed.schema.safeParse(merged, ctx);
  const varsResult = varsFilesSchema.safeParse(mergedVars, ctx);
  if (!result.success || !varsResult.success) {
    for (const { issue, path } of flattenIssues(result.error?.issues ?? [], []))
      problems.push(...issueProblems(issue, path, merged, where));
    for (const { issue, path } of flattenIssues(varsResult.error?.issues ?? [], []))
      problems.push(...issueProblems(issue, path, mergedVars, whereVars));
    throw new InventoryError(sortProblems(problems, allInputs));
  }
  const resolved = resolveHosts(result.data, where, varsResult.data, whereVars);
  problems.push(...resolved.problems);
  if (sources.length > 1) problems.push(...protectionLowered(sources, resolved, where));
  const at = { value: (p: Path) => where.value(p), key: (p: Path) => where.key(p) };
  for (const check of composed.checks) problems.push(...check(result.data, at));
  if (problems.length) throw new InventoryError(sortProblems(problems, allInputs));
  return {
    sources: inputs.map((i) => i.file),
    hosts: resolved.hosts,
    groups: resolved.groups,
    doc: result.data,
    warnings: sortProblems(warnings, allInputs),
    locate: (path) => where.value(path),
  };
}

/**
 * zod compiles a fast parser (new Function) for each object schema on its first use: that paid
 * ~40 ms of every cron check's CPU for one pass over a few hosts, while a big inventory (many
 * objects of each schema) gains from it (20,000 hosts: ~25% faster). The size of the text stands
 * in for the number of objects; the result is the same either way.
 */
const JIT_FROM_CHARS = 256 * 1024;
const jitlessFor = (inputs: readonly { text: string }[]) => inputs.reduce((n, i) => n + i.text.length, 0) < JIT_FROM_CHARS;

/**
 * Removes the `ansible_*` variables hostkit does not read from every vars map of the tree
 * (group vars, host entries) and says which, where: Ansible inventories carry many
 * (ansible_python_interpreter, ...) that mean nothing here.
 */
function dropIgnoredAnsibleVars(node: unknown, path: Path, where: Locator, isGroup: boolean): Problem[] {
  if (!isPlainObject(node)) return [];
  const drop = (vars: unknown, at: Path): Problem[] => {
    if (!isPlainObject(vars)) return [];
    return Object.keys(vars)
      .filter(isIgnoredAnsibleVar)
      .map((k) => {
        delete vars[k];
        return { ...where.key([...at, k]), message: `"${k}" is not used by hostkit; ignored` };
      });
  };
  if (!isGroup) return drop(node, path);
  const out = drop(node.vars, [...path, 'vars']);
  if (isPlainObject(node.hosts)) for (const [h, vars] of Object.entries(node.hosts)) out.push(...drop(vars, [...path, 'hosts', h]));
  if (isPlainObject(node.children))
    for (const [c, child] of Object.entries(node.children))
      out.push(...dropIgnoredAnsibleVars(child, [...path, 'children', c], where, true));
  return out;
}

/** A group_vars/host_vars file's document, placed at [kind, name] so paths read "group_vars.web.ansible_user". */
function rootedAt(source: Source, kind: string, name: string): Source {
  return lazySource(source.file, source.text, { [kind]: { [name]: source.value } }, () => {
    const inner = new YAMLMap();
    inner.items.push(new Pair(new Scalar(name), source.doc.contents));
    const outer = new YAMLMap();
    outer.items.push(new Pair(new Scalar(kind), inner));
    const doc = new Document() as Document.Parsed;
    doc.contents = outer as unknown as Document.Parsed['contents'];
    return { doc, lc: source.lc };
  });
}

/**
 * An overlay can add protection, never remove it: a host protected by the files before an
 * overlay stays protected after it (`protected: false`, `protected: null`, or a deeper group
 * saying false are all refused), reported where the overlay lowered it.
 */
function protectionLowered(sources: Source[], final: ReturnType<typeof resolveHosts>, where: Locator): Problem[] {
  // Positions only for a problem: each one re-parses YAML the cache answered for.
  const wasProtected = new Map<string, { path: Path; pos: () => Problem }>();
  for (let k = 1; k < sources.length; k++) {
    const prefix = sources.slice(0, k);
    const merged = withoutExtensions(prefix.reduce<unknown>((acc, s) => mergeValues(acc, s.value), undefined));
    try {
      const at = new Locator(prefix);
      const r = resolveHosts(merged as InventoryDocument, at);
      for (const h of r.hosts)
        if (h.protected && !wasProtected.has(h.name)) {
          const path = r.protectedAt.get(h.name)!;
          wasProtected.set(h.name, { path, pos: () => at.key(path) });
        }
    } catch {
      // An earlier file alone may not be a valid inventory; what it could not declare, it did not protect.
    }
  }
  const problems: Problem[] = [];
  for (const h of final.hosts) {
    const before = wasProtected.get(h.name);
    if (h.protected || !before) continue;
    const lowered = final.protectedAt.get(h.name);
    const first = before.pos();
    const at = lowered ? where.value(lowered) : where.key(before.path);
    problems.push({
      ...at,
      message: `an overlay cannot unprotect host "${h.name}" (protected: true since ${first.file}:${first.line}:${first.col}); protection is only lowered by editing the file that sets it`,
    });
  }
  return problems;
}

function sortProblems(problems: Problem[], inputs: { file: string }[]): Problem[] {
  const order = (f: string) => inputs.findIndex((i) => i.file === f);
  return problems.sort((a, b) => order(a.file) - order(b.file) || a.line - b.line || a.col - b.col);
}

// ---------------------------------------------------------------- YAML

function parseSource(
  file: string,
  text: string,
  inventory = true,
  cache?: YamlCache,
): { source: Source; problems: Problem[]; fatal: boolean } {
  if (inventory && looksLikeIni(file, text)) {
    const ini = parseIni(file, text);
    const fatal = ini.problems.length > 0;
    return { source: { file, text, doc: ini.doc, lc: ini.lc, value: fatal ? undefined : ini.doc.toJS() }, problems: ini.problems, fatal };
  }
  // Only clean parses are cached: a hit has no problem to report, and its nodes (positions) are
  // parsed from this very text, the same way, when asked for.
  const hit = cache?.get(text);
  if (hit) return { source: lazySource(file, text, hit.value, () => parseYaml(text)), problems: [], fatal: false };
  const { doc, lc } = parseYaml(text);
  const at = (offset: number) => lc.linePos(offset);
  const problems: Problem[] = duplicateKeys(file, doc, lc);
  let fatal = false;
  for (const err of doc.errors) {
    fatal = true;
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is ours to print.
    const message = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    problems.push({ file, ...at(err.pos[0]), path: '', message: `YAML syntax: ${message}` });
  }
  // An alias inside its own anchor makes a cyclic value that validation would recurse into forever.
  visit(doc, {
    Alias(_, alias, ancestors) {
      const target = alias.resolve(doc);
      if (target && ancestors.includes(target)) {
        fatal = true;
        problems.push({
          file,
          ...at(alias.range?.[0] ?? 0),
          path: '',
          message: `YAML: alias *${alias.source} refers to a node that contains it`,
        });
      }
    },
  });
  let value: unknown;
  if (!fatal) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // Unresolved aliases only surface here.
      fatal = true;
      problems.push({ file, line: 1, col: 1, path: '', message: `YAML: ${(err as Error).message}` });
    }
  }
  // Before the loader edits the value (ignored Ansible variables are deleted from it).
  if (cache && !fatal && problems.length === 0 && doc.warnings.length === 0 && scalarKeysOnly(doc)) cache.put(text, value);
  return { source: { file, text, doc, lc, value }, problems, fatal };
}

// merge: Ansible inventories use `<<: *defaults`. A repeated key is a mistake, not an override:
// found by duplicateKeys in one pass (yaml's own uniqueKeys check is quadratic in the size of a map).
const YAML_OPTIONS = { uniqueKeys: false, prettyErrors: true, merge: true } as const;

/** The one way parse.ts parses YAML (yaml-cache.ts's PARSER names it). */
function parseYaml(text: string): Nodes {
  const lc = new LineCounter();
  return { doc: parseDocument(text, { ...YAML_OPTIONS, lineCounter: lc }), lc };
}

/** A collection or alias as a map key is stringified by toJS with a warning on stderr: such a file is not cached. */
function scalarKeysOnly(doc: Document.Parsed): boolean {
  let only = true;
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key)) {
        only = false;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return only;
}

/** Every repeated key of every map, with its path and where the key was first given: linear. */
function duplicateKeys(file: string, doc: Document.Parsed, lc: LineCounter): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Map(_, map, ancestors) {
      const first = new Map<string, Pair>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || typeof pair.key.value === 'symbol') continue; // merge keys (<<)
        const key = String(pair.key.value);
        const earlier = first.get(key);
        if (!earlier) {
          first.set(key, pair);
          continue;
        }
        const path: Path = [];
        const chain = [...ancestors, map, pair];
        chain.forEach((n, i) => {
          if (isPair(n) && isScalar(n.key)) path.push(String(n.key.value));
          if (isSeq(n)) path.push(n.items.indexOf(chain[i + 1] as never));
        });
        const offset = pair.key.range?.[0] ?? 0;
        const firstAt = isScalar(earlier.key) && earlier.key.range ? lc.linePos(earlier.key.range[0]) : undefined;
        const also = firstAt ? ` (first given at line ${firstAt.line}, column ${firstAt.col})` : '';
        problems.push({ file, ...lc.linePos(offset), path: formatPath(path), message: `duplicate key "${key}"${also}` });
      }
    },
  });
  return problems;
}

/**
 * Maps merge recursively; lists and scalars replace; null for a key of a map the earlier files
 * already have deletes that key (a no-op when absent), so an overlay can drop hosts and groups.
 * Inside a subtree the later file adds whole, null keeps its inventory meaning ("web1:" lists a host).
 */
function mergeValues(base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base === undefined ? over : base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key in the YAML must stay a key, not replace the prototype.
  const set = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(base)) set(k, v);
  for (const [k, v] of Object.entries(over)) {
    const has = Object.hasOwn(out, k);
    if (v === null) delete out[k];
    else set(k, has ? mergeValues(out[k], v) : v);
  }
  return out;
}

/** Top-level `x-` keys are ignored (as in docker compose): a home for YAML anchors. */
function withoutExtensions(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('x-')));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ------------------------------------------------------------ positions

interface Found {
  source: Source;
  key?: Node;
  value?: Node;
}

/** Finds where a path of the merged document was written: in the last file that set it. */
class Locator {
  constructor(private readonly sources: Source[]) {}

  /** The value at path (its key when the value is empty), else the nearest ancestor. */
  value(path: Path): Problem {
    for (let n = path.length; n >= 0; n--) {
      const f = this.find(path.slice(0, n));
      if (!f) continue;
      const node = f.value && !isEmpty(f.value) ? f.value : (f.key ?? f.value);
      if (node?.range) return this.pos(f.source, node.range[0], path);
    }
    return this.fallback(path);
  }

  /** The key node itself (unknown keys, duplicate definitions). */
  key(path: Path): Problem {
    const f = this.find(path);
    if (f?.key?.range) return this.pos(f.source, f.key.range[0], path);
    return this.value(path);
  }

  /** Where in the document path is; with several files, in the last one that set it. */
  private find(path: Path): Found | undefined {
    let candidates = this.sources;
    for (let i = 1; i <= path.length; i++) {
      const prefix = path.slice(0, i);
      const setters = candidates.filter((s) => nodeAt(s, prefix));
      const last = setters[setters.length - 1];
      if (!last) return undefined;
      const lastNode = nodeAt(last, prefix)!;
      // A list, scalar or null replaced whatever earlier files had: that file owns the subtree.
      if (!isMap(deref(last, lastNode.value))) return nodeAt(last, path) ?? lastNode;
      // Maps merge, but only those after the last file that replaced or deleted this path.
      const replaced = setters.findLastIndex((s) => !isMap(deref(s, nodeAt(s, prefix)!.value)));
      candidates = setters.slice(replaced + 1);
    }
    const last = candidates[candidates.length - 1];
    return last && nodeAt(last, path);
  }

  /** The value's text as written, for scalars (YAML may have read it as something else). */
  written(path: Path): string | undefined {
    const f = this.find(path);
    return f && isScalar(f.value) && f.value.range ? f.source.text.slice(f.value.range[0], f.value.range[1]) : undefined;
  }

  private pos(source: Source, offset: number, path: Path): Problem {
    return { file: source.file, ...source.lc.linePos(offset), path: formatPath(path), message: '' };
  }

  private fallback(path: Path): Problem {
    const last = this.sources[this.sources.length - 1];
    return { file: last?.file ?? '(none)', line: 1, col: 1, path: formatPath(path), message: '' };
  }
}

function deref(source: Source, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

/** `key:` with nothing after it: its empty scalar sits at the end of the line; the key reads better. */
function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && (!node.range || node.range[0] === node.range[1]);
}

function nodeAt(source: Source, path: Path): Found | undefined {
  let found: Found = { source, value: source.doc.contents ?? undefined };
  for (const seg of path) {
    const node = deref(source, found.value);
    if (isMap(node)) {
      const pair = pairIn(source, node, String(seg));
      if (!pair) return undefined;
      found = { source, key: pair.key as Node, value: (pair.value ?? undefined) as Node | undefined };
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return undefined;
      found = { source, value: item as Node };
    } else return undefined;
  }
  return found;
}

/**
 * A map's own pairs by key, built once per map: positions are looked up for every host, and a
 * scan of a 200,000-host map per lookup made loading quadratic. The first pair of a key wins,
 * as the linear scan did (duplicates are reported elsewhere).
 */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function ownPairs(map: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items as Pair[])
      if (isScalar(p.key) && typeof p.key.value !== 'symbol' && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
    pairIndex.set(map, index);
  }
  return index;
}

/** The pair for key in a map, looking through `<<: *anchor` merge keys (first source wins, as in YAML). */
function pairIn(source: Source, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  const own = ownPairs(map).get(key);
  if (own || depth > 10) return own;
  for (const merge of map.items.filter((p) => isScalar(p.key) && typeof p.key.value === 'symbol')) {
    const value = deref(source, merge.value);
    for (const from of isSeq(value) ? value.items.map((i) => deref(source, i)) : [value]) {
      const found = isMap(from) ? pairIn(source, from, key, depth + 1) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const seg of path)
    v = (isPlainObject(v) || Array.isArray(v)) && Object.hasOwn(v, seg) ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

// ----------------------------------------------------------- zod issues

/** Unions report every branch; keep the branch whose type matched (the one the user meant). */
function flattenIssues(issues: readonly z.core.$ZodIssue[], base: Path): { issue: z.core.$ZodIssue; path: Path }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'invalid_union') {
      const meant = issue.errors.find((b) => !b.every((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (meant) return flattenIssues(meant, path);
    }
    return [{ issue, path }];
  });
}

function issueProblems(issue: z.core.$ZodIssue, path: Path, merged: unknown, where: Locator): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = issue.message.split(', ');
    return issue.keys.map((key) => {
      const guess = didYouMean(key, allowed);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      const anchors = path.length === 0 ? ' (and x-<name> keys for YAML anchors)' : '';
      return { ...where.key([...path, key]), message: `unknown key "${key}"${hint}; allowed keys: ${issue.message}${anchors}` };
    });
  }
  if (issue.code === 'invalid_key') {
    const expected = issue.issues[0]?.message ?? 'a valid name';
    return [{ ...where.key(path), message: `expected ${expected}, got ${showValue(path[path.length - 1])}` }];
  }
  const value = valueAt(merged, path);
  const parent = valueAt(merged, path.slice(0, -1));
  if (value === undefined && isPlainObject(parent) && path.length > 0) {
    const p = where.value(path.slice(0, -1));
    return [{ ...p, message: `missing required key "${String(path[path.length - 1])}" (expected ${issue.message})` }];
  }
  if (path.length === 0 && issue.code === 'invalid_type') {
    const got = value == null ? 'the inventory is empty' : `got ${showValue(value)}`;
    return [{ ...where.value(path), message: `expected a map with "all:" at the top, ${got}` }];
  }
  return [{ ...where.value(path), message: `expected ${issue.message}, got ${showWritten(value, where.written(path))}` }];
}

/** Unquoted 0750 is read as 750, a bare ~ as null: show what was written next to what YAML made of it. */
function showWritten(value: unknown, written: string | undefined): string {
  const shown = showValue(value);
  if (!written || written === shown || (typeof value !== 'number' && value !== null)) return shown;
  return `${written}, which YAML reads as ${typeof value === 'number' ? `the number ${shown}` : 'null'}`;
}

// ------------------------------------------------------- host resolution

interface GroupInfo {
  name: string;
  /** Every place the group appears (a null entry is a reference to a group defined elsewhere). */
  paths: Path[];
  parents: Set<string>;
  vars?: { vars: HostVars; path: Path };
}

interface HostInfo {
  name: string;
  paths: Path[];
  /** Groups listing the host directly. */
  groups: Set<string>;
  vars?: { vars: HostVars; path: Path };
  /** The port of a `name:port` host key (Ansible sets it as the host's ansible_port). */
  patternPort?: { port: number; path: Path };
}

/** One source of variables for a host, in precedence order; `where` positions its paths. */
interface Layer {
  vars: HostVars;
  path: Path;
  where: Locator;
}

/**
 * Ansible semantics: a host or group may be listed in several places but defined (given vars)
 * in one; host keys may be ranges (www[01:03]) and carry a port (name:2222). Vars apply as
 * Ansible's precedence: all's vars < group_vars/all < other groups' inventory vars (parents
 * before children, equal depth by name) < their group_vars files < host vars < host_vars files.
 */
function resolveHosts(
  doc: InventoryDocument,
  where: Locator,
  files: VarsFiles = {},
  whereFiles: Locator = where,
): { hosts: HostConfig[]; groups: Record<string, string[]>; problems: Problem[]; protectedAt: Map<string, Path> } {
  const problems: Problem[] = [];
  const problem = (pos: Problem, message: string) => problems.push({ ...pos, message });
  // "line 3, column 5", with the file name only when the other place is in another file.
  const at = (path: Path, from: Path) => {
    const p = where.key(path);
    const inFile = p.file === where.key(from).file ? '' : `${p.file} `;
    return `${inFile}line ${p.line}, column ${p.col}`;
  };
  const groups = new Map<string, GroupInfo>();
  const hosts = new Map<string, HostInfo>();

  const walk = (name: string, group: Group | null, path: Path, parent?: string) => {
    const info = groups.get(name) ?? { name, paths: [], parents: new Set<string>() };
    groups.set(name, info);
    info.paths.push(path);
    if (parent) info.parents.add(parent);
    if (!group) return;
    if (group.vars) {
      if (info.vars)
        problem(
          where.key([...path, 'vars']),
          `vars of group "${name}" are already given at ${at(info.vars.path, [...path, 'vars'])}; give them in one place`,
        );
      else info.vars = { vars: group.vars, path: [...path, 'vars'] };
    }
    for (const [pattern, vars] of Object.entries(group.hosts ?? {})) {
      const hpath = [...path, 'hosts', pattern];
      let expanded: ReturnType<typeof expandHostPattern>;
      try {
        expanded = expandHostPattern(pattern);
      } catch (err) {
        problem(where.key(hpath), (err as Error).message);
        continue;
      }
      for (const h of expanded.names) {
        const host = hosts.get(h) ?? { name: h, paths: [], groups: new Set<string>() };
        hosts.set(h, host);
        host.paths.push(hpath);
        host.groups.add(name);
        if (expanded.port !== undefined) host.patternPort = { port: expanded.port, path: hpath };
        if (vars === null) continue;
        if (host.vars)
          problem(
            where.key(hpath),
            `duplicate host definition: "${h}" already has vars at ${at(host.vars.path, hpath)}; list it here with an empty value ("${h}:")`,
          );
        else host.vars = { vars, path: hpath };
      }
    }
    for (const [c, child] of Object.entries(group.children ?? {})) {
      if (c === 'all') problem(where.key([...path, 'children', c]), '"all" is the implicit top group and cannot be a child group');
      else walk(c, child, [...path, 'children', c], name);
    }
  };
  walk('all', doc.all, ['all']);

  for (const g of groups.values()) {
    const clash = hosts.get(g.name);
    if (clash)
      problem(
        where.key(g.name === 'all' ? clash.paths[0]! : g.paths[0]!),
        `group "${g.name}" has the same name as a host; --limit ${g.name} would be ambiguous, rename one`,
      );
  }
  const cycles = new Set<string>();
  const depth = groupDepths(groups, (g, chain) => {
    const id = [...new Set(chain)].sort().join();
    if (!cycles.has(id)) problem(where.key(g.paths[0]!), `group "${g.name}" contains itself: ${chain.join(' > ')}`);
    cycles.add(id);
  });

  const configs: HostConfig[] = [];
  const protectedAt = new Map<string, Path>();
  const members = new Map<string, string[]>([...groups.keys()].map((g) => [g, []]));
  const byAddress = new Map<string, string>();
  for (const host of hosts.values()) {
    const memberOf = ancestors(host.groups, groups);
    memberOf.sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b));
    for (const g of memberOf) members.get(g)?.push(host.name);

    // Each var remembers where it was set, so errors point at the line that set it.
    const set: Record<string, { value: unknown; path: Path; where: Locator }> = {};
    const inventoryLayer = (v?: { vars: HostVars; path: Path }): Layer | undefined => v && { ...v, where };
    const fileLayer = (kind: 'group_vars' | 'host_vars', name: string): Layer | undefined => {
      const vars = files[kind]?.[name];
      return vars ? { vars, path: [kind, name], where: whereFiles } : undefined;
    };
    const others = memberOf.filter((g) => g !== 'all');
    const port = host.patternPort;
    const layers = [
      inventoryLayer(groups.get('all')?.vars),
      fileLayer('group_vars', 'all'),
      ...others.map((g) => inventoryLayer(groups.get(g)?.vars)),
      ...others.map((g) => fileLayer('group_vars', g)),
      port && { vars: { ansible_port: port.port } as HostVars, path: port.path.slice(0, -1), where },
      inventoryLayer(host.vars),
      fileLayer('host_vars', host.name),
    ];
    for (const layer of layers) {
      for (const [k, v] of Object.entries(layer?.vars ?? {})) {
        if (v !== undefined) set[k] = { value: v, path: [...layer!.path, k], where: layer!.where };
      }
    }
    // hostkit's names or Ansible's: one spelling per setting and host.
    const spelled = resolveSpellings(set, host.name);
    for (const p of spelled.problems) problem(p.onValue ? p.at.where.value(p.at.path) : p.at.where.key(p.at.path), p.message);
    const picked = spelled.values;
    const get = <K extends keyof HostVars>(k: K) => picked[k as string]?.value as HostVars[K] | undefined;
    const connection = get('connection') ?? 'ssh';
    // As Ansible: a host without an address is reached at its own name.
    const address = get('address') ?? host.name;
    const portValue = get('port') ?? 22;
    if (connection === 'ssh') {
      const key = `${address.toLowerCase()}:${portValue}`;
      const other = byAddress.get(key);
      const addressAt = picked.address;
      if (other) {
        const pos = addressAt ? addressAt.where.value(addressAt.path) : where.key(host.vars?.path ?? host.paths[0]!);
        problem(pos, `address ${address} port ${portValue} is also host "${other}"; one machine, one inventory name`);
      } else byAddress.set(key, host.name);
    }
    if (set.protected) protectedAt.set(host.name, set.protected.path);
    const identityFile = get('identity_file');
    const knownHosts = get('known_hosts');
    configs.push({
      name: host.name,
      address: connection === 'local' ? (get('address') ?? 'localhost') : address,
      port: portValue,
      user: get('user') ?? 'root',
      ...(identityFile ? { identityFile: expandHome(identityFile) } : {}),
      become: get('become') ?? false,
      connection,
      protected: get('protected') ?? false,
      ...(knownHosts ? { knownHosts: expandHome(knownHosts) } : {}),
      hostKeyChecking: get('host_key_checking') ?? 'strict',
      connectTimeoutMs: Math.round((get('connect_timeout') ?? 10) * 1000),
      groups: memberOf,
    });
  }
  return { hosts: configs, groups: Object.fromEntries(members), problems, protectedAt };
}

/** Distance from "all" along the longest parent chain (Ansible's group depth); reports cycles. */
function groupDepths(groups: Map<string, GroupInfo>, onCycle: (g: GroupInfo, chain: string[]) => void): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const visit = (name: string, chain: string[]): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (chain.includes(name)) {
      onCycle(groups.get(name)!, [...chain.slice(chain.indexOf(name)), name]);
      return 0;
    }
    const parents = [...(groups.get(name)?.parents ?? [])];
    const d = 1 + Math.max(0, ...parents.map((p) => visit(p, [...chain, name])));
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) visit(name, []);
  return depth;
}

/** The groups listing a host and all their ancestors, "all" always included. */
function ancestors(direct: Set<string>, groups: Map<string, GroupInfo>): string[] {
  const seen = new Set<string>(['all']);
  const todo = [...direct];
  for (let g = todo.pop(); g !== undefined; g = todo.pop()) {
    if (seen.has(g)) continue;
    seen.add(g);
    todo.push(...(groups.get(g)?.parents ?? []));
  }
  return [...seen];
}

/** "~" and "~/x" are the user's home, as ssh reads them. */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}
