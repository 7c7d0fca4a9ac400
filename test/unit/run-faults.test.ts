// Faults of a run on live hosts, at the engine's level (runPlaybook), against the scripted
// transport: exceptions in a role stay on their host, the host lock is taken (or refused) on the
// run's own connection, an interrupt stops the run between resources, and a dropped connection
// fails its host naming the step while the other hosts go on.
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { InventoryValueError } from '../../src/engine/errors.js';
import { runPlaybook } from '../../src/engine/run.js';
import type { Handler, HostReport, Resource, Role } from '../../src/engine/types.js';
import { defineFact } from '../../src/facts/define.js';
import { parseInventory } from '../../src/inventory/index.js';
import { TransportError } from '../../src/transports/types.js';
import { failed, ok, type Rule, ScriptedTransport } from './scripted-transport.js';

const INVENTORY = `all:
  hosts:
    a:
      address: 127.0.0.1
    b:
      address: 127.0.0.2
`;
const inventory = parseInventory(INVENTORY, 'inv.yaml');

const holder = { control: 'laptop', user: 'alice', pid: 4242, command: 'roles/test.mjs -i inv.yaml', since: '2026-12-01T14:00:00Z' };
const LOCKED = ok('hostkit-lock-held\n');

/** A host of named values: `get NAME` reads, `set NAME VALUE` writes, `reload NAME` is a handler. */
function hostWith(name: string, extra: Rule[] = [], lock: Rule[1] = LOCKED, onSet?: (key: string) => void) {
  const state = new Map<string, string>();
  const rules: Rule[] = [
    ...extra,
    [/flock -n -E 75/, lock],
    [/^get (\S+)$/, (m) => ok(state.get(m[1]!) ?? 'absent')],
    [
      /^set (\S+) (\S+)$/,
      (m) => {
        state.set(m[1]!, m[2]!);
        onSet?.(m[1]!);
        return ok();
      },
    ],
    [/^reload (\S+)$/, () => ok()],
  ];
  return { state, transport: new ScriptedTransport(name, rules) };
}

function setting(name: string, value: string, notify?: string[]): Resource {
  const fact = defineFact('test.value', [name], `get ${name}`, ({ stdout }) => stdout);
  return {
    id: `setting ${name}`,
    facts: () => [fact],
    plan: (facts) =>
      facts.get(fact) === value ? [] : [{ summary: `${name} -> ${value}`, actions: [{ kind: 'exec', script: `set ${name} ${value}` }] }],
    ...(notify ? { notify } : {}),
  };
}
const reload: Handler = { id: 'reload app', actions: [{ kind: 'exec', script: 'reload app' }] };
const roleOf = (name: string, build: Role['build']): Role => ({ name, description: '', build });
const settings = roleOf('settings', () => ({ resources: [setting('x', '1', ['reload app']), setting('y', '2')], handlers: [reload] }));

async function play(
  roles: Role[],
  hosts: Record<string, ScriptedTransport>,
  o: { mode?: 'apply' | 'check'; signal?: AbortSignal; forks?: number } = {},
) {
  const events: RunEvent[] = [];
  const result = await runPlaybook(inventory, roles, {
    mode: o.mode ?? 'apply',
    holder,
    hosts: inventory.hosts.filter((h) => hosts[h.name]),
    forks: o.forks ?? 5,
    reporter: { on: (e) => events.push(e) },
    openTransport: async (h) => hosts[h.name]!,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { ...result, events, of: (host: string) => result.reports.filter((r) => r.host === host) };
}
const statuses = (rs: HostReport[]) => Object.fromEntries(rs.flatMap((r) => r.resources.map((x) => [x.id, x.status])));

describe('errors stay per host', () => {
  it('an exception in build fails that host with the role, the step and the inventory position; the other host completes; exit 1', async () => {
    const a = hostWith('a');
    const b = hostWith('b');
    const picky = roleOf('picky', (_c, host) => {
      if (host.name === 'a') throw new InventoryValueError(['all', 'hosts', 'a', 'address'], 'cannot use this address');
      return { resources: [setting('z', '9')] };
    });
    const r = await play([picky, settings], { a: a.transport, b: b.transport });
    expect(r.exitCode).toBe(1);
    const [ra] = r.of('a');
    expect(ra).toMatchObject({ role: 'picky', step: 'build' });
    expect(ra!.error).toBe('a: picky: build: cannot use this address (at inv.yaml:4:16)');
    expect(r.of('a')).toHaveLength(1); // the later role did not run on a
    expect(statuses(r.of('b'))).toEqual({ 'setting z': 'changed', 'setting x': 'changed', 'setting y': 'changed' });
    expect(a.state.size).toBe(0);
    expect(a.transport.log.at(-1)).toBe('release'); // the lock is released after the failure
  });

  it('an exception in plan fails that host naming the role and "plan"; the other host completes', async () => {
    const a = hostWith('a');
    const b = hostWith('b');
    const bad: Resource = {
      id: 'bad',
      facts: () => [defineFact('test.value', ['q'], 'get q', ({ stdout }) => stdout)],
      plan: (_f, ctx) => {
        if (ctx.host.name === 'a') throw new TypeError("Cannot read properties of undefined (reading 'from')");
        return [];
      },
    };
    const r = await play([roleOf('fw', () => ({ resources: [bad] })), settings], { a: a.transport, b: b.transport });
    expect(r.exitCode).toBe(1);
    expect(r.of('a')[0]).toMatchObject({
      role: 'fw',
      step: 'plan',
      error: "a: fw: plan: Cannot read properties of undefined (reading 'from')",
    });
    expect(r.of('b').map((x) => x.error)).toEqual([undefined, undefined]);
  });
});

describe('the host lock', () => {
  it('apply holds it on the run connection before anything runs and releases it at the end', async () => {
    const a = hostWith('a');
    const r = await play([settings], { a: a.transport });
    expect(r.exitCode).toBe(0);
    expect(a.transport.log[0]).toMatch(/^hold: f=\/run\/lock\/hostkit\.lock$/);
    expect(a.transport.log.at(-1)).toBe('release');
  });

  it('a locked host: refused at once naming the holder, nothing else runs there, the other host completes; exit 1', async () => {
    const busy = failed(75, '');
    busy.stdout = 'control=desk\nuser=bob\npid=777\ncommand=scripts/provision.mjs\nsince=2026-12-01T13:59:00Z\nhostpid=31\n';
    const a = hostWith('a', [], busy);
    const b = hostWith('b');
    const r = await play([settings], { a: a.transport, b: b.transport });
    expect(r.exitCode).toBe(1);
    expect(r.of('a')[0]).toMatchObject({
      step: 'host lock',
      error:
        'a: host lock: refused: another hostkit run holds /run/lock/hostkit.lock: bob@desk (pid 777, since 2026-12-01T13:59:00Z): scripts/provision.mjs',
    });
    expect(a.transport.log).toHaveLength(1); // only the lock attempt
    expect(statuses(r.of('b'))).toEqual({ 'setting x': 'changed', 'setting y': 'changed' });
  });

  it('the lock script carries the holder (control machine, user, pid, command, since)', async () => {
    const a = hostWith('a');
    let script = '';
    const spy = Object.assign(Object.create(a.transport) as ScriptedTransport, {
      hold: (s: string, ready: string) => {
        script = s;
        return a.transport.hold(s, ready);
      },
    });
    await play([settings], { a: spy });
    for (const part of ['control=laptop', 'user=alice', 'pid=4242', "'command=roles/test.mjs -i inv.yaml'", 'since=2026-12-01T14:00:00Z'])
      expect(script).toContain(part);
  });

  it('--check takes no lock; the probe rides in the facts batch (one exec) and a held lock becomes a notice', async () => {
    const held = 'control=desk\nuser=bob\npid=777\ncommand=roles/stacks.mjs\nsince=2026-12-01T13:59:00Z\nhostpid=31\n';
    const a = hostWith('a', [[/\/proc\/locks/, ok(held)]]);
    a.state.set('x', '1');
    a.state.set('y', '2');
    const r = await play([settings], { a: a.transport }, { mode: 'check' });
    expect(r.exitCode).toBe(0);
    expect(a.transport.log).toHaveLength(1);
    expect(a.transport.log[0]).toMatch(/^gather: get x; get y; f=\/run\/lock\/hostkit.lock\n/);
    expect(r.of('a')[0]!.stats.execs).toBe(1);
    expect(r.events).toContainEqual({
      type: 'notice',
      message:
        'a: an apply is in progress (bob@desk (pid 777, since 2026-12-01T13:59:00Z): roles/stacks.mjs); this check sees the host mid-change',
    });
  });
});

describe('the host lock and dead-man safeguards', () => {
  it('the safeguard confirms over a fresh connection that never asks for the lock (the run holds it: no deadlock)', async () => {
    const main = hostWith('a', [[/^ARM$/, ok('armed')]]);
    const fresh = hostWith('a', [[/^DISARM$/, ok('disarmed')]]);
    for (const t of [main.transport, fresh.transport]) Object.defineProperty(t, 'kind', { value: 'ssh' });
    const guarded = roleOf('fw', () => ({
      resources: [setting('x', '1')],
      safeguard: { id: 'fw-1', protects: ['setting x'], timeoutSeconds: 30, arm: 'ARM', disarm: 'DISARM', status: 'STATUS', restores: 'x' },
    }));
    let opened = 0;
    const events: RunEvent[] = [];
    const r = await runPlaybook(inventory, [guarded], {
      mode: 'apply',
      holder,
      hosts: inventory.hosts.filter((h) => h.name === 'a'),
      reporter: { on: (e) => events.push(e) },
      openTransport: async () => (opened++ === 0 ? main.transport : fresh.transport),
    });
    expect(r.exitCode).toBe(0);
    expect(r.reports[0]!.safeguard?.status).toBe('confirmed');
    expect(main.transport.log[0]).toMatch(/^hold: /);
    expect(main.transport.log.at(-1)).toBe('release'); // held until after the confirmation
    expect(fresh.transport.log).toEqual(['DISARM']);
  });
});

describe('interrupts', () => {
  it('stops between resources: the running one finishes, its handler runs, the rest is skipped, later roles and hosts do not start; exit 130', async () => {
    const controller = new AbortController();
    const a = hostWith('a', [], LOCKED, (key) => key === 'x' && controller.abort('SIGINT'));
    const b = hostWith('b');
    const later = roleOf('later', () => ({ resources: [setting('z', '3')] }));
    const r = await play([settings, later], { a: a.transport, b: b.transport }, { signal: controller.signal, forks: 1 });
    expect(r.exitCode).toBe(130);
    const [ra] = r.of('a');
    expect(statuses([ra!])).toEqual({ 'setting x': 'changed', 'setting y': 'skipped' });
    expect(ra!.handlers).toEqual([{ id: 'reload app', status: 'ran' }]); // what changed gets its handler
    expect(ra!.interrupted).toBe(true);
    expect(r.of('a').map((x) => x.role)).toEqual(['settings']); // "later" did not start
    expect(a.transport.log.filter((l) => l.startsWith('set') || l.startsWith('reload'))).toEqual(['set x 1', 'reload app']);
    expect(a.transport.log.at(-1)).toBe('release');
    expect(r.of('b')).toEqual([expect.objectContaining({ interrupted: true, resources: [] })]);
    expect(b.transport.log).toEqual([]); // never contacted
    const done = r.events.at(-1);
    expect(done?.type === 'run-done' && done.exitCode).toBe(130);
  });

  it('a re-run after the interrupt converges: only what was skipped changes', async () => {
    const controller = new AbortController();
    const a = hostWith('a', [], LOCKED, (key) => key === 'x' && controller.abort('SIGINT'));
    await play([settings], { a: a.transport }, { signal: controller.signal });
    const again = await play([settings], { a: a.transport });
    expect(again.exitCode).toBe(0);
    expect(statuses(again.reports)).toEqual({ 'setting x': 'ok', 'setting y': 'changed' });
    const third = await play([settings], { a: a.transport });
    expect(statuses(third.reports)).toEqual({ 'setting x': 'ok', 'setting y': 'ok' });
  });
});

describe('a dropped connection mid-apply', () => {
  it('fails that host naming the resource and the step that was running; the other host completes', async () => {
    const lost = () => {
      throw new TransportError('a', 'exec', 'connection to 127.0.0.1:22 lost (read ECONNRESET) while running `set y 2`');
    };
    const a = hostWith('a', [[/^set y 2$/, lost]]);
    const b = hostWith('b');
    const r = await play([settings], { a: a.transport, b: b.transport });
    expect(r.exitCode).toBe(1);
    const [ra] = r.of('a');
    expect(ra).toMatchObject({ error: 'a: settings: setting y failed', step: 'setting y: y -> 2' });
    expect(ra!.resources.find((x) => x.id === 'setting y')?.error).toMatch(/lost \(read ECONNRESET\) while running `set y 2`/);
    expect(statuses(r.of('b'))).toEqual({ 'setting x': 'changed', 'setting y': 'changed' });
  });
});

describe('reports of an interrupted run', () => {
  it('JSON: status "interrupted", exit code 130, what was let finish; JUnit: an error case per interrupted role', async () => {
    const { JsonReporter } = await import('../../src/report/json.js');
    const { junitXml } = await import('../../src/report/junit.js');
    const controller = new AbortController();
    const a = hostWith('a', [], LOCKED, (key) => key === 'x' && controller.abort('SIGINT'));
    const r = await play([settings], { a: a.transport }, { signal: controller.signal });
    let text = '';
    const j = new JsonReporter(
      {
        write: (s: string) => {
          text += s;
          return true;
        },
      } as unknown as NodeJS.WritableStream,
      'apply',
    );
    j.on({
      type: 'interrupt',
      signal: 'SIGINT',
      running: [{ host: 'a', role: 'settings', id: 'setting x', step: 'x -> 1' }],
      graceSeconds: 120,
    });
    j.on({ type: 'run-done', mode: 'apply', exitCode: r.exitCode, reports: r.reports, skipped: [] });
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({
      exitCode: 130,
      status: 'interrupted',
      interrupted: { signal: 'SIGINT', running: [{ host: 'a', id: 'setting x' }] },
      hosts: [{ host: 'a', interrupted: true }],
    });
    const xml = junitXml(r.reports, { mode: 'apply' });
    expect(xml).toContain('<testcase classname="a.settings" name="settings: interrupted"');
    expect(xml).toMatch(/<testcase classname="a.settings" name="setting y" time="0.000">\n\s+<skipped\/>/);
  });
});

describe('an apply reads every role facts in one batch while nothing changed the host', () => {
  // w is set to whatever x holds: it plans from x as the host has it when the role runs.
  const xFact = defineFact('test.value', ['x'], 'get x', ({ stdout }) => stdout);
  const wFact = defineFact('test.value', ['w'], 'get w', ({ stdout }) => stdout);
  const mirror: Resource = {
    id: 'mirror x to w',
    facts: () => [xFact, wFact],
    plan: (facts) =>
      facts.get(xFact) === facts.get(wFact)
        ? []
        : [{ summary: 'w -> x', actions: [{ kind: 'exec', script: `set w ${facts.get(xFact)}` }] }],
  };
  const second = roleOf('second', () => ({ resources: [mirror] }));

  it('a converged host: the lock, then ONE exec for the probes of both roles, 0 changed', async () => {
    const a = hostWith('a');
    for (const [k, v] of [
      ['x', '1'],
      ['y', '2'],
      ['w', '1'],
    ] as const)
      a.state.set(k, v);
    const r = await play([settings, second], { a: a.transport });
    expect(r.exitCode).toBe(0);
    expect(statuses(r.of('a'))).toEqual({ 'setting x': 'ok', 'setting y': 'ok', 'mirror x to w': 'ok' });
    expect(a.transport.log.filter((l) => l.startsWith('gather:'))).toEqual(['gather: get x; get y; get w']);
    expect(r.of('a').at(-1)!.stats.execs).toBe(2); // the lock and the batch
  });

  it('once a role changed the host, a later role plans from fresh facts, not from the batch read before', async () => {
    const a = hostWith('a');
    const r = await play([settings, second], { a: a.transport });
    expect(statuses(r.of('a'))).toEqual({ 'setting x': 'changed', 'setting y': 'changed', 'mirror x to w': 'changed' });
    expect(a.state.get('w')).toBe('1'); // the batch had read x as "absent"
    expect(a.transport.log.filter((l) => l.startsWith('gather:'))).toEqual(['gather: get x; get y; get w', 'gather: get x; get w']);
    const again = await play([settings, second], { a: a.transport });
    expect(statuses(again.of('a'))).toEqual({ 'setting x': 'ok', 'setting y': 'ok', 'mirror x to w': 'ok' });
  });
});

describe("a role that reads a service's API", () => {
  const plain = roleOf('plain', () => ({ resources: [setting('x', '1')] }));
  const apiRole = (fetch: () => Promise<string>) =>
    roleOf('api', () => ({
      resources: [
        {
          id: 'api value',
          facts: () => [{ key: 'test.api', name: 'test.api', command: '', parse: () => '', fetch }],
          plan: () => [],
        },
      ],
    }));

  it('apply: read at its turn, after the roles before it ran (not in the batch up front)', async () => {
    const a = hostWith('a');
    a.state.set('x', '1');
    const order: string[] = [];
    const r = await play(
      [
        roleOf('plain', () => ({
          resources: [
            {
              ...setting('x', '1'),
              plan: () => {
                order.push('plain planned');
                return [];
              },
            },
          ],
        })),
        apiRole(async () => {
          order.push('api read');
          return 'v';
        }),
      ],
      {
        a: a.transport,
      },
    );
    expect(r.exitCode).toBe(0);
    expect(order).toEqual(['plain planned', 'api read']);
  });

  it('check: an API that fails fails only the role that reads it', async () => {
    const a = hostWith('a', [[/hostkit\.lock/, ok()]]);
    a.state.set('x', '1');
    const r = await play(
      [plain, apiRole(async () => Promise.reject(new Error('NPM did not answer')))],
      { a: a.transport },
      { mode: 'check' },
    );
    expect(r.exitCode).toBe(1);
    expect(r.of('a').map((x) => [x.role, x.error ?? 'ok'])).toEqual([
      ['plain', 'ok'],
      ['api', expect.stringContaining('NPM did not answer')],
    ]);
  });
});
