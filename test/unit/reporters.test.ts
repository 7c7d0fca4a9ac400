import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/run.js';
import type { HostReport, Resource, Role } from '../../src/engine/types.js';
import type { HostConfig, Inventory } from '../../src/inventory/types.js';
import { ConsoleReporter, consoleDefaults } from '../../src/report/console.js';
import { JsonReporter } from '../../src/report/json.js';
import { JunitReporter, junitXml, xmlEscape } from '../../src/report/junit.js';
import { TransportError } from '../../src/transports/types.js';

const XSD = join(import.meta.dirname, '..', 'fixtures', 'junit', 'junit-10.xsd');

/** A stream that keeps what was written; `tty` makes it look like a terminal. */
function sink(tty = false): PassThrough & { text(): string; isTTY?: boolean; columns?: number } {
  const s = new PassThrough() as PassThrough & { text(): string; isTTY?: boolean; columns?: number };
  let buf = '';
  s.on('data', (c: Buffer) => {
    buf += c.toString();
  });
  s.text = () => buf;
  if (tty) {
    s.isTTY = true;
    s.columns = 100;
  }
  return s;
}

const report = (over: Partial<HostReport> = {}): HostReport => ({
  host: 'web1',
  role: 'firewall',
  mode: 'check',
  resources: [
    { id: 'package ufw', status: 'ok', changes: [], durationMs: 3 },
    {
      id: 'ufw rule allow 22/tcp',
      status: 'would-change',
      changes: [{ summary: 'allow 22/tcp (v4+v6)', diff: '-old\n+new <&>\n' }],
      durationMs: 0,
    },
    { id: 'ufw defaults', status: 'would-change', changes: [{ summary: 'incoming allow -> deny' }], durationMs: 0 },
    { id: 'ufw enabled', status: 'skipped', changes: [], durationMs: 0 },
  ],
  handlers: [],
  durationMs: 1234,
  stats: { connections: 1, execs: 4 },
  ...over,
});

const events = (r: HostReport): RunEvent[] => [
  { type: 'run-started', mode: r.mode, hosts: [r.host], roles: [r.role], skipped: [] },
  { type: 'role-started', host: r.host, role: r.role },
  { type: 'host-connected', host: r.host, transport: 'ssh' },
  ...r.resources.map((x) => ({ type: 'resource-done' as const, host: r.host, role: r.role, report: x })),
  { type: 'role-done', report: r },
  { type: 'host-done', host: r.host, reports: [r] },
  { type: 'run-done', mode: r.mode, exitCode: 2, reports: [r], skipped: [] },
];

describe('console reporter', () => {
  it('plain (not a TTY): lines only, no control characters, RECAP at the end', () => {
    const out = sink(false);
    const c = new ConsoleReporter(out, { mode: 'check', diff: false });
    for (const e of events(report())) c.on(e);
    const text = out.text();
    expect(text).toContain('== firewall on web1 (check)');
    expect(text).toContain('  drift    ufw rule allow 22/tcp');
    expect(text).toContain('      > allow 22/tcp (v4+v6)');
    expect(text).toMatch(/RECAP\n {2}web1 +ok=1 drift=2 failed=0 skipped=1/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
    expect(text).not.toMatch(/[\x1b\r]/);
  });

  it('TTY: a live line (host, role, resource, step, seconds) redrawn while a step runs, erased before each line', async () => {
    const out = sink(true);
    const c = new ConsoleReporter(out, { mode: 'apply', diff: false, color: false, live: true, refreshMs: 20 });
    c.on({ type: 'run-started', mode: 'apply', hosts: ['web1'], roles: ['stacks'], skipped: [] });
    c.on({ type: 'role-started', host: 'web1', role: 'stacks' });
    c.on({ type: 'resource-started', host: 'web1', role: 'stacks', id: 'stack up web', step: 'compose up --wait' });
    const before = out.text().length;
    await new Promise((r) => setTimeout(r, 120));
    const redraws = out.text().slice(before);
    expect(redraws).toContain('\r\x1b[2K… 0s web1 stacks: stack up web: compose up --wait');
    expect(redraws.split('\r\x1b[2K').length).toBeGreaterThan(2); // refreshed, not drawn once
    expect(c.statusLine(Date.now() + 47_000)).toMatch(/^… 4[67]s web1 stacks: stack up web: compose up --wait$/);
    c.on({
      type: 'resource-done',
      host: 'web1',
      role: 'stacks',
      report: { id: 'stack up web', status: 'changed', changes: [{ summary: 'compose up --wait' }], durationMs: 47_000 },
    });
    expect(out.text()).toContain('\r\x1b[2K  changed  stack up web  47.00s\n');
    c.on({ type: 'run-done', mode: 'apply', exitCode: 0, reports: [], skipped: [] });
    expect(out.text().endsWith('RECAP\n')).toBe(true);
    const n = out.text().length;
    await new Promise((r) => setTimeout(r, 60));
    expect(out.text().length).toBe(n); // the timer stopped with the run
  });

  it('CI turns the live line off, NO_COLOR the colours; a non-TTY has neither', () => {
    const tty = sink(true);
    expect(consoleDefaults(tty, {})).toEqual({ live: true, color: true });
    expect(consoleDefaults(tty, { CI: 'true' })).toEqual({ live: false, color: true });
    expect(consoleDefaults(tty, { NO_COLOR: '1' })).toEqual({ live: true, color: false });
    expect(consoleDefaults(sink(false), {})).toEqual({ live: false, color: false });
    const out = sink(true);
    const c = new ConsoleReporter(out, { mode: 'check', diff: false, live: false, color: true });
    c.on({ type: 'notice', message: 'hello' });
    expect(out.text()).toBe('\x1b[33mnotice\x1b[0m hello\n');
  });
});

describe('JSON reporter', () => {
  it('a run that fails before any host: one JSON error object, exit code 1', () => {
    const out = sink();
    const j = new JsonReporter(out, 'check');
    j.on({ type: 'run-failed', error: 'inventory.yaml: hosts.web1.port: expected a number' });
    j.on({ type: 'run-failed', error: 'a second failure adds no second document' });
    expect(JSON.parse(out.text())).toEqual({
      version: 1,
      mode: 'check',
      exitCode: 1,
      hosts: [],
      skipped: [],
      error: { message: 'inventory.yaml: hosts.web1.port: expected a number' },
    });
  });

  it('a host that failed: the report as today plus the error object naming the host', () => {
    const out = sink();
    const j = new JsonReporter(out, 'check');
    const bad = report({ host: 'web2', resources: [], error: 'web2: connect: ECONNREFUSED 127.0.0.1:1' });
    const good = report();
    j.on({ type: 'run-done', mode: 'check', exitCode: 1, reports: [good, bad], skipped: [] });
    const doc = JSON.parse(out.text());
    expect(doc.hosts).toHaveLength(2);
    expect(doc.exitCode).toBe(1);
    expect(doc.error).toEqual({ message: 'web2: connect: ECONNREFUSED 127.0.0.1:1', host: 'web2', role: 'firewall' });
  });

  it('a clean or drifting run has no error object', () => {
    const out = sink();
    new JsonReporter(out, 'check').on({ type: 'run-done', mode: 'check', exitCode: 2, reports: [report()], skipped: [] });
    expect(JSON.parse(out.text()).error).toBeUndefined();
  });
});

async function validate(xml: string): Promise<{ exitCode: number; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostkit-junit-'));
  const file = join(dir, 'report.xml');
  await writeFile(file, xml);
  const r = await execa('xmllint', ['--noout', '--schema', XSD, file], { reject: false });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

describe('JUnit reporter', () => {
  it('one testsuite per host and role, one testcase per resource; drift in --check = failure with the drift lines', async () => {
    const failed = report({
      role: 'docker',
      mode: 'check',
      resources: [
        { id: 'package docker-ce', status: 'failed', changes: [], durationMs: 10, error: 'web1: apt: exit 100\n  stderr: E: \x07broken' },
      ],
      error: 'web1: docker: package docker-ce failed',
    });
    const unreachable = report({ host: 'web2', resources: [], error: 'web2: connect: ECONNREFUSED' });
    const xml = junitXml([report(), failed, unreachable], { mode: 'check', timestamp: new Date('2026-12-01T10:00:00Z') });
    const v = await validate(xml);
    expect(v.exitCode, `${v.stderr}\n${xml}`).toBe(0);
    expect(xml).toContain('<testsuite name="web1 firewall" tests="4" failures="2" errors="0" skipped="1"');
    expect(xml).toContain('<testcase classname="web1.firewall" name="package ufw" time="0.003"/>');
    expect(xml).toContain(
      '<failure type="drift" message="drift: 1 change needed">&gt; allow 22/tcp (v4+v6)\n-old\n+new &lt;&amp;&gt;</failure>',
    );
    expect(xml).toMatch(
      /<testcase classname="web1.docker" name="package docker-ce"[^>]*>\n\s+<error type="error" message="web1: apt: exit 100">/,
    );
    expect(xml).not.toContain('\x07');
    expect(xml).toContain('name="firewall: connect and gather facts"');
    expect(xml).toMatch(/<testsuites name="hostkit check" tests="6" failures="2" errors="2"/);
  });

  it('apply: changes pass (listed in system-out); a run that failed before any host is one error', async () => {
    const applied = report({
      mode: 'apply',
      resources: [{ id: 'file /etc/x', status: 'changed', changes: [{ summary: 'content' }], durationMs: 5 }],
    });
    const xml = junitXml([applied], { mode: 'apply', runError: 'secrets file missing' });
    expect((await validate(xml)).exitCode).toBe(0);
    expect(xml).toContain('<system-out>~ content</system-out>');
    expect(xml).toContain('<error type="error" message="secrets file missing">');
  });

  it('the reporter writes the file when the run ends', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'hostkit-junit-')), 'out.xml');
    const j = new JunitReporter(file, 'check');
    for (const e of events(report())) j.on(e);
    await j.close();
    expect((await validate(await readFile(file, 'utf8'))).exitCode).toBe(0);
    expect(xmlEscape('a"b\'c')).toBe('a&quot;b&apos;c');
  });
});

describe('runPlaybook events', () => {
  const host = (name: string): HostConfig => ({
    name,
    address: '127.0.0.1',
    port: 1,
    user: 'root',
    become: false,
    connection: 'ssh',
    protected: false,
    hostKeyChecking: 'strict',
    connectTimeoutMs: 1000,
    groups: ['all'],
  });
  const inventory = { sources: [], hosts: [host('a'), host('b')], groups: {}, doc: {}, warnings: [] } as unknown as Inventory;
  const resource: Resource = { id: 'noop', facts: () => [], plan: () => [] };
  const role: Role = { name: 'r', description: '', build: () => ({ resources: [resource] }) };

  it('an unreachable host: role-done with the error, the other host runs; the engine prints nothing itself', async () => {
    const seen: RunEvent[] = [];
    const result = await runPlaybook(inventory, [role], {
      mode: 'check',
      reporter: { on: (e) => seen.push(e) },
      openTransport: async (h) => {
        if (h.name === 'b') throw new TransportError('b', 'connect', 'ECONNREFUSED');
        return {
          host: h.name,
          kind: 'ssh',
          stats: { connections: 1, execs: 0 },
          exec: async () => ({ stdout: '', stderr: '', exitCode: 0 }),
          writeFile: async () => undefined,
          close: async () => undefined,
        };
      },
    });
    expect(result.exitCode).toBe(1);
    expect(seen.map((e) => `${e.type}${'host' in e ? ` ${e.host}` : ''}`)).toEqual(
      expect.arrayContaining([
        'run-started',
        'role-started a',
        'host-connected a',
        'resource-planned a',
        'resource-done a',
        'host-done b',
        'run-done',
      ]),
    );
    const failed = seen.find((e) => e.type === 'role-done' && e.report.host === 'b');
    expect(failed?.type === 'role-done' && failed.report.error).toBe('b: connect: ECONNREFUSED');
    expect(seen.at(-1)?.type).toBe('run-done');
  });

  it('openTransport maps --accept-new-host-keys and --connect-timeout onto the host in one place', async () => {
    const { withConnectionOptions } = await import('../../src/transports/connect.js');
    const h = withConnectionOptions(host('a'), { acceptNewHostKeys: true, connectTimeoutMs: 2500 });
    expect(h).toMatchObject({ hostKeyChecking: 'accept-new', connectTimeoutMs: 2500 });
    expect(withConnectionOptions(host('a'), {})).toEqual(host('a'));
  });
});
