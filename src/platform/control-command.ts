import { spawn } from 'node:child_process';
import { stderrTail } from '../transports/shell.js';

/** How a command on the control machine ended: exitCode undefined when it was killed (a timeout, a signal). */
export interface ControlResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program on the control machine (git, tar) with node:child_process, not execa: loading
 * execa cost the full audit ~30 ms of CPU for its two `git ls-remote`. stdin is closed, `env`
 * extends the environment, `timeout` (ms) ends it with SIGTERM; a program that cannot start
 * resolves with exit 127 and the reason in stderr, so the caller reports it as any failure.
 */
export function runOnControl(
  file: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeout?: number } = {},
): Promise<ControlResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      ...(options.timeout ? { timeout: options.timeout } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let failed: Error | undefined;
    child.on('error', (e) => {
      failed = e;
    });
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        exitCode: failed ? 127 : (code ?? undefined),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: failed ? `${stderr}${stderr ? '\n' : ''}${failed.message}` : stderr,
      });
    });
  });
}

/** "(exit 128): <stderr's last lines on one line>" (stdout when stderr is empty), after "... failed". */
export function controlFailure(r: ControlResult): string {
  const tail = stderrTail(r.stderr, 3).trim().split('\n').join(' / ') || r.stdout.trim();
  return `(exit ${r.exitCode ?? 'killed: timeout or signal'})${tail ? `: ${tail}` : ''}`;
}
