import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRole } from '../../src/engine/role-input.js';
import { confirmSafeguard, rollbackSafeguard } from '../../src/engine/safeguard.js';
import { runRole } from '../../src/engine/run-role.js';
import type { Fact, Resource, Role, Safeguard } from '../../src/engine/types.js';
import { LocalTransport } from '../../src/transports/local.js';
import type { Transport } from '../../src/transports/types.js';
import type { HostConfig, Inventory } from '../../src/inventory/types.js';
import { firewallRole } from '../../src/roles/firewall.js';
import { parseInventory } from '../../src/inventory/index.js';
import { SABOTAGE_ENV } from '../../src/resources/ufw-firewall.js';

const dir = mkdtempSync(join(tmpdir(), 'hostkit-deadman-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sh = (script: string) => {
  try {
    return { code: 0, out: execFileSync('sh', ['-c', script], { encoding: 'utf8' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { code: e.status, out: e.stdout };
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rollbackSafeguard: the host-side scripts (run here with sh, sleep timer)', () => {
  const spec = (name: string, file: string, extra = '') => ({
    name,
    timeoutSeconds: 1,
    protects: ['x'],
    paths: [file, join(dir, `${name}-absent`)],
    stateCommand: 'echo was-on',
    restoreCommand: `echo "$state" > ${join(dir, `${name}-restored-state`)}${extra}`,
    restores: 'the test file',
    root: join(dir, 'sg'),
    timer: 'sleep' as const,
    id: name,
  });

  it('are valid POSIX sh', () => {
    const sg = rollbackSafeguard({ ...spec('syntax', '/etc/hostname'), timer: 'auto', root: undefined });
    for (const s of [sg.arm, sg.disarm, sg.status]) expect(() => execFileSync('sh', ['-n', '-c', s])).not.toThrow();
    expect(sg.arm).toContain('systemd-run --quiet --collect --unit=hostkit-safeguard-syntax --on-active=1s');
    expect(sg.arm).toContain('/var/lib/hostkit/safeguard/syntax');
  });

  it('unconfirmed: the host restores the files, removes new ones and runs the restore command by itself', async () => {
    const file = join(dir, 'rules');
    writeFileSync(file, 'old rules\n');
    const sg = rollbackSafeguard(spec('fire', file));
    expect(sh(sg.arm).code).toBe(0);
    writeFileSync(file, 'new rules that lock you out\n');
    writeFileSync(join(dir, 'fire-absent'), 'created by the apply\n');
    expect(sh(sg.status).code).toBe(1); // not yet
    await sleep(2500);
    expect(readFileSync(file, 'utf8')).toBe('old rules\n');
    expect(existsSync(join(dir, 'fire-absent'))).toBe(false);
    expect(readFileSync(join(dir, 'fire-restored-state'), 'utf8')).toBe('was-on\n');
    const st = sh(sg.status);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/^rollback ran at .* rc=0/);
    expect(sh(sg.disarm).code).toBe(3); // too late to confirm
  });

  it('confirmed in time: the timer never restores', async () => {
    const file = join(dir, 'rules2');
    writeFileSync(file, 'old\n');
    const sg = rollbackSafeguard(spec('ok', file));
    expect(sh(sg.arm).code).toBe(0);
    writeFileSync(file, 'new\n');
    expect(sh(sg.disarm)).toEqual({ code: 0, out: 'disarmed\n' });
    await sleep(2000);
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(existsSync(join(dir, 'sg', 'ok'))).toBe(false);
  });
});

/** A transport that fails to connect, or one whose exec answers from a table. */
const fake = (answer: (script: string) => number, stdout = ''): Transport => ({
  host: 'h',
  kind: 'ssh',
  stats: { connections: 1, execs: 0 },
  exec: async (script: string) => ({ stdout, stderr: '', exitCode: answer(script) }),
  writeFile: async () => undefined,
  close: async () => undefined,
});
const sg: Safeguard = {
  id: 'fw-1',
  protects: ['r'],
  timeoutSeconds: 30,
  arm: 'ARM',
  disarm: 'DISARM',
  status: 'STATUS',
  restores: 'the previous firewall rules',
};

describe('confirmSafeguard', () => {
  it('a fresh connection works: disarmed, confirmed', async () => {
    const r = await confirmSafeguard(sg, { reconnect: async () => fake(() => 0), armedAt: Date.now() });
    expect(r).toEqual({ id: 'fw-1', status: 'confirmed', detail: 'a fresh connection works; the rollback timer was cancelled' });
  });

  it('the fresh connection fails: waits for the deadline, reports the rollback once SSH works again', async () => {
    let t = 0;
    let tries = 0;
    const reconnect = async () => {
      tries++;
      if (t < 30_000) throw new Error('h: connect: ETIMEDOUT: no SSH session within 10000 ms');
      return fake((s) => (s === 'STATUS' ? 0 : 1), 'rollback ran at 2025-01-01T00:00:30Z rc=0\n');
    };
    const r = await confirmSafeguard(sg, { reconnect, armedAt: 0, now: () => t, sleep: async (ms) => void (t += ms) });
    expect(r.status).toBe('reverted');
    expect(r.detail).toBe(
      'a fresh connection failed after the apply (h: connect: ETIMEDOUT: no SSH session within 10000 ms); the host restored ' +
        'the previous firewall rules by itself after 30 s and a fresh connection works again (rollback ran at 2025-01-01T00:00:30Z rc=0)',
    );
    expect(tries).toBe(2);
  });

  it('the rollback already ran when the confirmation arrives (apply slower than the timeout)', async () => {
    const r = await confirmSafeguard(sg, { reconnect: async () => fake((s) => (s === 'DISARM' ? 3 : 0), 'rolled back: x'), armedAt: 0 });
    expect(r.status).toBe('reverted');
    expect(r.detail).toMatch(/took longer than the 30 s timeout.*raise the timeout/);
  });

  it('never reachable again: failed, pointing at the console', async () => {
    let t = 0;
    const r = await confirmSafeguard(sg, {
      reconnect: async () => {
        throw new Error('EHOSTUNREACH');
      },
      armedAt: 0,
      now: () => t,
      sleep: async (ms) => void (t += ms),
    });
    expect(r.status).toBe('failed');
    expect(r.detail).toMatch(/still fails \(EHOSTUNREACH\); use the provider's console/);
  });
});

describe('runRole with a safeguard and an audit', () => {
  const host = { name: 'h', become: false, port: 22 } as HostConfig;
  const inventory = {} as Inventory;
  const state = join(dir, 'state');
  const log = join(dir, 'log');
  const readFact: Fact<string> = { key: 'state', command: `cat ${state} 2>/dev/null || echo none`, parse: ({ stdout }) => stdout.trim() };
  const res = (id: string, want: string, notify?: string[]): Resource => ({
    id,
    facts: () => [readFact],
    plan: (facts) =>
      facts.get(readFact) === want
        ? []
        : [{ summary: `set ${want}`, actions: [{ kind: 'exec', script: `echo ${want} > ${state}; echo ${id} >> ${log}` }] }],
    ...(notify ? { notify } : {}),
  });
  const audit: Resource = {
    id: 'audit',
    audit: true,
    facts: () => [readFact],
    plan: (facts) =>
      facts.get(readFact) === 'good'
        ? []
        : [{ summary: `state is ${facts.get(readFact)}`, actions: [{ kind: 'exec', script: 'exit 99' }] }],
    notes: (facts) => [`saw ${facts.get(readFact)}`],
  };
  const local = new LocalTransport({ name: 'h', become: false });
  const asSsh = (t: Transport): Transport =>
    Object.assign(Object.create(t) as Transport, { kind: 'ssh' as const, exec: t.exec.bind(t), close: async () => undefined });
  const role = (safeguard: Safeguard): Role => ({
    name: 'r',
    description: '',
    build: () => ({
      resources: [res('unprotected', 'prep'), res('protected', 'good', ['h1']), audit],
      handlers: [{ id: 'h1', actions: [{ kind: 'exec', script: `echo handler >> ${log}` }] }],
      safeguard,
    }),
  });
  const guard: Safeguard = { ...sg, protects: ['protected'], arm: `echo arm >> ${log}`, disarm: `echo disarm >> ${log}`, status: 'exit 1' };

  it('check mode: nothing armed, the audit is drift', async () => {
    writeFileSync(state, 'bad\n');
    writeFileSync(log, '');
    const rep = await runRole(asSsh(local), role(guard), inventory, host, { mode: 'check', reconnect: async () => asSsh(local) });
    expect(readFileSync(log, 'utf8')).toBe('');
    expect(rep.safeguard).toBeUndefined();
    expect(rep.resources.find((r) => r.id === 'audit')).toMatchObject({
      status: 'would-change',
      changes: [{ summary: 'state is bad' }],
      notes: ['saw bad'],
    });
  });

  it('apply: armed right before the first protected change, confirmed after the handlers over a fresh connection; the audit judges the final state', async () => {
    writeFileSync(state, 'bad\n');
    writeFileSync(log, '');
    let fresh = 0;
    const rep = await runRole(asSsh(local), role(guard), inventory, host, {
      mode: 'apply',
      reconnect: async () => {
        fresh++;
        return asSsh(local);
      },
    });
    expect(readFileSync(log, 'utf8')).toBe('unprotected\narm\nprotected\nhandler\ndisarm\n');
    expect(fresh).toBe(1);
    expect(rep.safeguard?.status).toBe('confirmed');
    expect(rep.error).toBeUndefined();
    expect(rep.resources.map((r) => [r.id, r.status])).toEqual([
      ['unprotected', 'changed'],
      ['protected', 'changed'],
      ['audit', 'ok'],
    ]);
    expect(rep.resources[2]!.notes).toEqual(['saw good']);
  });

  it('apply with nothing protected to change: never armed, one round trip', async () => {
    writeFileSync(state, 'good\n');
    writeFileSync(log, '');
    const t = asSsh(new LocalTransport({ name: 'h', become: false }));
    const rep = await runRole(t, role(guard), inventory, host, { mode: 'apply', reconnect: async () => t });
    expect(readFileSync(log, 'utf8')).toBe('unprotected\n');
    expect(rep.safeguard).toBeUndefined();
  });

  it('an audit finding in apply is a warning, not a change or a failure', async () => {
    writeFileSync(state, 'good\n');
    const quiet: Role = {
      name: 'q',
      description: '',
      build: () => ({ resources: [{ ...audit, plan: () => [{ summary: 'port 5432 exposed', actions: [] }] }] }),
    };
    const rep = await runRole(asSsh(local), quiet, inventory, host, { mode: 'apply' });
    expect(rep.resources).toEqual([
      expect.objectContaining({ id: 'audit', status: 'ok', notes: ['saw good', 'warning: port 5432 exposed'] }),
    ]);
  });
});

describe('the firewall role wiring', () => {
  const inv = parseInventory(
    'all: { hosts: { web1: { address: 10.0.0.1 } } }\nfirewall: { docker: true, deadman_timeout: 45, rules: ["22/tcp", "80/tcp"] }\n',
    'inline.yaml',
  );
  it('protects the filter and the rules with a 45 s dead-man switch, audits last', () => {
    const built = buildRole(firewallRole, inv, inv.hosts[0]!);
    expect(built.resources.map((r) => r.id)).toEqual(['package ufw', 'ufw docker-user filter', 'ufw firewall', 'exposure audit']);
    expect(built.safeguard).toMatchObject({
      timeoutSeconds: 45,
      protects: ['ufw docker-user filter', 'ufw firewall'],
      restores: 'the previous firewall rules',
    });
    expect(built.safeguard!.arm).toContain('/etc/ufw/user.rules');
    expect(built.handlers?.map((h) => h.id)).toEqual(['ufw reload']);
  });
  it(`${SABOTAGE_ENV}=1 adds the test-only rule after the guarded ones, protected too`, () => {
    process.env[SABOTAGE_ENV] = '1';
    try {
      const built = buildRole(firewallRole, inv, inv.hosts[0]!);
      expect(built.resources.map((r) => r.id)).toContain('TEST-ONLY ssh sabotage');
      expect(built.safeguard!.protects).toContain('TEST-ONLY ssh sabotage');
    } finally {
      delete process.env[SABOTAGE_ENV];
    }
  });
});
