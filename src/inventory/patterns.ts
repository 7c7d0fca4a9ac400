import { readFileSync } from 'node:fs';
import { LimitError } from './errors.js';

/**
 * Ansible's host patterns for --limit: `web`, `web:db` / `web,db` (union), `web:&prod`
 * (intersection), `web:!db1` (exclusion), globs (`web*`, `db?`, `[ab]*`), `~regex` (matched from
 * the start of the name, as Python's re.match) and `@file` (one pattern per line). As in Ansible,
 * unions apply first, then intersections, then exclusions, whatever the order written; a pattern
 * of only & or ! terms starts from all hosts; a term matches groups by name, and hosts when no
 * group matched or the term is a glob or regex.
 *
 * "Named" (what a protected host needs): the host's exact name written as a term (plain or &),
 * on the command line or as a line of an @file. A glob, a regex or a group never names a host.
 */
export interface PatternInventory {
  /** Host names in inventory order. */
  hosts: string[];
  /** Group -> every host in it (children's hosts included). */
  groups: Record<string, string[]>;
}

export interface PatternMatch {
  hosts: Set<string>;
  named: Set<string>;
}

const GLOB = /[*?[]/;

export function splitPattern(pattern: string, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string[] {
  const text = pattern.trim();
  const parts = text.includes(',') ? text.split(',') : (text.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []);
  const terms: string[] = [];
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    if (!raw.startsWith('@')) {
      terms.push(raw);
      continue;
    }
    let content: string;
    try {
      content = read(raw.slice(1));
    } catch (err) {
      throw new LimitError(`--limit ${raw}: cannot read the limit file: ${(err as Error).message}`);
    }
    terms.push(
      ...content
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
  }
  return terms;
}

export function matchPattern(pattern: string, inv: PatternInventory, read?: (file: string) => string): PatternMatch {
  const terms = splitPattern(pattern, read);
  if (terms.length === 0) throw new LimitError('--limit names no host or group');
  const regular = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const intersect = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1));
  const exclude = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  const hostSet = new Set(inv.hosts);
  const unknown: string[] = [];
  const named = new Set<string>();

  const one = (term: string): Set<string> => {
    const test = matcher(term);
    if (!test) {
      unknown.push(term);
      return new Set();
    }
    const out = new Set<string>();
    const groups = Object.keys(inv.groups).filter(test);
    for (const g of groups) for (const h of inv.groups[g] ?? []) out.add(h);
    const special = term.startsWith('~') || /[.?*[]/.test(term);
    if (groups.length === 0 || special) for (const h of inv.hosts.filter(test)) out.add(h);
    // A plain word that matches nothing is a typo, not an empty group (Ansible only warns).
    if (out.size === 0 && !term.startsWith('~') && !GLOB.test(term)) unknown.push(term);
    return out;
  };

  let result = new Set<string>();
  if (regular.length === 0) result = new Set(inv.hosts);
  for (const t of regular) {
    for (const h of one(t)) result.add(h);
    if (hostSet.has(t)) named.add(t);
  }
  for (const t of intersect) {
    const hits = one(t);
    result = new Set([...result].filter((h) => hits.has(h)));
    if (hostSet.has(t)) named.add(t);
  }
  for (const t of exclude) for (const h of one(t)) result.delete(h);

  if (unknown.length) {
    const list = unknown.map((n) => `"${n}"`).join(', ');
    throw new LimitError(
      `--limit: no host or group named ${list} in the inventory (hosts: ${inv.hosts.join(', ')}; groups: ${Object.keys(inv.groups).join(', ')})`,
    );
  }
  if (result.size === 0) throw new LimitError(`--limit "${pattern}" matches no host (hosts: ${inv.hosts.join(', ')})`);
  return { hosts: result, named: new Set([...named].filter((h) => result.has(h))) };
}

/** A test for names: ~regex from the start (Python re.match), else a whole-name glob (fnmatch). */
function matcher(term: string): ((name: string) => boolean) | undefined {
  if (term.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${term.slice(1)})`);
    } catch (err) {
      throw new LimitError(`--limit ${term}: invalid regular expression: ${(err as Error).message}`);
    }
    return (n) => re.test(n);
  }
  if (!GLOB.test(term)) return (n) => n === term;
  return globTest(term);
}

/** Python's fnmatch.translate: * any run, ? one character, [seq] / [!seq] a set, the whole name. */
function globTest(glob: string): (name: string) => boolean {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) src += '\\[';
      else {
        let set = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        else if (set.startsWith('^')) set = `\\${set}`;
        src += `[${set}]`;
        i = end;
      }
    } else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const re = new RegExp(`^(?:${src})$`, 's');
  return (n) => re.test(n);
}
