/**
 * SshTransport against ssh2's own in-process Server on 127.0.0.1. The server runs exec requests
 * with a real `/bin/sh -c <command>` (as sshd does), except `sudo -n ...`, which it answers
 * like a sudo that wants a password.
 */
import { readableKeyPair } from './ssh-keys.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostConfig } from '../../src/inventory/types.js';
import { fingerprint } from '../../src/transports/known-hosts.js';
import { shellCommand } from '../../src/transports/shell.js';
import { SshTransport } from '../../src/transports/ssh.js';
import { TransportError } from '../../src/transports/types.js';

const { Server, utils, AgentProtocol } = ssh2;

function keyPair() {
  const pair = readableKeyPair();
  const parsed = utils.parseKey(pair.public) as ParsedKey;
  return { ...pair, blob: parsed.getPublicSSH() };
}

interface TestServer {
  port: number;
  hostKey: ReturnType<typeof keyPair>;
  connections: number;
  running: number;
  maxRunning: number;
  commands: string[];
  conns: Set<Connection>;
  close(): Promise<void>;
}

async function startServer(clientKeyBlob: Buffer, hostKey = keyPair()): Promise<TestServer> {
  const state = { connections: 0, running: 0, maxRunning: 0, commands: [] as string[], conns: new Set<Connection>() };
  const server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    state.connections++;
    state.conns.add(conn);
    conn.on('error', () => {});
    conn.on('close', () => state.conns.delete(conn));
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || !ctx.key.data.equals(clientKeyBlob)) return ctx.reject(['publickey']);
      // No signature yet = the client only asks whether this key would do.
      if (ctx.signature && ctx.blob) {
        const pub = utils.parseKey(ctx.key.data) as ParsedKey;
        if (!pub.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      }
      ctx.accept();
    });
    conn.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const stream = acceptExec();
        state.commands.push(info.command);
        state.running++;
        state.maxRunning = Math.max(state.maxRunning, state.running);
        const finish = (code: number) => {
          state.running--; // before exit-status goes out, so the client can't outrun the count
          stream.exit(code);
          stream.end();
        };
        if (info.command.startsWith('sudo -n ')) {
          stream.stderr.write('sudo: a password is required\n');
          return finish(1);
        }
        const child = spawn('/bin/sh', ['-c', info.command], { detached: true });
        stream.pipe(child.stdin);
        child.stdin.on('error', () => {});
        child.stdout.on('data', (d: Buffer) => stream.write(d));
        child.stderr.on('data', (d: Buffer) => stream.stderr.write(d));
        child.on('close', (code) => finish(code ?? 255));
        stream.on('close', () => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {}
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    port,
    hostKey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of state.conns) c.end();
        server.close(() => resolve());
      }),
  });
}

let dir: string;
let clientKeyFile: string;
let knownHostsFile: string;
let srv: TestServer;
const clientKey = keyPair();

function host(over: Partial<HostConfig> = {}): HostConfig {
  return {
    name: 'web1',
    address: '127.0.0.1',
    port: srv.port,
    user: 'deploy',
    identityFile: clientKeyFile,
    become: false,
    connection: 'ssh',
    protected: false,
    knownHosts: knownHostsFile,
    hostKeyChecking: 'strict',
    connectTimeoutMs: 3_000,
    groups: ['all'],
    ...over,
  };
}

const khLine = (port: number, blob: Buffer) => `[127.0.0.1]:${port} ssh-ed25519 ${blob.toString('base64')}\n`;

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostkit-ssh-'));
  clientKeyFile = join(dir, 'id_ed25519');
  await writeFile(clientKeyFile, clientKey.private, { mode: 0o600 });
  knownHostsFile = join(dir, 'known_hosts');
  srv = await startServer(clientKey.blob);
  await writeFile(knownHostsFile, khLine(srv.port, srv.hostKey.blob));
});

afterAll(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

describe('exec over one connection', () => {
  let t: SshTransport;
  let connectionsBefore: number;
  beforeAll(async () => {
    connectionsBefore = srv.connections;
    t = await SshTransport.connect(host());
  });
  afterAll(() => t.close());

  it('returns stdout, stderr and a non-zero exit without throwing', async () => {
    expect(await t.exec('echo out; echo err >&2; exit 3')).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect(srv.commands).toContain(shellCommand('echo out; echo err >&2; exit 3', false));
    expect(t.kind).toBe('ssh');
  });

  it('feeds stdin, and sends EOF when there is none', async () => {
    expect((await t.exec('tr a-z A-Z', { stdin: 'hello' })).stdout).toBe('HELLO');
    expect((await t.exec('cat; echo done')).stdout).toBe('done\n');
  });

  it('runs 20 concurrent execs on one connection, never more than 8 channels at once', async () => {
    const before = t.stats.execs;
    srv.maxRunning = 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.25; echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
    expect(srv.maxRunning).toBe(8);
    expect(t.stats.execs - before).toBe(20);
    expect(t.stats.connections).toBe(1);
    expect(srv.connections - connectionsBefore).toBe(1);
  });

  it('times a command out, closes its channel and stays usable', async () => {
    const started = Date.now();
    const err = await rejection(t.exec('sleep 5', { timeoutMs: 300 }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.message).toBe('web1: exec: `sleep 5` timed out after 300 ms');
    expect(err.step).toBe('exec');
    // The channel really was closed: the server's command ended.
    await vi.waitFor(() => expect(srv.running).toBe(0), { timeout: 2_000 });
    expect((await t.exec('echo still')).stdout).toBe('still\n');
  });

  it('writeFile replaces a file atomically through one exec, with the mode applied', async () => {
    const target = join(dir, 'out', 'app.conf');
    await t.exec(`mkdir -p ${join(dir, 'out')}`);
    const before = t.stats.execs;
    await t.writeFile(target, "line 'one'\n$HOME\n", { mode: '0600' });
    expect(t.stats.execs - before).toBe(1);
    expect(await readFile(target, 'utf8')).toBe("line 'one'\n$HOME\n");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'out'))).toEqual(['app.conf']);
    const err = await rejection(t.writeFile(join(dir, 'missing-dir', 'x'), 'x'));
    expect(err.message).toMatch(/^web1: write: `write .*missing-dir\/x` exited 1: .*mktemp/s);
  });
});

describe('become', () => {
  it('runs through sudo -n and turns a password prompt into a clear error', async () => {
    const t = await SshTransport.connect(host({ become: true }));
    try {
      const err = await rejection(t.exec('apt-get update\napt-get -y upgrade'));
      expect(err.message).toMatch(/^web1: exec: become needs passwordless sudo for user deploy on host web1 .*`apt-get update`/);
      expect(srv.commands.at(-1)).toBe(shellCommand('apt-get update\napt-get -y upgrade', true));
      // The session's SSH_CONNECTION survives sudo's env reset for the firewall's lockout guard.
      expect(srv.commands.at(-1)).toMatch(/^sudo -n -- env HOSTKIT_SSH_CONNECTION="\$SSH_CONNECTION" sh -c '/);
    } finally {
      await t.close();
    }
  });

  it('does not use sudo when the user is root', async () => {
    const t = await SshTransport.connect(host({ become: true, user: 'root' }));
    try {
      expect((await t.exec('echo hi')).stdout).toBe('hi\n');
      expect(srv.commands.at(-1)).toBe("sh -c 'echo hi'");
    } finally {
      await t.close();
    }
  });
});

describe('host key verification', () => {
  const other = keyPair();
  let kh: string;
  afterEach(async () => {
    await rm(kh, { force: true });
  });

  it('strict: refuses an unknown host, showing the SHA256 fingerprint', async () => {
    kh = join(dir, 'kh-empty');
    const err = await rejection(SshTransport.connect(host({ knownHosts: kh })));
    expect(err.step).toBe('host-key');
    expect(err.message).toContain(`web1: host-key: [127.0.0.1]:${srv.port} is not in ${kh}`);
    expect(err.message).toContain(fingerprint(srv.hostKey.blob));
    await expect(stat(kh)).rejects.toThrow(/ENOENT/);
  });

  it('strict and accept-new: refuse a changed key, naming the known_hosts line', async () => {
    kh = join(dir, 'kh-changed');
    await writeFile(kh, `# managed\n${khLine(srv.port, other.blob)}`);
    for (const hostKeyChecking of ['strict', 'accept-new'] as const) {
      const err = await rejection(SshTransport.connect(host({ knownHosts: kh, hostKeyChecking })));
      expect(err.message).toContain('web1: host-key: HOST KEY CHANGED');
      expect(err.message).toContain(`${kh}:2`);
      expect(err.message).toContain(fingerprint(srv.hostKey.blob));
      expect(err.message).toContain(fingerprint(other.blob));
    }
  });

  it('accept-new: appends an unknown key, which strict then accepts', async () => {
    kh = join(dir, 'kh-new');
    const t1 = await SshTransport.connect(host({ knownHosts: kh, hostKeyChecking: 'accept-new' }));
    await t1.close();
    expect(await readFile(kh, 'utf8')).toBe(khLine(srv.port, srv.hostKey.blob));
    const t2 = await SshTransport.connect(host({ knownHosts: kh }));
    expect((await t2.exec('echo ok')).stdout).toBe('ok\n');
    await t2.close();
  });
});

describe('authentication', () => {
  it('a key the server does not accept -> auth error naming host, user and key file', async () => {
    const bad = join(dir, 'id_bad');
    await writeFile(bad, keyPair().private, { mode: 0o600 });
    const err = await rejection(SshTransport.connect(host({ identityFile: bad })));
    expect(err.message).toBe(`web1: auth: authentication failed for user deploy (tried: publickey with ${bad})`);
  });

  it('missing or encrypted identity files fail clearly before connecting', async () => {
    const missing = join(dir, 'nope');
    expect((await rejection(SshTransport.connect(host({ identityFile: missing })))).message).toBe(
      `web1: auth: identity file ${missing} does not exist`,
    );
    const enc = join(dir, 'id_enc');
    await writeFile(enc, readableKeyPair({ passphrase: 'secret', cipher: 'aes256-ctr', rounds: 1 }).private);
    expect((await rejection(SshTransport.connect(host({ identityFile: enc })))).message).toMatch(
      /^web1: auth: identity file .*id_enc is encrypted and no passphrase was given/,
    );
  });

  it('uses ssh-agent (SSH_AUTH_SOCK) when no identity file is set', async () => {
    const sock = join(dir, 'agent.sock');
    const key = utils.parseKey(clientKey.private) as ParsedKey;
    const agent = net.createServer((s) => {
      const proto = new AgentProtocol(false);
      proto.on('identities', (req) => proto.getIdentitiesReply(req, [key]));
      proto.on('sign', (req, _pub, data) => proto.signReply(req, key.sign(data)));
      s.pipe(proto).pipe(s);
    });
    await new Promise<void>((resolve) => agent.listen(sock, resolve));
    try {
      const t = await SshTransport.connect(host({ identityFile: undefined }), { agentSocket: sock });
      expect((await t.exec('echo agent')).stdout).toBe('agent\n');
      await t.close();
    } finally {
      agent.close();
    }
  });
});

describe('connection failures', () => {
  it('a closed port -> connect error naming host, address and ECONNREFUSED', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await rejection(SshTransport.connect(host({ port })));
    expect(err.message).toBe(`web1: connect: cannot reach 127.0.0.1:${port}: ECONNREFUSED`);
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('a server that never speaks -> ETIMEDOUT within connectTimeoutMs', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const err = await rejection(SshTransport.connect(host({ port, connectTimeoutMs: 300 })));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(err.code).toBe('ETIMEDOUT');
      expect(err.message).toBe(`web1: connect: ETIMEDOUT: no SSH session with 127.0.0.1:${port} within 300 ms`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a dropped connection fails running and later execs clearly', async () => {
    const t = await SshTransport.connect(host());
    const running = t.exec('sleep 5');
    await new Promise((r) => setTimeout(r, 150));
    for (const c of srv.conns) c.end();
    const err = await rejection(running);
    expect(err.message).toMatch(new RegExp(`^web1: exec: connection to 127.0.0.1:${srv.port} lost.* while running \`sleep 5\``));
    const later = await rejection(t.exec('echo again'));
    expect(later.message).toMatch(/^web1: exec: connection to .* lost.*; cannot run `echo again`/);
    await t.close();
  });
});
