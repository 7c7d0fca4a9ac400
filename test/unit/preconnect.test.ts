/**
 * Connections opened ahead (src/cli/preconnect.ts) against ssh2's in-process Server on 127.0.0.1:
 * the engine takes them through runPlaybook's openTransport, a failure reads as without them,
 * and none is left open on any path (a run that failed before the hosts, an interrupted one,
 * a handshake still under way).
 */
import { readableKeyPair } from './ssh-keys.js';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preconnect, Preconnected } from '../../src/cli/preconnect.js';
import { defineFact } from '../../src/facts/define.js';
import { runPlaybook } from '../../src/engine/run.js';
import type { Role } from '../../src/engine/types.js';
import type { HostConfig, Inventory } from '../../src/inventory/types.js';
import { BaseResource } from '../../src/engine/resource.js';

const { Server, utils } = ssh2;

function keyPair() {
  const pair = readableKeyPair();
  return { ...pair, blob: (utils.parseKey(pair.public) as ParsedKey).getPublicSSH() };
}

const clientKey = keyPair();
const hostKey = keyPair();
const open = new Set<Connection>();
let connections = 0;
let server: InstanceType<typeof Server>;
let port = 0;
let dir = '';

beforeAll(async () => {
  server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    connections++;
    open.add(conn);
    conn.on('error', () => {});
    conn.on('close', () => open.delete(conn));
    conn.on('authentication', (ctx) =>
      ctx.method === 'publickey' && ctx.key.data.equals(clientKey.blob) ? ctx.accept() : ctx.reject(['publickey']),
    );
    conn.on('session', (accept) =>
      accept().on('exec', (acceptExec, _reject, info) => {
        // As sshd does: the command through /bin/sh (the fact batch is harmless: `true` and the lock probe).
        const stream = acceptExec();
        const child = spawn('/bin/sh', ['-c', info.command]);
        stream.pipe(child.stdin);
        child.stdin.on('error', () => {});
        child.stdout.on('data', (d: Buffer) => stream.write(d));
        child.stderr.on('data', (d: Buffer) => stream.stderr.write(d));
        child.on('close', (code) => {
          stream.exit(code ?? 255);
          stream.end();
        });
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), 'hostkit-preconnect-'));
  await writeFile(join(dir, 'id'), clientKey.private, { mode: 0o600 });
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ssh-ed25519 ${hostKey.blob.toString('base64')}\n`);
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

function host(name: string, over: Partial<HostConfig> = {}): HostConfig {
  return {
    name,
    address: '127.0.0.1',
    port,
    user: 'root',
    identityFile: join(dir, 'id'),
    become: false,
    connection: 'ssh',
    protected: false,
    knownHosts: join(dir, 'known_hosts'),
    hostKeyChecking: 'strict',
    connectTimeoutMs: 3_000,
    groups: ['all'],
    ...over,
  };
}

const echo = defineFact('test.echo', [], 'true', () => 'ok');
class Probe extends BaseResource<{ name: string }> {
  readonly kind = 'probe';
  identity() {
    return this.spec.name;
  }
  facts() {
    return [echo];
  }
  plan() {
    return [];
  }
}
const probeRole: Role = { name: 'probe', description: 'reads one fact', build: () => ({ resources: [new Probe({ name: 'one' })] }) };
const inventory = (hosts: HostConfig[]): Inventory => ({
  sources: [],
  hosts,
  groups: { all: hosts.map((h) => h.name) },
  doc: { all: {} },
  warnings: [],
});

/** Until the server has seen every connection close (sockets end asynchronously). */
async function allClosed(): Promise<void> {
  for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(open.size, 'connections left open on the server').toBe(0);
}

describe('connections opened ahead', () => {
  it('are the ones the engine uses: one connection per host, closed at the end', async () => {
    const hosts = [host('a'), host('b')];
    const before = connections;
    const ahead = new Preconnected(hosts, {});
    const result = await runPlaybook(inventory(hosts), [probeRole], { mode: 'check', hosts, openTransport: ahead.open }).finally(() =>
      ahead.close(),
    );
    expect(result.exitCode).toBe(0);
    expect(result.reports.map((r) => [r.host, r.stats.connections, r.error])).toEqual([
      ['a', 1, undefined],
      ['b', 1, undefined],
    ]);
    expect(connections - before).toBe(2);
    await allClosed();
  });

  it('a later open of the same host (a safeguard reconnect) is a connection of its own', async () => {
    const ahead = new Preconnected([host('a')], {});
    const first = await ahead.open(host('a'));
    const second = await ahead.open(host('a'));
    expect(second).not.toBe(first);
    await Promise.all([first.close(), second.close(), ahead.close()]);
    await allClosed();
  });

  it('are closed when the run fails before any host is run', async () => {
    const hosts = [host('a')];
    const ahead = new Preconnected(hosts, {});
    await new Promise((r) => setTimeout(r, 150)); // let the handshake finish
    const broken: Role = {
      ...probeRole,
      config: () => {
        throw new Error('config failed');
      },
    };
    await expect(
      runPlaybook(inventory(hosts), [broken], { mode: 'check', hosts, openTransport: ahead.open }).finally(() => ahead.close()),
    ).rejects.toThrow('config failed');
    await allClosed();
  });

  it('are closed when the run is interrupted before a host is run', async () => {
    const hosts = [host('a')];
    const ahead = new Preconnected(hosts, {});
    const signal = AbortSignal.abort();
    const result = await runPlaybook(inventory(hosts), [probeRole], { mode: 'check', hosts, signal, openTransport: ahead.open }).finally(
      () => ahead.close(),
    );
    expect(result.exitCode).toBe(130);
    await allClosed();
  });

  it('a handshake still under way is abandoned at once, its socket closed', async () => {
    // A listener that accepts and never speaks SSH: the handshake would wait for connect_timeout.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.resume(); // reads, so that it sees the client's end
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const ahead = new Preconnected([host('a', { port: silentPort, connectTimeoutMs: 10_000 })], {});
    for (let i = 0; i < 50 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sockets.size).toBe(1);
    const t0 = Date.now();
    await ahead.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    for (let i = 0; i < 50 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sockets.size, 'the abandoned socket is closed').toBe(0);
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('a refused connection fails that host with the same message as without them', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const hosts = [host('a', { port: closedPort })];
    const plain = await runPlaybook(inventory(hosts), [probeRole], { mode: 'check', hosts });
    const ahead = new Preconnected(hosts, {});
    const early = await runPlaybook(inventory(hosts), [probeRole], { mode: 'check', hosts, openTransport: ahead.open }).finally(() =>
      ahead.close(),
    );
    expect(plain.reports[0]!.error).toMatch(/ECONNREFUSED/);
    expect(early.reports.map((r) => [r.error, r.step])).toEqual(plain.reports.map((r) => [r.error, r.step]));
    expect(early.exitCode).toBe(plain.exitCode);
  });

  it('only when no role has a prepare, never with --local, for ssh hosts, at most forks of them', async () => {
    const hosts = [host('a'), host('b', { connection: 'local' }), host('c'), host('d')];
    const withPrepare: Role = { ...probeRole, prepare: async () => undefined };
    expect(preconnect(hosts, [probeRole, withPrepare], {})).toBeUndefined();
    expect(preconnect(hosts, [probeRole], { local: true })).toBeUndefined();
    const ahead = preconnect(hosts, [probeRole], { forks: 2 })!;
    expect(ahead.hosts).toEqual(['a', 'c']);
    await ahead.close();
    await allClosed();
  });
});
