import type { Fact, ProbeOutput } from '../engine/types.js';

/** A fact argument: plain JSON data, so it serialises into the key the same way every time. */
export type FactArg = null | boolean | number | string | readonly FactArg[] | { readonly [k: string]: FactArg };

/**
 * JSON with object keys sorted: `{b:1,a:2}` and `{a:2,b:1}` give the same text. Arrays keep their
 * order; a factory whose argument is a set sorts it before passing it here.
 */
export function stableStringify(value: FactArg): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v)).join(',')}]`;
  const obj = value as { readonly [k: string]: FactArg };
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k] as FactArg)}`)
    .join(',')}}`;
}

/** The one place a fact's key is made: its name, plus its arguments when it has any. */
export function factKey(name: string, args: readonly FactArg[]): string {
  return args.length === 0 ? name : `${name}${stableStringify(args).replace(/^\[/, '(').replace(/\]$/, ')')}`;
}

/**
 * Builds a Fact (pyinfra's model: a read-only command plus a pure parser of its output). The key
 * is derived from the name and the arguments, so two resources asking for `stat("/srv")` share
 * one probe and no caller types a key by hand.
 */
export function defineFact<T>(name: string, args: readonly FactArg[], command: string, parse: (output: ProbeOutput) => T): Fact<T> {
  return { key: factKey(name, args), name, args, command, parse };
}
