/** The local transport (execa); the shell-level pieces it shares with ssh.ts are in shell.ts. */
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import type { Duplex } from 'node:stream';
import {
  TransportError,
  type ExecOptions,
  type ExecResult,
  type FileSpec,
  type HoldOutcome,
  type Transport,
  type TransportStats,
} from './types.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertSudoWorked, commandLabel, shellArgv, signalExitCode, writeWithScript } from './shell.js';

export interface LocalOptions {
  /** Default per-command timeout (10 min). */
  commandTimeoutMs?: number;
}

export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  readonly host: string;
  readonly stats: TransportStats = { connections: 0, execs: 0 };
  private readonly sudo: boolean;
  private readonly user: string;
  private readonly timeoutMs: number;

  constructor(host: { name: string; become: boolean }, options: LocalOptions = {}) {
    this.host = host.name;
    this.user = userInfo().username;
    this.sudo = host.become && process.getuid?.() !== 0;
    this.timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.run(script, options, 'exec', commandLabel(script));
  }

  writeFile(path: string, content: string | Buffer, spec: FileSpec = {}): Promise<void> {
    return writeWithScript(this.host, (script, label) => this.run(script, { stdin: content }, 'write', label), path, spec);
  }

  openTcp(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port }, () => resolve(socket));
      socket.once('error', (err) =>
        reject(new TransportError(this.host, 'forward', `cannot connect to ${address}:${port}: ${err.message}`, { cause: err })),
      );
    });
  }

  async close(): Promise<void> {}

  /**
   * A child whose stdin is a pipe from this process: when hostkit ends (even by kill -9) the
   * pipe closes, the child reads EOF and exits, and what it held is released.
   */
  async hold(script: string, ready: string): Promise<HoldOutcome> {
    const [file, ...args] = shellArgv(script, this.sudo) as [string, ...string[]];
    this.stats.execs++;
    const { execa } = await import('execa');
    // Own process group: a Ctrl-C in the terminal must not end the lock before hostkit is done.
    const child = execa(file, args, { reject: false, stripFinalNewline: false, detached: true, stdin: 'pipe', buffer: true });
    return new Promise<HoldOutcome>((resolve, reject) => {
      let out = '';
      let settled = false;
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (!settled && out.split('\n').includes(ready)) {
          settled = true;
          resolve({
            held: {
              release: async () => {
                child.stdin?.end();
                await Promise.race([child.catch(() => undefined), new Promise((r) => setTimeout(r, 5_000).unref())]);
              },
            },
          });
        }
      });
      child.then(
        (r) => {
          if (settled) return;
          settled = true;
          if (r.exitCode === undefined && r.signal === undefined) {
            return reject(new TransportError(this.host, 'hold', `cannot run \`${commandLabel(script)}\`: ${r.shortMessage}`));
          }
          resolve({ result: { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? signalExitCode(r.signal) } });
        },
        (err: unknown) => {
          if (!settled) reject(new TransportError(this.host, 'hold', `cannot run \`${commandLabel(script)}\`: ${String(err)}`));
        },
      );
    });
  }

  private async run(script: string, options: ExecOptions, step: string, label: string): Promise<ExecResult> {
    const [file, ...args] = shellArgv(script, this.sudo) as [string, ...string[]];
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    this.stats.execs++;
    // Loaded on first use: execa costs ~100 ms of start-up that SSH-only runs (cron checks) skip.
    const { execa } = await import('execa');
    const child = execa(file, args, {
      reject: false,
      stripFinalNewline: false, // same bytes as the ssh transport returns
      // Own process group, so a timeout kills the whole tree: killing only `sh` would leave
      // e.g. `sleep` holding stdout open and the await would hang until it exits.
      detached: true,
      ...(options.stdin !== undefined ? { input: options.stdin } : { stdin: 'ignore' as const }),
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    const r = await child.finally(() => clearTimeout(timer));
    if (timedOut) throw new TransportError(this.host, step, `\`${label}\` timed out after ${timeoutMs} ms`, { code: 'ETIMEDOUT' });
    if (r.exitCode === undefined && r.signal === undefined) {
      // Never started (e.g. ENOENT for sh/sudo).
      throw new TransportError(this.host, step, `cannot run \`${label}\`: ${r.shortMessage}`, { cause: r.cause });
    }
    const result: ExecResult = {
      stdout: r.stdout,
      stderr: r.stderr,
      exitCode: r.exitCode ?? signalExitCode(r.signal),
    };
    if (this.sudo) assertSudoWorked(this.host, this.user, step, label, result);
    return result;
  }
}
