import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { factSetFrom } from '../../src/engine/gather.js';
import { BaseResource } from '../../src/engine/resource.js';
import type { Change, Fact, Mode, PlanContext, ProbeOutput, Resource } from '../../src/engine/types.js';
import type { HostConfig } from '../../src/inventory/types.js';
import { SshdSettings } from '../../src/resources/sshd-settings.js';
import { StackComposeFile, StackEnvFile } from '../../src/resources/stack-files.js';
import { StackUp } from '../../src/resources/stack-up.js';

/**
 * Data-driven planner tests (pyinfra's shape): test/fixtures/plans/<kind>/<case>.json holds
 *   { description?, spec, facts, changes | error, guardError?, notes?, mode?, pending?, host? }
 * - kind: the kebab-case name of a resource class exported from src/resources/ or src/backup/
 *   (ManagedFile -> managed-file), built as `new Kind(spec)`; ADAPTERS turn specs that hold more than JSON.
 * - facts: keyed by the fact's key, each a raw probe output { stdout, stderr?, exitCode? } (run
 *   through the fact's parser) or a parsed { value }; in values {"$map": [[k, v]]} is a Map and
 *   {"$buffer": "text"} a Buffer.
 * - changes: exactly what plan() returns (summaries, diffs, actions); error: a pattern plan()
 *   throws; guardError: a pattern guard() throws.
 * HOSTKIT_RECORD_PLANS=1 writes the planned changes into cases that have neither changes nor
 * error (review them before committing).
 */
const ROOT = join(import.meta.dirname, '../fixtures/plans');
/** Where resource kinds live: the public kinds, and the backup/recover steps (src/backup/). */
const SOURCES = [join(import.meta.dirname, '../../src/resources'), join(import.meta.dirname, '../../src/backup')];

interface Case {
  description?: string;
  spec: unknown;
  facts: Record<string, (Partial<ProbeOutput> & { stdout: string }) | { value: unknown }>;
  changes?: unknown[];
  error?: string;
  guardError?: string;
  notes?: string[];
  mode?: Mode;
  pending?: string[];
  host?: Partial<HostConfig>;
}

/** Specs that hold more than JSON: how a fixture's spec becomes the constructor's. */
// biome-ignore lint/suspicious/noExplicitAny: fixture JSON
const ADAPTERS: Record<string, (spec: any) => Resource> = {
  'sshd-settings': (s: { desired: Record<string, string>; lockoutProblems?: string[] }) =>
    new SshdSettings({ desired: new Map(Object.entries(s.desired)), lockout: () => s.lockoutProblems ?? [] }),
  // biome-ignore lint/suspicious/noExplicitAny: fixture JSON
  'stack-up': (s: { stack: any; waitTimeoutS: number; env: string; compose: string }) => {
    const files = {
      env: new StackEnvFile({ stack: s.stack.name, dir: s.stack.dir, content: s.env }),
      compose: new StackComposeFile({ stack: s.stack.name, dir: s.stack.dir, content: s.compose }),
    };
    return new StackUp({ stack: s.stack, waitTimeoutS: s.waitTimeoutS, files });
  },
};

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Every resource kind: the classes exported by src/resources/*.ts and src/backup/*.ts that extend BaseResource. */
// biome-ignore lint/suspicious/noExplicitAny: any constructor
type Kind = new (spec: any) => Resource;
const kinds = new Map<string, Kind>();
for (const file of SOURCES.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f)),
)) {
  const mod = (await import(file)) as Record<string, unknown>;
  for (const value of Object.values(mod)) {
    if (typeof value === 'function' && value.prototype instanceof BaseResource) kinds.set(kebab(value.name), value as Kind);
  }
}

/** {"$map": [...]} -> Map, {"$buffer": "..."} -> Buffer, recursively. */
function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('$map' in o) return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [k, revive(x)]));
    if ('$buffer' in o) return Buffer.from(o.$buffer as string);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

const host: HostConfig = {
  name: 'web1',
  address: '192.0.2.10',
  port: 22,
  user: 'root',
  become: false,
  connection: 'ssh',
  protected: false,
  hostKeyChecking: 'strict',
  connectTimeoutMs: 1000,
  groups: ['all'],
};

const casesOf = (kind: string) =>
  existsSync(join(ROOT, kind))
    ? readdirSync(join(ROOT, kind))
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];

describe('plan fixtures', () => {
  for (const kind of readdirSync(ROOT).sort()) {
    describe(kind, () => {
      for (const file of casesOf(kind)) {
        const path = join(ROOT, kind, file);
        const c = JSON.parse(readFileSync(path, 'utf8')) as Case;
        it(`${file.replace(/\.json$/, '')}${c.description ? `: ${c.description}` : ''}`, () => {
          const Kind = kinds.get(kind);
          expect(Kind, `no resource class in src/resources/ or src/backup/ is named ${kind}`).toBeDefined();
          const resource = ADAPTERS[kind]?.(c.spec) ?? new Kind!(revive(c.spec));
          const facts = resource.facts();
          expect(Object.keys(c.facts).sort(), 'the fixture gives exactly the facts the resource reads').toEqual(
            [...new Set(facts.map((f) => f.key))].sort(),
          );
          const factSet = factSetFrom(
            facts.map((f): [Fact<unknown>, ProbeOutput | { value: unknown }] => {
              const given = c.facts[f.key]!;
              return [f, 'value' in given ? { value: revive(given.value) } : { stderr: '', exitCode: 0, ...given }];
            }),
          );
          const ctx: PlanContext = { host: { ...host, ...c.host }, mode: c.mode ?? 'apply', pendingPrerequisites: c.pending ?? [] };
          if (c.error !== undefined) {
            expect(() => resource.plan(factSet, ctx)).toThrow(new RegExp(c.error));
            return;
          }
          const changes = JSON.parse(JSON.stringify(resource.plan(factSet, ctx))) as Change[];
          if (c.guardError !== undefined) expect(() => resource.guard?.(changes, factSet, ctx)).toThrow(new RegExp(c.guardError));
          else resource.guard?.(changes, factSet, ctx);
          if (c.notes !== undefined) expect(resource.notes?.(factSet, ctx) ?? []).toEqual(c.notes);
          if (c.changes === undefined && process.env.HOSTKIT_RECORD_PLANS === '1') {
            writeFileSync(path, `${JSON.stringify({ ...c, changes }, null, 2)}\n`);
            return;
          }
          expect(c.changes, 'the fixture names its expected changes (or error)').toBeDefined();
          expect(changes).toEqual(c.changes);
        });
      }
    });
  }

  it('every resource kind in src/resources/ and src/backup/ has at least one fixture case', () => {
    expect([...kinds.keys()].filter((k) => casesOf(k).length === 0).sort()).toEqual([]);
  });

  it('every fixture folder names a resource kind', () => {
    expect(readdirSync(ROOT).filter((k) => !kinds.has(k))).toEqual([]);
  });
});
