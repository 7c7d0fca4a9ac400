// runRole, the engine's per-host step (facts -> plan -> guard -> apply -> handlers -> audits),
// tested from its public behaviour: a role in, a host report out, against a scripted transport.
// The resources are small inline ones over a key-value "host"; only `setting`, `roleOf` and `run`
// know the resource contract and runRole's signature, so a change of those is a local edit here.
import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/engine/errors.js';
import { runRole } from '../../src/engine/run-role.js';
import type { Fact, Handler, HostConfig, HostReport, Inventory, Mode, Resource, Role } from '../../src/engine/types.js';
import { defineFact } from '../../src/facts/define.js';
import { failed, ok, type Rule, ScriptedTransport } from './scripted-transport.js';

const host = { name: 'web1', become: false, port: 22, connection: 'local', groups: ['all'] } as HostConfig;
const inventory = { sources: [], hosts: [host], groups: {}, doc: {} } as unknown as Inventory;

/** The host: named values read by `get NAME` and changed by `set NAME VALUE` (one exec each). */
function hostWith(initial: Record<string, string>, extra: Rule[] = []) {
  const state = new Map(Object.entries(initial));
  const reloads: string[] = [];
  const rules: Rule[] = [
    ...extra,
    [/^get (\S+)$/, (m) => ok(state.get(m[1]!) ?? 'absent')],
    [
      /^set (\S+) (\S+)$/,
      (m) => {
        state.set(m[1]!, m[2]!);
        return ok();
      },
    ],
    [
      /^reload (\S+)$/,
      (m) => {
        reloads.push(m[1]!);
        return ok();
      },
    ],
  ];
  return { state, reloads, transport: new ScriptedTransport(host.name, rules) };
}

const valueFact = (name: string): Fact<string | undefined> =>
  defineFact('test.value', [name], `get ${name}`, ({ stdout }) => (stdout === 'absent' ? undefined : stdout));

interface SettingOptions {
  id?: string;
  /** Also set these (a change that affects what a later resource reads). */
  alsoSets?: Record<string, string>;
  requires?: string[];
  notify?: string[];
  audit?: boolean;
  guard?: (changes: number) => void;
}

/** A resource: `name` should hold `value`. */
function setting(name: string, value: string, opts: SettingOptions = {}): Resource {
  const fact = valueFact(name);
  return {
    id: opts.id ?? `setting ${name}`,
    facts: () => [fact],
    plan: (facts) => {
      const current = facts.get(fact);
      if (current === value) return [];
      const sets = { [name]: value, ...opts.alsoSets };
      return [
        {
          summary: `${name} ${current ?? '(absent)'} -> ${value}`,
          actions: Object.entries(sets).map(([k, v]) => ({ kind: 'exec' as const, script: `set ${k} ${v}` })),
        },
      ];
    },
    ...(opts.requires ? { requires: opts.requires } : {}),
    ...(opts.notify ? { notify: opts.notify } : {}),
    ...(opts.audit ? { audit: true } : {}),
    ...(opts.guard ? { guard: (changes: readonly unknown[]) => opts.guard!(changes.length) } : {}),
  };
}

const reload = (name: string): Handler => ({ id: `reload ${name}`, actions: [{ kind: 'exec', script: `reload ${name}` }] });

function roleOf(resources: Resource[], handlers: Handler[] = []): Role {
  return { name: 'test', description: 'inline resources', build: () => ({ resources, handlers }) };
}

const run = (transport: ScriptedTransport, role: Role, mode: Mode): Promise<HostReport> =>
  runRole(transport, role, inventory, host, { mode });

const statuses = (r: HostReport) => Object.fromEntries(r.resources.map((x) => [x.id, x.status]));

describe('runRole', () => {
  it('plans from ONE probe exec and applies only the difference; a second apply changes nothing', async () => {
    const h = hostWith({ a: '1' });
    const role = roleOf([setting('a', '1'), setting('b', '2')]);
    const first = await run(h.transport, role, 'apply');
    expect(first.error).toBeUndefined();
    expect(statuses(first)).toEqual({ 'setting a': 'ok', 'setting b': 'changed' });
    expect(first.resources[1]!.changes).toEqual([{ summary: 'b (absent) -> 2' }]);
    expect(h.transport.log).toEqual(['gather: get a; get b', 'set b 2']);
    expect(first.stats.execs).toBe(2);

    const second = await run(h.transport, role, 'apply');
    expect(statuses(second)).toEqual({ 'setting a': 'ok', 'setting b': 'ok' });
    expect(h.transport.log.slice(2)).toEqual(['gather: get a; get b']);
  });

  it('de-duplicates facts by their derived key: two resources reading one value, one probe', async () => {
    const h = hostWith({ a: '1' });
    await run(h.transport, roleOf([setting('a', '1'), setting('a', '1', { id: 'a again' })]), 'check');
    expect(h.transport.log).toEqual(['gather: get a']);
  });

  it('check and dry-run change nothing and report "would change after" a pending prerequisite', async () => {
    for (const mode of ['check', 'dry-run'] as const) {
      const h = hostWith({});
      const role = roleOf([setting('a', '1', { notify: ['reload app'] }), setting('b', '2', { requires: ['setting a'] })], [reload('app')]);
      const report = await run(h.transport, role, mode);
      expect(report.error).toBeUndefined();
      expect(statuses(report)).toEqual({ 'setting a': 'would-change', 'setting b': 'would-change' });
      expect(report.resources[1]!.changes).toEqual([{ summary: 'b (absent) -> 2', after: ['setting a'] }]);
      expect(report.handlers).toEqual([{ id: 'reload app', status: 'would-run' }]);
      expect(h.transport.log).toEqual(['gather: get a; get b']);
      expect(h.state.size).toBe(0);
    }
  });

  it('re-probes a resource whose prerequisite changed the host, and plans against the real state', async () => {
    // a's change also sets b, so b (planned as a change from the first facts) has nothing left to do.
    const h = hostWith({});
    const role = roleOf([setting('a', '1', { alsoSets: { b: '2' } }), setting('b', '2', { requires: ['setting a'] })]);
    const report = await run(h.transport, role, 'apply');
    expect(statuses(report)).toEqual({ 'setting a': 'changed', 'setting b': 'ok' });
    expect(h.transport.log).toEqual(['gather: get a; get b', 'set a 1', 'set b 2', 'gather: get b']);
  });

  it('runs a notified handler once, after the resources, and only when something changed', async () => {
    const h = hostWith({ c: '3' });
    const role = roleOf(
      [
        setting('a', '1', { notify: ['reload app'] }),
        setting('b', '2', { notify: ['reload app'] }),
        setting('c', '3', { notify: ['reload db'] }),
      ],
      [reload('app'), reload('db')],
    );
    const report = await run(h.transport, role, 'apply');
    expect(report.handlers).toEqual([{ id: 'reload app', status: 'ran' }]);
    expect(h.reloads).toEqual(['app']);
    expect(h.transport.log.at(-1)).toBe('reload app');

    const again = await run(h.transport, role, 'apply');
    expect(again.handlers).toEqual([]);
    expect(h.reloads).toEqual(['app']);
  });

  it('a failed action: the resource fails naming host, step, command, exit code and stderr; the rest is skipped', async () => {
    const h = hostWith({}, [[/^set b /, failed(3, 'disk full')]]);
    const role = roleOf([setting('a', '1', { notify: ['reload app'] }), setting('b', '2'), setting('c', '3')], [reload('app')]);
    const report = await run(h.transport, role, 'apply');
    expect(statuses(report)).toEqual({ 'setting a': 'changed', 'setting b': 'failed', 'setting c': 'skipped' });
    const error = report.resources[1]!.error!;
    expect(error).toMatch(/^web1: setting b: command failed with exit code 3/);
    expect(error).toContain('command: set b 2');
    expect(error).toContain('stderr: disk full');
    expect(report.error).toBe('web1: test: setting b failed');
    expect(h.state.has('c')).toBe(false);
    // What did change still gets its handler (a half-applied config is reloaded, not left stale).
    expect(report.handlers).toEqual([{ id: 'reload app', status: 'ran' }]);
  });

  it('a guard refuses the whole role before anything is applied', async () => {
    const h = hostWith({});
    const refuse = (changes: number) => {
      if (changes > 0) throw new RefusedError('web1', 'test', 'would lock out the operator');
    };
    const report = await run(h.transport, roleOf([setting('a', '1'), setting('b', '2', { guard: refuse })]), 'apply');
    expect(report.error).toBe('web1: test: refused: would lock out the operator');
    expect(report.resources).toEqual([]);
    expect(h.transport.log).toEqual(['gather: get a; get b']);
  });

  it('a failing probe batch is a host error, nothing applied', async () => {
    const t = new ScriptedTransport(host.name, [], failed(2, 'sh: cannot create temp dir'));
    const report = await run(t, roleOf([setting('a', '1')]), 'apply');
    expect(report.error).toMatch(/web1: gathering facts failed \(exit 2\): sh: cannot create temp dir/);
    expect(report.resources).toEqual([]);
  });

  it('an audit: drift in check; in apply never applied, judged after the handlers on fresh facts, reported as warnings', async () => {
    const role = () => roleOf([setting('a', '1', { notify: ['reload app'] }), setting('exposed', 'no', { audit: true })], [reload('app')]);

    const checked = hostWith({ exposed: 'yes' });
    const check = await run(checked.transport, role(), 'check');
    expect(statuses(check)).toEqual({ 'setting a': 'would-change', 'setting exposed': 'would-change' });

    // The role's change (a) fixes nothing the audit sees: the audit still warns, and never sets it.
    const h = hostWith({ exposed: 'yes' });
    const apply = await run(h.transport, role(), 'apply');
    expect(apply.error).toBeUndefined();
    expect(statuses(apply)).toEqual({ 'setting a': 'changed', 'setting exposed': 'ok' });
    expect(apply.resources[1]!.notes).toEqual(['warning: exposed yes -> no']);
    expect(h.state.get('exposed')).toBe('yes');
    expect(h.transport.log).toEqual(['gather: get a; get exposed', 'set a 1', 'reload app', 'gather: get exposed']);

    // Converged role: no re-probe, the first facts are judged.
    const again = await run(h.transport, role(), 'apply');
    expect(again.resources[1]!.notes).toEqual(['warning: exposed yes -> no']);
    expect(h.transport.log.slice(4)).toEqual(['gather: get a; get exposed']);
  });
});
