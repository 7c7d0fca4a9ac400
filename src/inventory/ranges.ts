/**
 * Ansible's host patterns in inventories: `www[01:50].example.com`, `db-[a:f]`, `node[1:10:2]`,
 * an optional `:port` suffix (`badwolf.example.com:5309`). Same rules as Ansible's
 * expand_hostname_range: a leading zero pads every number to the width of the start, letter
 * ranges run through a-z then A-Z, the end is inclusive, several ranges multiply.
 */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export interface HostPattern {
  names: string[];
  port?: number;
}

/** Expands one host key; throws an Error whose message says what is wrong with the range. */
export function expandHostPattern(pattern: string): HostPattern {
  let base = pattern;
  let port: number | undefined;
  // A port is ":digits" after the last "]" (a range may contain ":").
  const m = /^(.*[^:]):(\d+)$/.exec(pattern);
  if (m && !m[1]!.slice(m[1]!.lastIndexOf(']') + 1).includes(':')) {
    base = m[1]!;
    port = Number(m[2]);
    if (port < 1 || port > 65535) throw new Error(`port ${m[2]} of host "${pattern}" is not 1..65535`);
  }
  const names = expandRanges(base);
  const bad = names.find((n) => !HOST_NAME.test(n));
  if (bad !== undefined) throw new Error(`expected a host name: letters, digits, "_", "." and "-", got ${JSON.stringify(bad)}`);
  return { names, ...(port !== undefined ? { port } : {}) };
}

function expandRanges(name: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) {
    if (name.includes(']')) throw new Error(`host "${name}" has "]" without "["`);
    return [name];
  }
  const close = name.indexOf(']', open);
  if (close < 0) throw new Error(`host range in "${name}" has "[" without "]"`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new Error(`host range "[${bounds.join(':')}]" in "${name}" must be [begin:end] or [begin:end:step]`);
  const [beg = '0', end = '', stepText = '1'] = bounds;
  const begin = beg === '' ? '0' : beg;
  if (end === '') throw new Error(`host range in "${name}" has no end value`);
  const step = Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`host range step "${stepText}" in "${name}" must be an integer >= 1`);
  let values: string[];
  if (begin.length === 1 && end.length === 1 && LETTERS.includes(begin) && LETTERS.includes(end)) {
    const [i, j] = [LETTERS.indexOf(begin), LETTERS.indexOf(end)];
    if (i > j) throw new Error(`host range [${begin}:${end}] in "${name}" must have begin <= end`);
    values = [];
    for (let k = i; k <= j; k += step) values.push(LETTERS[k]!);
  } else {
    if (!/^\d+$/.test(begin) || !/^\d+$/.test(end))
      throw new Error(`host range [${begin}:${end}] in "${name}" must be numbers or single letters`);
    const width = begin.length > 1 && begin.startsWith('0') ? begin.length : 0;
    if (width && width !== end.length)
      throw new Error(`host range [${begin}:${end}] in "${name}" must have begin and end of equal length (zero padding)`);
    const [from, to] = [Number(begin), Number(end)];
    // Ansible yields no host at all here; an inventory line that names nothing is a mistake.
    if (from > to) throw new Error(`host range [${begin}:${end}] in "${name}" must have begin <= end`);
    if ((to - from) / step > 10000) throw new Error(`host range [${begin}:${end}] in "${name}" expands to more than 10000 hosts`);
    values = [];
    for (let k = from; k <= to; k += step) values.push(String(k).padStart(width, '0'));
  }
  return values.flatMap((v) => expandRanges(`${head}${v}${tail}`));
}
