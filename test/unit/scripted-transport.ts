import type { ExecOptions, ExecResult, FileSpec, HoldOutcome, Transport, TransportStats } from '../../src/transports/types.js';

/**
 * A Transport double for engine unit tests: the transport boundary, not a fake of ufw or docker.
 * It answers each exec from a script of `[pattern, answer]` rules (first match wins) and keeps a
 * log of what it ran. The engine's probe batch (src/engine/gather.ts: all probes of a role in
 * one exec) is taken apart: each probe is answered by the same rules, and the outputs are framed
 * the way the batch's own shell code frames them.
 */
export type Answer = ExecResult | ((match: RegExpExecArray) => ExecResult | string);
export type Rule = [RegExp, Answer];

export const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
export const failed = (exitCode: number, stderr: string): ExecResult => ({ stdout: '', stderr, exitCode });

const PROBE = /^\( ([\s\S]*?)\n\) <\/dev\/null >"\$__d\/(\d+)\.o"/gm;
const MARKER = /'(@@hostkit-[0-9a-f]+@@) begin 0'/;

export class ScriptedTransport implements Transport {
  readonly kind = 'local' as const;
  readonly stats: TransportStats = { connections: 0, execs: 0 };
  /** Every exec as the engine sent it (a probe batch is logged as "gather: <probe>; <probe>"). */
  readonly log: string[] = [];
  readonly writes: { path: string; content: string; spec?: FileSpec }[] = [];

  constructor(
    readonly host: string,
    private readonly rules: Rule[],
    /** Answers the probe batch as a whole (e.g. the shell itself failing), instead of per probe. */
    private readonly batch?: ExecResult,
  ) {}

  private answer(script: string): ExecResult {
    for (const [pattern, answer] of this.rules) {
      const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(script);
      if (!m) continue;
      const result = typeof answer === 'function' ? answer(m) : answer;
      return typeof result === 'string' ? ok(result) : result;
    }
    throw new Error(`scripted transport: no rule answers ${JSON.stringify(script)}`);
  }

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.stats.execs++;
    // A long probe batch comes on stdin to `sh -s` (src/engine/gather.ts: execBatch).
    const script = command === 'exec sh -s' && options?.stdin !== undefined ? String(options.stdin) : command;
    const marker = MARKER.exec(script)?.[1];
    if (!marker) {
      this.log.push(script);
      return this.answer(script);
    }
    const probes = [...script.matchAll(PROBE)].map((m) => m[1]!);
    this.log.push(`gather: ${probes.join('; ')}`);
    if (this.batch) return this.batch;
    const framed = probes.map((probe, i) => {
      const out = this.answer(probe);
      return [`${marker} begin ${i}`, out.stdout, `${marker} end ${i} ${out.exitCode}`, out.stderr, `${marker} done ${i}`, ''].join('\n');
    });
    return ok(framed.join(''));
  }

  /** Answered by the same rules: an answer printing `ready` holds (logged "hold ..." / "release"). */
  async hold(script: string, ready: string): Promise<HoldOutcome> {
    this.stats.execs++;
    this.log.push(`hold: ${script.split('\n')[0]}`);
    const result = this.answer(script);
    if (result.exitCode !== 0 || !result.stdout.split('\n').includes(ready)) return { result };
    return { held: { release: async () => void this.log.push('release') } };
  }

  async writeFile(path: string, content: string | Buffer, spec?: FileSpec): Promise<void> {
    this.stats.execs++;
    this.log.push(`write ${path}`);
    this.writes.push({ path, content: String(content), ...(spec ? { spec } : {}) });
  }

  async close(): Promise<void> {}
}
