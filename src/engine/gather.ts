import { randomBytes } from 'node:crypto';
import type { Fact, FactSet, ProbeOutput } from './types.js';
import type { Transport } from '../transports/types.js';

/**
 * Runs many read-only probes in ONE exec (one SSH round trip) and splits their outputs.
 * The probes run concurrently (each in its own subshell, output to temp files), so a batch
 * costs its slowest probe rather than the sum; their outputs are then printed in order, framed
 * by a random marker so probe output can never be mistaken for a frame.
 */
export function batchScript(facts: readonly Fact<unknown>[], marker: string): string {
  const lines = [
    'set +e',
    `__d=$(mktemp -d 2>/dev/null || { mkdir -m 700 /tmp/.hostkit-probe.$$ && echo /tmp/.hostkit-probe.$$; })`,
    // Probes must never block on stdin or a pager; C locale keeps outputs parseable.
    'export LC_ALL=C LANG=C PAGER=cat SYSTEMD_PAGER=cat',
  ];
  facts.forEach((fact, i) => {
    lines.push(`{ ( ${fact.command}
) </dev/null >"$__d/${i}.out" 2>"$__d/${i}.err"; echo $? >"$__d/${i}.rc"; } &`);
  });
  lines.push('wait');
  facts.forEach((_fact, i) => {
    lines.push(
      `printf '%s\n' '${marker} begin ${i}'`,
      `cat "$__d/${i}.out"`,
      `printf '\n%s\n' "${marker} end ${i} $(cat "$__d/${i}.rc")"`,
      `base64 -w0 <"$__d/${i}.err" 2>/dev/null || base64 <"$__d/${i}.err" | tr -d '\n'`,
      `printf '\n%s\n' '${marker} done ${i}'`,
    );
  });
  lines.push('rm -rf "$__d"');
  return lines.join('\n');
}

export function splitBatchOutput(stdout: string, count: number, marker: string): ProbeOutput[] {
  const outputs: ProbeOutput[] = [];
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    const begin = `${marker} begin ${i}\n`;
    const start = stdout.indexOf(begin, cursor);
    if (start < 0) throw new Error(`probe batch output is missing section ${i}`);
    const bodyStart = start + begin.length;
    const endRe = new RegExp(`\\n${marker} end ${i} (\\d+)\\n`, 'g');
    endRe.lastIndex = bodyStart - 1;
    const end = endRe.exec(stdout);
    if (!end) throw new Error(`probe batch output is missing the end of section ${i}`);
    const done = `\n${marker} done ${i}\n`;
    const doneAt = stdout.indexOf(done, end.index + end[0].length);
    if (doneAt < 0) throw new Error(`probe batch output is missing the stderr of section ${i}`);
    const stderrB64 = stdout.slice(end.index + end[0].length, doneAt).trim();
    outputs.push({
      stdout: stdout.slice(bodyStart, end.index),
      stderr: Buffer.from(stderrB64, 'base64').toString('utf8'),
      exitCode: Number(end[1]),
    });
    cursor = doneAt + done.length;
  }
  return outputs;
}

export class ProbeError extends Error {
  constructor(host: string, fact: Fact<unknown>, output: ProbeOutput, cause: unknown) {
    const tail = output.stderr.trim().split('\n').slice(-5).join('\n');
    super(
      `${host}: probe ${fact.key}: could not parse its output (exit ${output.exitCode}): ` +
        `${cause instanceof Error ? cause.message : String(cause)}` +
        (tail ? `\nstderr: ${tail}` : '') +
        `\ncommand: ${fact.command.split('\n')[0]}`,
      { cause },
    );
    this.name = 'ProbeError';
  }
}

class MapFactSet implements FactSet {
  constructor(private readonly values: Map<string, unknown>) {}
  get<T>(fact: Fact<T>): T {
    if (!this.values.has(fact.key)) throw new Error(`fact ${fact.key} was not gathered`);
    return this.values.get(fact.key) as T;
  }
}

/**
 * One fact per derived key (name + arguments, see src/facts/define.ts): resources asking for the
 * same fact share its probe. Equal keys with different commands would make one resource read
 * another's output, so that is refused as a bug rather than silently de-duplicated.
 */
export function distinctFacts(facts: readonly Fact<unknown>[]): Fact<unknown>[] {
  const byKey = new Map<string, Fact<unknown>>();
  for (const fact of facts) {
    const seen = byKey.get(fact.key);
    if (!seen) byKey.set(fact.key, fact);
    else if (seen.command !== fact.command) throw new Error(`two different facts share the key ${fact.key}`);
  }
  return [...byKey.values()];
}

/** What one batch gave for each fact: its parsed value, or why its output could not be used. */
export type Gathered = Map<string, { value: unknown } | { error: Error }>;

/**
 * Runs the distinct facts in one exec on the host (API facts concurrently through the transport)
 * and parses each output. A probe whose output cannot be parsed is kept as its error, so one
 * batch can serve several roles and fail only the role that reads that fact.
 */
export async function gatherAll(transport: Transport, facts: readonly Fact<unknown>[]): Promise<Gathered> {
  const all = distinctFacts(facts);
  const values: Gathered = new Map();
  const fetched = Promise.all(all.filter((f) => f.fetch).map(async (f) => values.set(f.key, { value: await f.fetch!(transport) })));
  const unique = all.filter((f) => !f.fetch);
  if (unique.length === 0) {
    await fetched;
    return values;
  }
  const marker = `@@hostkit-${randomBytes(6).toString('hex')}@@`;
  const [result] = await Promise.all([transport.exec(batchScript(unique, marker)), fetched]);
  if (result.exitCode !== 0) {
    throw new Error(
      `${transport.host}: gathering facts failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-5).join('\n')}`,
    );
  }
  const outputs = splitBatchOutput(result.stdout, unique.length, marker);
  unique.forEach((fact, i) => {
    const output = outputs[i]!;
    try {
      values.set(fact.key, { value: fact.parse(output) });
    } catch (err) {
      values.set(fact.key, { error: new ProbeError(transport.host, fact, output, err) });
    }
  });
  return values;
}

/** The FactSet of `facts` out of a batch; throws the first parse error among them (in their order). */
export function sliceOf(gathered: Gathered, facts: readonly Fact<unknown>[]): FactSet {
  const values = new Map<string, unknown>();
  for (const fact of facts) {
    const got = gathered.get(fact.key);
    if (!got) continue; // read by FactSet.get as "not gathered", a wiring bug
    if ('error' in got) throw got.error;
    values.set(fact.key, got.value);
  }
  return new MapFactSet(values);
}

/** Gathers the distinct facts in one exec on the host; parse errors name the host and probe. */
export async function gatherFacts(transport: Transport, facts: readonly Fact<unknown>[]): Promise<FactSet> {
  return sliceOf(await gatherAll(transport, facts), distinctFacts(facts));
}

/** For unit tests: a FactSet from already-parsed values or raw outputs. */
export function factSetFrom(entries: [Fact<unknown>, ProbeOutput | { value: unknown }][]): FactSet {
  const values = new Map<string, unknown>();
  for (const [fact, data] of entries) {
    values.set(fact.key, 'value' in data ? data.value : fact.parse(data));
  }
  return new MapFactSet(values);
}
