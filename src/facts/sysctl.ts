import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';

/** Live kernel values by key; undefined when the key does not exist on this kernel. */
export type SysctlValues = Map<string, string | undefined>;

/** Normalizes a value as sysctl prints it: tabs and newlines between fields become one space. */
export const normalizeSysctl = (v: string): string => v.trim().replace(/\s+/g, ' ');

/**
 * Every key in ONE `sysctl -e` call (was a sysctl and a tr per key: 46 execs in a full audit):
 * procps prints "key = value" per key it has, and nothing for a key this kernel lacks (-e).
 */
export function sysctlFact(keys: readonly string[]): Fact<SysctlValues> {
  const sorted = [...new Set(keys)].sort();
  return defineFact('host.sysctl', [sorted], `sysctl -e -- ${sh(sorted)}`, (out) => parseSysctl(out, sorted));
}

export function parseSysctl({ stdout, stderr, exitCode }: ProbeOutput, keys: readonly string[]): SysctlValues {
  if (exitCode !== 0 && !stdout.trim()) throw new Error(`sysctl failed (exit ${exitCode}): ${stderr.trim()}`);
  const wanted = new Set(keys);
  const found = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf(' = ');
    const key = eq > 0 ? line.slice(0, eq) : undefined;
    if (key !== undefined && /^[\w.\-/]+$/.test(key)) {
      current = wanted.has(key) ? key : undefined;
      if (current) found.set(current, line.slice(eq + 3));
    } else if (current && line) {
      // A value of several lines (a few /proc/sys files): its lines joined, as normalizeSysctl does.
      found.set(current, `${found.get(current)}\n${line}`);
    }
  }
  return new Map(keys.map((k) => [k, found.has(k) ? normalizeSysctl(found.get(k)!) : undefined]));
}
