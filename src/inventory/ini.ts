import { Document, LineCounter, Pair, Scalar, YAMLMap } from 'yaml';
import type { Problem } from './errors.js';
import { shlexSplit } from './shlex.js';

/**
 * Ansible's INI inventory format, read into the same shape as the YAML one (all.hosts,
 * all.vars, all.children.<group>), as a YAML Document whose nodes carry offsets into the INI
 * text: the loader then positions every problem (file:line:col) exactly as for YAML.
 *
 *   [web]                      group, hosts one per line: name or pattern, then k=v vars
 *   web1 ansible_host=10.0.0.1
 *   [web:vars]                 group vars, one k=v per line
 *   [prod:children]            child groups, one per line
 *
 * Values are read as Ansible reads them (Python literals: 22 is a number, 'x' a string, True a
 * boolean, anything else the text as is). Hosts before any section are ungrouped (in "all").
 */
export interface IniResult {
  doc: Document.Parsed;
  lc: LineCounter;
  problems: Problem[];
}

interface Item {
  at: number;
  end: number;
}
interface Var extends Item {
  key: string;
  value: unknown;
  valueAt: number;
  valueEnd: number;
}
interface IniHost extends Item {
  name: string;
  vars?: Map<string, Var>;
}
interface IniGroup {
  name: string;
  at: number;
  hosts: Map<string, IniHost>;
  hostsAt?: number;
  vars: Map<string, Var>;
  varsAt?: number;
  children: Map<string, Item>;
  childrenAt?: number;
}

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

export function parseIni(file: string, text: string): IniResult {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lc.addNewLine(i + 1);
  const problems: Problem[] = [];
  const problem = (offset: number, message: string) => problems.push({ file, ...lc.linePos(offset), path: '', message });

  const groups = new Map<string, IniGroup>();
  const group = (name: string, at: number) => {
    const key = name === 'ungrouped' ? 'all' : name;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name: key, at, hosts: new Map(), vars: new Map(), children: new Map() }));
    return g;
  };
  let current = group('all', 0);
  let state: 'hosts' | 'vars' | 'children' = 'hosts';

  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const lead = raw.length - raw.trimStart().length;
    const line = raw.trim().replace(/\r$/, '');
    const at = lineStart + lead;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;

    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) {
        problem(at, `INI: invalid section header ${JSON.stringify(line)} (expected [group], [group:vars] or [group:children], no spaces)`);
        state = 'hosts';
        current = group(`\u0000invalid${at}`, at);
        continue;
      }
      const kind = m[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        problem(at + m[1]!.length + 2, `INI: section [${m[1]}:${kind}] has unknown type "${kind}" (expected vars or children)`);
        continue;
      }
      state = kind;
      current = group(m[1]!, at);
      if (state === 'hosts') current.hostsAt ??= at;
      if (state === 'vars') current.varsAt ??= at;
      if (state === 'children') current.childrenAt ??= at;
      continue;
    }

    if (state === 'children') {
      const m = GROUP_NAME.exec(line);
      if (!m) problem(at, `INI: expected a group name in [${current.name}:children], got ${JSON.stringify(line)}`);
      else if (!current.children.has(m[1]!)) current.children.set(m[1]!, { at, end: at + m[1]!.length });
      continue;
    }

    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        problem(at, `INI: expected key=value in [${current.name}:vars], got ${JSON.stringify(line)}`);
        continue;
      }
      const key = line.slice(0, eq).trim();
      const valueText = line.slice(eq + 1).trim();
      const valueAt = at + line.indexOf(valueText, eq + 1);
      addVar(current.vars, {
        key,
        value: pythonLiteral(valueText),
        at,
        end: at + key.length,
        valueAt,
        valueEnd: valueAt + valueText.length,
      });
      continue;
    }

    // hosts: "pattern k=v k=v  # comment"
    let words: ReturnType<typeof shlexSplit>;
    try {
      words = shlexSplit(raw);
    } catch (err) {
      problem(at, `INI: ${(err as Error).message} in host line`);
      continue;
    }
    const [first, ...rest] = words;
    if (!first) continue;
    const host: IniHost = { name: first.text, at: lineStart + first.start, end: lineStart + first.start + first.text.length };
    if (rest.length) host.vars = new Map();
    for (const w of rest) {
      const eq = w.text.indexOf('=');
      const wAt = lineStart + w.start;
      if (eq <= 0) {
        problem(wAt, `INI: expected key=value host variable after host "${host.name}", got ${JSON.stringify(w.text)}`);
        continue;
      }
      const key = w.text.slice(0, eq);
      const valueText = w.text.slice(eq + 1);
      // The value's offset in the raw line: after "key=" (quotes make it approximate, never wrong by a line).
      const valueAt = wAt + eq + 1;
      addVar(host.vars!, {
        key,
        value: pythonLiteral(valueText),
        at: wAt,
        end: wAt + key.length,
        valueAt,
        valueEnd: valueAt + valueText.length,
      });
    }
    const seen = current.hosts.get(host.name);
    if (seen?.vars && host.vars)
      problem(host.at, `INI: host "${host.name}" is listed twice in [${current.name}] with variables; give them in one place`);
    else if (!seen?.vars) current.hosts.set(host.name, host);
  }

  function addVar(map: Map<string, Var>, v: Var) {
    const seen = map.get(v.key);
    if (seen)
      problem(v.at, `duplicate key "${v.key}" (first given at line ${lc.linePos(seen.at).line}, column ${lc.linePos(seen.at).col})`);
    else map.set(v.key, v);
  }

  for (const name of [...groups.keys()]) if (name.startsWith('\u0000')) groups.delete(name);
  // As Ansible: a child group must have a section of its own somewhere in the file.
  for (const g of groups.values())
    for (const [child, item] of g.children)
      if (!groups.has(child) && child !== 'ungrouped')
        problem(item.at, `INI: [${g.name}:children] lists "${child}", which has no section of its own ([${child}]) in this file`);
  return { doc: toDocument(groups), lc, problems };
}

// ------------------------------------------------------------------ nodes with INI offsets

function scalar(value: unknown, at: number, end: number): Scalar {
  const s = new Scalar(value);
  s.range = [at, end, end];
  return s;
}

function map(at: number): YAMLMap {
  const m = new YAMLMap();
  m.range = [at, at, at];
  return m;
}

function varsNode(vars: Map<string, Var>, at: number): YAMLMap {
  const m = map(at);
  for (const v of vars.values()) m.items.push(new Pair(scalar(v.key, v.at, v.end), scalar(v.value, v.valueAt, v.valueEnd)));
  return m;
}

function groupNode(g: IniGroup, groups: Map<string, IniGroup>, asChild: boolean): YAMLMap {
  const m = map(g.at);
  if (g.hosts.size) {
    const hosts = map(g.hostsAt ?? g.at);
    for (const h of g.hosts.values()) {
      const value = h.vars ? varsNode(h.vars, h.end + 1) : scalar(null, h.end, h.end);
      hosts.items.push(new Pair(scalar(h.name, h.at, h.end), value));
    }
    m.items.push(new Pair(scalar('hosts', g.hostsAt ?? g.at, g.hostsAt ?? g.at), hosts));
  }
  if (g.vars.size) m.items.push(new Pair(scalar('vars', g.varsAt ?? g.at, g.varsAt ?? g.at), varsNode(g.vars, g.varsAt ?? g.at)));
  const children = asChild
    ? g.children
    : new Map([...groups.values()].filter((c) => c.name !== 'all').map((c) => [c.name, { at: c.at, end: c.at }]));
  if (children.size) {
    const cm = map(g.childrenAt ?? g.at);
    for (const [name, item] of children) {
      // Under "all" every group is defined; elsewhere a child is a reference (null), as in YAML.
      const value = asChild ? scalar(null, item.end, item.end) : groupNode(groups.get(name)!, groups, true);
      cm.items.push(new Pair(scalar(name, item.at, item.end), value));
    }
    m.items.push(new Pair(scalar('children', g.childrenAt ?? g.at, g.childrenAt ?? g.at), cm));
  }
  // [all:children] lists top groups; they are defined under all.children anyway.
  return m;
}

function toDocument(groups: Map<string, IniGroup>): Document.Parsed {
  const all = groups.get('all')!;
  for (const [name, item] of all.children)
    if (!groups.has(name)) groups.set(name, { name, at: item.at, hosts: new Map(), vars: new Map(), children: new Map() });
  // Groups only named in [x:children] exist too (empty unless defined elsewhere).
  for (const g of [...groups.values()])
    for (const [name, item] of g.children)
      if (!groups.has(name)) groups.set(name, { name, at: item.at, hosts: new Map(), vars: new Map(), children: new Map() });
  const doc = new Document() as Document.Parsed;
  const root = map(0);
  root.items.push(new Pair(scalar('all', 0, 0), groupNode(all, groups, false)));
  doc.contents = root as unknown as Document.Parsed['contents'];
  return doc;
}

/** Python's ast.literal_eval for the scalars an inventory holds; anything else stays text. */
export function pythonLiteral(text: string): unknown {
  if (text.includes('#')) return text;
  if (/^[+-]?\d+$/.test(text) && !/^[+-]?0\d/.test(text)) return Number(text);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(text) && !/^[+-]?0\d+$/.test(text)) return Number(text);
  if (text === 'True') return true;
  if (text === 'False') return false;
  if (text === 'None') return null;
  const q = /^(['"])(.*)\1$/s.exec(text);
  if (q && !q[2]!.includes(q[1]!)) return q[2]!.replace(/\\(.)/g, '$1');
  return text;
}

/** INI or YAML: the extension decides, else the first significant line (a "key:" line is YAML). */
export function looksLikeIni(file: string, text: string): boolean {
  if (/\.(ya?ml|json)$/i.test(file)) return false;
  if (/\.(ini|cfg)$/i.test(file)) return true;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('---') || line.startsWith('%') || line.startsWith('{')) return false;
    if (SECTION.test(line)) return true;
    return !/^[^\s#][^#]*:(\s|$)/.test(line);
  }
  return false;
}
