// The layer rule of docs/architecture.md, checked on the real imports of src/**: no import cycle
// between src/ folders, and no import from a lower layer into a higher one. Imports are read with
// TypeScript's own pre-processor (static imports, re-exports, `import type`, dynamic import()).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/**
 * Lowest first; a module may import its own layer and the layers before it. A top-level file
 * (src/templates.ts, src/index.ts) is a layer of its own, named without ".ts".
 */
const LAYERS = [
  'schema', // the inventory's zod document: src/schema/*, every schema.ts / *.schema.ts, platform/checks.ts
  'cache', // the control machine's cache of derived values (~/.cache/hostkit): bcrypt, parsed files
  'inventory', // YAML -> hosts; knows nothing of how they are reached
  'transports', // reach a host: exec, write
  'formats', // escaping where a value meets a line-based format (INI, systemd units)
  'engine', // the contracts (types), gather, run a role / a playbook
  'facts', // read-only probes + parsers
  'templates', // the one Handlebars
  'platform', // the stacks model, compose rendering, secrets, image archives
  'resources', // facts -> plan -> changes
  'proxy', // NPM's API: client, desired state, planner, resources (over the run's connection)
  'backup', // the backup model and program
  'roles', // build(config, host) -> resources
  'report', // console / JSON / JUnit output of the engine's results
  'sandbox', // disposable test servers (used by the demo in cli)
  'cli', // option parsing, exit codes, the scripts' entry
  'index', // the public API
] as const;

/**
 * Known violations owned by other branches of issue 15, as "from/file.ts -> to/file.ts".
 * The lead empties this after merging them; an entry that no longer occurs fails the test.
 */
const ALLOWED: Record<string, string> = {};

interface Edge {
  from: string;
  to: string;
  fromLayer: string;
  toLayer: string;
}

/**
 * A role's or section's schema slice lives next to its code (`roles/firewall.schema.ts`) but belongs to
 * the bottom layer: the inventory composes the slices, so they may import only each other and zod.
 */
const SCHEMA_FILES = /(^schema\/|(^|\/|\.)schema\.ts$|^(platform|proxy)\/checks\.ts$)/;
const layerOf = (file: string): string => (SCHEMA_FILES.test(file) ? 'schema' : file.split('/')[0]!.replace(/\.ts$/, ''));

function importEdges(): Edge[] {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const edges: Edge[] = [];
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages and node: builtins
      const to = relative(SRC, resolve(dirname(join(SRC, file)), fileName)).replace(/\.js$/, '.ts');
      if (to.startsWith('..')) throw new Error(`${file} imports ${fileName}, outside src/`);
      edges.push({ from: file, to, fromLayer: layerOf(file), toLayer: layerOf(to) });
    }
  }
  return edges;
}

const edges = importEdges();
const key = (e: Edge) => `${e.from} -> ${e.to}`;
const checked = edges.filter((e) => e.fromLayer !== e.toLayer && !(key(e) in ALLOWED));

/** Strongly connected components of the folder graph with more than one folder (Tarjan). */
function folderCycles(list: Edge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const e of list) {
    if (!graph.has(e.fromLayer)) graph.set(e.fromLayer, new Set());
    if (!graph.has(e.toLayer)) graph.set(e.toLayer, new Set());
    graph.get(e.fromLayer)!.add(e.toLayer);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('layers', () => {
  it('reads the imports of src/**', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => key(e) === 'resources/file.ts -> facts/file.ts')).toBe(true);
  });

  it('every src/ folder and top-level file has a layer', () => {
    const present = new Set(edges.flatMap((e) => [e.fromLayer, e.toLayer]));
    expect([...present].filter((l) => !(LAYERS as readonly string[]).includes(l))).toEqual([]);
  });

  it('no import cycle between src/ folders', () => {
    expect(folderCycles(checked)).toEqual([]);
  });

  it('no upward import (a lower layer never imports a higher one)', () => {
    const rank = (l: string) => (LAYERS as readonly string[]).indexOf(l);
    const upward = checked.filter((e) => rank(e.fromLayer) < rank(e.toLayer)).map(key);
    expect(upward).toEqual([]);
  });

  it('the allow-list holds only violations that still occur', () => {
    const all = new Set(edges.map(key));
    expect(Object.keys(ALLOWED).filter((k) => !all.has(k))).toEqual([]);
  });

  it('finds what it must refuse', () => {
    const fake = (from: string, to: string): Edge => ({ from, to, fromLayer: layerOf(from), toLayer: layerOf(to) });
    expect(folderCycles([fake('a/x.ts', 'b/y.ts'), fake('b/y.ts', 'c/z.ts'), fake('c/z.ts', 'a/w.ts')])).toEqual([['a', 'b', 'c']]);
    expect(folderCycles([fake('a/x.ts', 'b/y.ts')])).toEqual([]);
  });
});
