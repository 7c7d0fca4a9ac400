import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import {
  DEBIAN_SUITES,
  defaultPlatformYaml,
  repoRoot,
  startTarget,
  writeSandboxInventory,
  type StartTargetOptions,
  type Target,
} from '../../src/sandbox/index.js';

export { defaultPlatformYaml, startTarget, type Target } from '../../src/sandbox/index.js';

/**
 * The server roles' matrix: one case per Debian release the sandbox builds, for
 * `describe.each(SUITES)('... on $name', ({ suite }) => { const sb = useTarget({ suite }); ... })`.
 */
export const SUITES = DEBIAN_SUITES.map((s) => ({ ...s, name: `Debian ${s.version} (${s.suite})` }));
import type { HostReport } from '../../src/engine/types.js';

/** The --json report of a run: the engine's own HostReport per host and role. */
export interface Report {
  version: number;
  mode: string;
  exitCode: number;
  hosts: HostReport[];
  skipped: { host: string; reason: string }[];
}
export const parseReport = (stdout: string): Report => JSON.parse(stdout) as Report;
/** Resources that changed something (apply). */
export const changedCount = (r: Report): number => r.hosts.flatMap((h) => h.resources).filter((x) => x.status === 'changed').length;
/** Every planned change's summary: the drift list of a --check. */
export const drifts = (r: Report): string[] => r.hosts.flatMap((h) => h.resources.flatMap((x) => x.changes.map((c) => c.summary)));

/** Is a TCP port reachable from this machine (outside the target)? Drops show up as timeouts. */
export function reachable(address: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Start a target, run fn, always remove the target. */
export async function withTarget<T>(fn: (t: Target) => Promise<T>, opts: StartTargetOptions = {}): Promise<T> {
  const t = await startTarget(opts);
  try {
    return await fn(t);
  } finally {
    await t.remove();
  }
}

export interface UseTargetsOptions extends StartTargetOptions {
  count?: number;
  user?: 'root' | 'admin';
  /** Appended to the inventory; default defaultPlatformYaml(), '' for none. */
  platformYaml?: string;
}

export interface TargetsFixture {
  /** The first target. */
  readonly target: Target;
  readonly targets: Target[];
  /** Absolute path of an inventory listing every target (group "sandbox"). */
  readonly inventory: string;
  /** Rewrite the inventory, e.g. after restart() moved a port. */
  writeInventory(opts?: { user?: 'root' | 'admin'; platformYaml?: string }): Promise<string>;
  /** target.restart() plus an inventory rewrite (Docker publishes a new port on restart). */
  restart(t: Target): Promise<void>;
}

/**
 * beforeAll: start `count` targets in parallel and write an inventory in a temp dir;
 * afterAll: remove them. Use at the top of a describe/file: `const sb = useTargets({ count: 2 })`.
 */
export function useTargets(opts: UseTargetsOptions = {}): TargetsFixture {
  const { count = 1, user = 'root', platformYaml = defaultPlatformYaml(), ...start } = opts;
  if (start.name && count > 1) throw new Error('useTargets: name only with count 1');
  let targets: Target[] = [];
  let dir = '';
  let inventory = '';
  const write = async (o: { user?: 'root' | 'admin'; platformYaml?: string } = {}) =>
    (inventory = await writeSandboxInventory(targets, {
      path: join(dir, 'inventory.yaml'),
      user: o.user ?? user,
      platformYaml: o.platformYaml ?? platformYaml,
    }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-it-'));
    const settled = await Promise.allSettled(Array.from({ length: count }, () => startTarget(start)));
    targets = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason; // afterAll still removes the ones that started
    await write();
  });
  afterAll(async () => {
    await Promise.all(targets.map((t) => t.remove()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
    get target() {
      const t = targets[0];
      if (!t) throw new Error('useTargets: no target (beforeAll failed or not run yet)');
      return t;
    },
    get targets() {
      return targets;
    },
    get inventory() {
      return inventory;
    },
    writeInventory: write,
    async restart(t: Target) {
      await t.restart();
      await write();
    },
  };
}

/** Single-target shorthand of useTargets(). */
export const useTarget = (opts: Omit<UseTargetsOptions, 'count'> = {}): TargetsFixture => useTargets({ ...opts, count: 1 });

/**
 * Run `node roles/<role>.mjs ...args -i inventory` from the repo root (the README's fast form; npx's
 * own start cost ~1 s per run; reporters.test.ts keeps one run through zx); never rejects.
 */
export async function runRole(
  role: string,
  args: string[],
  opts: { inventory: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CommandResult> {
  const t0 = performance.now();
  const r = await execa(process.execPath, [`roles/${role}.mjs`, ...args, '-i', opts.inventory], {
    cwd: repoRoot(),
    reject: false,
    stdin: 'ignore',
    env: { FORCE_COLOR: '0', ...opts.env },
    timeout: opts.timeoutMs ?? 300_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: performance.now() - t0 };
}

/** OpenSSH client options that make ssh fail rather than prompt or trust a new key. */
export function sshArgs(t: Target, opts: { user?: string; knownHosts?: string } = {}): string[] {
  return [
    '-i',
    t.keyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${opts.knownHosts ?? t.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    '-p',
    String(t.port),
    `${opts.user ?? 'root'}@${t.address}`,
  ];
}

/** Run cmd on the target with the real OpenSSH client (what an operator would do). */
export async function sshTo(
  t: Target,
  cmd: string,
  opts: { user?: string; knownHosts?: string; input?: string } = {},
): Promise<CommandResult> {
  const t0 = performance.now();
  const r = await execa('ssh', [...sshArgs(t, opts), cmd], {
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: performance.now() - t0 };
}

/** `ssh -N -L <port>:localhost:81`, as the operator reaches NPM's admin panel; resolves with what the tunnel read. */
export async function throughTunnel(t: Target): Promise<string> {
  const localPort = 20000 + Math.floor(Math.random() * 20000);
  const tunnel = execa('ssh', ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${localPort}:localhost:81`, ...sshArgs(t)], {
    reject: false,
    stdin: 'ignore',
  });
  try {
    for (let i = 0; i < 50; i++) {
      const got = await new Promise<string | undefined>((resolve) => {
        const sock = createConnection({ host: '127.0.0.1', port: localPort }, () => sock.write('GET / HTTP/1.0\r\n\r\n'));
        let data = '';
        sock.on('data', (d) => (data += String(d)));
        sock.on('end', () => resolve(data));
        sock.on('error', () => resolve(undefined));
        sock.setTimeout(3000, () => {
          sock.destroy();
          resolve(undefined);
        });
      });
      if (got) return got.trim();
      if (tunnel.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    tunnel.kill();
    const r = await tunnel;
    return `no answer through the tunnel (ssh exit ${r.exitCode}: ${String(r.stderr).trim()})`;
  } finally {
    tunnel.kill();
  }
}
