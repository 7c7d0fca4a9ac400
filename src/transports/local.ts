import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
/**
 * The local transport (execa), plus the shell-level pieces both transports share: the
 * `sh -c` / `sudo -n` wrapper, sudo failure detection and the atomic write script.
 */
import { posix } from 'node:path';
import { constants as osConstants, userInfo } from 'node:os';
import { quote, sh } from './quote.js';
import { TransportError, type ExecOptions, type ExecResult, type FileSpec, type Transport, type TransportStats } from './types.js';

export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60_000;

/** argv for running `script`: `sh -c script`, or `sudo -n -- sh -c script` (never prompts). */
export function shellArgv(script: string, sudo: boolean): string[] {
  return sudo ? ['sudo', '-n', '--', 'sh', '-c', script] : ['sh', '-c', script];
}

/**
 * The same, as the single string an sshd hands to the login shell. sudo resets the environment,
 * so the session's SSH_CONNECTION (which the firewall's lockout guard needs) is passed on as
 * HOSTKIT_SSH_CONNECTION, expanded by the login shell before sudo runs.
 */
export function shellCommand(script: string, sudo: boolean): string {
  if (!sudo) return sh(shellArgv(script, false));
  return `sudo -n -- env HOSTKIT_SSH_CONNECTION="$SSH_CONNECTION" ${sh(['sh', '-c', script])}`;
}

/** First non-empty line of a script, shortened: how errors name a command. */
export function commandLabel(script: string): string {
  const line =
    script
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/** Last few lines of stderr, for error messages. */
export function stderrTail(stderr: string, maxLines = 5, maxChars = 500): string {
  const tail = stderr.trimEnd().split('\n').slice(-maxLines).join('\n');
  return tail.length > maxChars ? `...${tail.slice(-maxChars)}` : tail;
}

export function commandFailed(host: string, step: string, label: string, result: ExecResult): TransportError {
  const tail = stderrTail(result.stderr);
  return new TransportError(host, step, `\`${label}\` exited ${result.exitCode}${tail ? `: ${tail}` : ''}`, { result });
}

// What `sudo -n` prints when it would have to ask (or can't run at all): exit 1, never a prompt.
const SUDO_REFUSED = /sudo: (a password is required|a terminal is required)|is not in the sudoers file|is not allowed to (run|execute)/;
const SUDO_MISSING = /sudo: (command )?not found|sudo: No such file/;

/** Turns "sudo refused" into an error instead of a plain non-zero exit the caller might misread. */
export function assertSudoWorked(host: string, user: string, step: string, label: string, result: ExecResult): void {
  if (result.exitCode === 1 && SUDO_REFUSED.test(result.stderr)) {
    throw new TransportError(
      host,
      step,
      `become needs passwordless sudo for user ${user} on host ${host} (sudo -n said: ${stderrTail(result.stderr, 1)}) while running \`${label}\``,
      { result },
    );
  }
  if (result.exitCode === 127 && SUDO_MISSING.test(result.stderr)) {
    throw new TransportError(host, step, `become is set but sudo is not installed on host ${host}`, { result });
  }
}

/** Exit code for a command killed by a signal, as shells report it (128 + n). */
export function signalExitCode(signal: string | undefined): number {
  const n = signal ? (osConstants.signals as Record<string, number | undefined>)[signal] : undefined;
  return 128 + (n ?? 0);
}

/**
 * One POSIX sh script that atomically replaces `path` with its stdin: temp file beside the
 * target (same filesystem, so `mv` is a rename), chmod/chown, fsync, rename, fsync the dir.
 * The temp file is removed on any failure. Without a mode/owner, the current file's are kept.
 */
export function atomicWriteScript(path: string, spec: FileSpec = {}): string {
  if (!path.startsWith('/')) throw new Error(`path must be absolute: ${path}`);
  if (spec.mode !== undefined && !/^[0-7]{3,4}$/.test(spec.mode)) throw new Error(`invalid mode ${JSON.stringify(spec.mode)}`);
  const dir = posix.dirname(path);
  const target = quote(path);
  const template = quote(`${dir === '/' ? '' : dir}/.${posix.basename(path)}.hostkit-XXXXXX`);
  const lines = [
    'set -e',
    "tmp=''",
    `trap '[ -z "$tmp" ] || rm -f "$tmp"' EXIT`,
    "trap 'exit 1' HUP INT TERM PIPE",
    `tmp=$(mktemp ${template})`,
    'cat > "$tmp"',
    spec.mode !== undefined ? `chmod ${spec.mode} "$tmp"` : `chmod "$(stat -c %a ${target} 2>/dev/null || echo 644)" "$tmp"`,
  ];
  if (spec.owner !== undefined && spec.group !== undefined) lines.push(`chown ${quote(`${spec.owner}:${spec.group}`)} "$tmp"`);
  else if (spec.owner !== undefined) lines.push(`chown ${quote(spec.owner)} "$tmp"`);
  else if (spec.group !== undefined) lines.push(`chgrp ${quote(spec.group)} "$tmp"`);
  else lines.push(`if [ -e ${target} ]; then chown "$(stat -c %u:%g ${target})" "$tmp" 2>/dev/null || true; fi`);
  lines.push(
    'sync "$tmp" 2>/dev/null || sync', // `sync FILE` fsyncs just that file (coreutils >= 8.24)
    `mv -f "$tmp" ${target}`,
    "tmp=''",
    `sync ${quote(dir)} 2>/dev/null || true`, // persist the rename itself
  );
  return lines.join('\n');
}

/**
 * writeFile for both transports: ONE exec of the atomic-replace script with the content on
 * stdin (unlike SFTP it works through sudo). `run` executes the script as the transport does.
 */
export async function writeWithScript(
  host: string,
  run: (script: string, label: string) => Promise<ExecResult>,
  path: string,
  spec: FileSpec,
): Promise<void> {
  let script: string;
  try {
    script = atomicWriteScript(path, spec);
  } catch (err) {
    throw new TransportError(host, 'write', (err as Error).message);
  }
  const label = `write ${path}`;
  const result = await run(script, label);
  if (result.exitCode !== 0) throw commandFailed(host, 'write', label, result);
}

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
