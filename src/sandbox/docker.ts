import { execa } from 'execa';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Run `docker ...args`; never throws for a non-zero exit (callers decide). */
export async function docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await execa('docker', args, {
    reject: false,
    stripFinalNewline: true,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  if (r.failed && r.exitCode === undefined) {
    // Spawn failure or timeout: not a command result worth returning.
    throw new Error(`docker ${args.join(' ')}: ${r.shortMessage}`);
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1 };
}

/** Like docker(), but a non-zero exit is an error carrying docker's stderr. */
export async function dockerOk(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.exitCode !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return r.stdout;
}
