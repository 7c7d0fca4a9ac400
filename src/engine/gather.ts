import { randomBytes } from 'node:crypto';
import type { Fact, FactSet, ProbeOutput } from './types.js';
import type { Transport } from '../transports/types.js';

/**
 * Runs many read-only probes in ONE exec (one SSH round trip) and splits their outputs.
 * The probes run concurrently (each in its own subshell, output to temp files), so a batch
 * costs its slowest probe rather than the sum. The host's cost is one fork per probe: exit codes
 * come from `wait PID`, the frames are written by printf (a shell builtin) into files, and ONE
 * `cat` prints every frame and output in order (a cat, base64 and $(cat) per probe cost more CPU
 * than the 150 probes of a full audit together). A random marker frames each section, so probe
 * output can never be mistaken for a frame.
 */
export function batchScript(facts: readonly { readonly command: string }[], marker: string): string {
  const lines = [
    'set +e',
    `__d=$(mktemp -d 2>/dev/null || { mkdir -m 700 /tmp/.hostkit-probe.$$ && echo /tmp/.hostkit-probe.$$; })`,
    // Probes must never block on stdin or a pager; C locale keeps outputs parseable.
    'export LC_ALL=C LANG=C PAGER=cat SYSTEMD_PAGER=cat',
  ];
  facts.forEach((fact, i) => {
    lines.push(`( ${fact.command}
) </dev/null >"$__d/${i}.o" 2>"$__d/${i}.e" & __p${i}=$!`);
  });
  const files: string[] = [];
  facts.forEach((_fact, i) => {
    lines.push(
      `printf '%s\n' '${marker} begin ${i}' >"$__d/${i}.b"`,
      `wait "$__p${i}"; printf '\n%s\n' "${marker} end ${i} $?" >"$__d/${i}.m"`,
      `printf '\n%s\n' '${marker} done ${i}' >"$__d/${i}.t"`,
    );
    files.push(...['b', 'o', 'm', 'e', 't'].map((f) => `"$__d/${i}.${f}"`));
  });
  lines.push(`cat ${files.join(' ')}`, 'rm -rf "$__d"');
  return lines.join('\n');
}

/** Splits a batch's stdout into the probes' outputs (the frames of batchScript, in order). */
export function splitBatchOutput(stdout: string, count: number, marker: string): ProbeOutput[] {
  const outputs: ProbeOutput[] = [];
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    const begin = `${marker} begin ${i}\n`;
    const start = stdout.indexOf(begin, cursor);
    if (start < 0) throw new Error(`probe batch output is missing section ${i}`);
    const bodyStart = start + begin.length;
    const endAt = stdout.indexOf(`\n${marker} end ${i} `, bodyStart - 1);
    const endLine = endAt < 0 ? -1 : stdout.indexOf('\n', endAt + 1);
    const exitCode = endLine < 0 ? NaN : Number(stdout.slice(endAt + marker.length + ` end ${i} `.length + 1, endLine));
    if (!Number.isInteger(exitCode)) throw new Error(`probe batch output is missing the end of section ${i}`);
    const done = `\n${marker} done ${i}\n`;
    const doneAt = stdout.indexOf(done, endLine);
    if (doneAt < 0) throw new Error(`probe batch output is missing the stderr of section ${i}`);
    outputs.push({ stdout: stdout.slice(bodyStart, endAt), stderr: stdout.slice(endLine + 1, doneAt), exitCode });
    cursor = doneAt + done.length;
  }
  return outputs;
}

/**
 * A batch longer than this goes to the host's shell on stdin: as a command it is one argument of
 * the login shell's `-c` (sshd), which Linux caps at 128 KiB (MAX_ARG_STRLEN), quoting included.
 * The whole platform's audit is ~80 KB today and grows ~320 bytes per service.
 */
export const BATCH_ON_STDIN = 48 * 1024;

/** Runs a batch script as the command, or fed to `sh -s` on stdin when it is long. */
export function execBatch(transport: Transport, script: string) {
  return script.length > BATCH_ON_STDIN ? transport.exec('exec sh -s', { stdin: script }) : transport.exec(script);
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
  // An API fact that fails fails the roles that read it, as a probe whose output cannot be parsed.
  const fetched = Promise.all(
    all
      .filter((f) => f.fetch)
      .map(async (f) => {
        try {
          values.set(f.key, { value: await f.fetch!(transport) });
        } catch (err) {
          values.set(f.key, { error: err instanceof Error ? err : new Error(String(err)) });
        }
      }),
  );
  const probes = probesOf(all.filter((f) => !f.fetch));
  if (probes.length === 0) {
    await fetched;
    return values;
  }
  const marker = `@@hostkit-${randomBytes(6).toString('hex')}@@`;
  const [result] = await Promise.all([execBatch(transport, batchScript(probes, marker)), fetched]);
  if (result.exitCode !== 0) {
    throw new Error(
      `${transport.host}: gathering facts failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-5).join('\n')}`,
    );
  }
  const outputs = splitBatchOutput(result.stdout, probes.length, marker);
  const parse = (fact: Fact<unknown>, output: ProbeOutput) => {
    try {
      values.set(fact.key, { value: fact.parse(output) });
    } catch (err) {
      values.set(fact.key, { error: new ProbeError(transport.host, fact, output, err) });
    }
  };
  for (const [i, probe] of probes.entries()) {
    const output = outputs[i]!;
    if (probe.facts.length === 1) {
      parse(probe.facts[0]!, output);
      continue;
    }
    let own: ProbeOutput[];
    try {
      own = probe.split(output);
      if (own.length !== probe.facts.length) throw new Error(`the group's output has ${own.length} parts for ${probe.facts.length} facts`);
    } catch (err) {
      for (const fact of probe.facts) values.set(fact.key, { error: new ProbeError(transport.host, fact, output, err) });
      continue;
    }
    for (const [j, fact] of probe.facts.entries()) parse(fact, own[j]!);
  }
  return values;
}

/** One probe of a batch: one fact's command, or the command of a group's facts (two or more). */
interface Probe {
  command: string;
  facts: Fact<unknown>[];
  split(output: ProbeOutput): ProbeOutput[];
}

/** The batch's probes, in the facts' order (a group where its first fact was). */
export function probesOf(facts: readonly Fact<unknown>[]): Probe[] {
  const byGroup = new Map<string, Fact<unknown>[]>();
  for (const f of facts) if (f.group) byGroup.set(f.group.id, [...(byGroup.get(f.group.id) ?? []), f]);
  const probes: Probe[] = [];
  const seen = new Set<string>();
  for (const fact of facts) {
    const members = fact.group ? byGroup.get(fact.group.id)! : [fact];
    if (members.length === 1) {
      probes.push({ command: fact.command, facts: [fact], split: (output) => [output] });
      continue;
    }
    const group = fact.group!;
    if (seen.has(group.id)) continue;
    seen.add(group.id);
    const parts = members.map((m) => m.group!.member);
    probes.push({ command: group.command(parts), facts: members, split: (output) => group.split(output, parts) });
  }
  return probes;
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
