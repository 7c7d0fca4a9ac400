import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';

/** Live kernel values by key; undefined when the key does not exist on this kernel. */
export type SysctlValues = Map<string, string | undefined>;

/** Normalizes a value as sysctl prints it: tabs and newlines between fields become one space. */
export const normalizeSysctl = (v: string): string => v.trim().replace(/\s+/g, ' ');

/** `sysctl -n` of each key, one "key=value" (or "key!" when absent) line per key. */
export function sysctlFact(keys: readonly string[]): Fact<SysctlValues> {
  const sorted = [...new Set(keys)].sort();
  return defineFact(
    'host.sysctl',
    [sorted],
    `for k in ${sh(sorted)}; do ` +
      `if v=$(sysctl -n -- "$k" 2>/dev/null); then printf '%s=%s\\n' "$k" "$(printf '%s' "$v" | tr '\\n\\t' '  ')"; ` +
      `else printf '%s!\\n' "$k"; fi; done`,
    ({ stdout }) => parseSysctl(stdout, sorted),
  );
}

export function parseSysctl(stdout: string, keys: readonly string[]): SysctlValues {
  const found = new Map<string, string | undefined>();
  for (const line of stdout.split('\n')) {
    if (line.endsWith('!')) found.set(line.slice(0, -1), undefined);
    const eq = line.indexOf('=');
    if (eq > 0) found.set(line.slice(0, eq), normalizeSysctl(line.slice(eq + 1)));
  }
  for (const k of keys) if (!found.has(k)) throw new Error(`sysctl probe printed nothing for ${k}`);
  return new Map(keys.map((k) => [k, found.get(k)]));
}
