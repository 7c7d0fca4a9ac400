import type { UfwFamily, UfwRule } from '../facts/ufw.js';

/**
 * The firewall planner's view of ufw rules: rule identity (what ufw treats as the same rule),
 * addresses normalized as ufw stores them, and the ufw argv that adds or deletes a rule. The
 * fact (src/facts/ufw.ts) only reads; everything here is about changing the rules.
 */

/** Identity of a rule ignoring its comment: equal keys are the same ufw rule. */
export function ruleKey(rule: UfwRule): string {
  return `${rule.action}${rule.log ? `_${rule.log}` : ''} ${matchKey(rule)}`;
}

/**
 * What ufw matches when adding: a rule equal to an existing one in all but action, log type and
 * comment REPLACES it in place ("Rule updated"), e.g. `ufw deny 22/tcp` over `allow 22/tcp`,
 * or re-adding without a comment drops the comment.
 */
export function matchKey(rule: UfwRule): string {
  const side = (addr: string, app: string | undefined, port: string | undefined) =>
    `${addr} ${app ? `app ${app}` : `port ${port ?? 'any'}`}`;
  const parts = [
    rule.family,
    rule.route ? 'route' : '',
    rule.direction,
    rule.iface ? `on ${rule.iface}` : '',
    rule.ifaceOut ? `out on ${rule.ifaceOut}` : '',
    rule.proto,
    `from ${side(rule.from, rule.fromApp, rule.fromPort)}`,
    `to ${side(rule.to, rule.app, rule.port)}`,
  ];
  return parts.filter((p) => p !== '').join(' ');
}

/**
 * An address as ufw stores it (util.normalize_address), so declared addresses compare equal to
 * recorded ones: IPv4 host bits cleared ("10.0.0.5/8" -> "10.0.0.0/8"), dotted netmasks as
 * prefix lengths, "/32" and "/128" dropped, IPv6 in inet_ntop form (lowercase, longest zero run
 * compressed; IPv6 host bits are NOT cleared by ufw), and the wildcards as "any".
 */
export function normalizeUfwAddress(address: string): string {
  if (address === 'any') return 'any';
  const [host = '', mask, ...extra] = address.split('/');
  const bad = () => new Error(`not an IP address or network: "${address}"`);
  if (extra.length > 0 || (mask !== undefined && !/^\d{1,3}$|^\d+\.\d+\.\d+\.\d+$/.test(mask))) throw bad();
  if (host.includes(':')) {
    const words = parseIpv6(host);
    if (!words || (mask !== undefined && (!/^\d+$/.test(mask) || Number(mask) > 128))) throw bad();
    const text = formatIpv6(words);
    if (mask === undefined || Number(mask) === 128) return text;
    return Number(mask) === 0 && text === '::' ? 'any' : `${text}/${Number(mask)}`;
  }
  const ip = parseIpv4(host);
  const bits = mask === undefined ? 32 : mask.includes('.') ? netmaskBits(mask) : Number(mask);
  if (ip === undefined || bits === undefined || bits > 32) throw bad();
  const net = bits === 0 ? 0 : (ip & (~0 << (32 - bits))) >>> 0;
  const text = [24, 16, 8, 0].map((sh) => (net >>> sh) & 255).join('.');
  if (bits === 0 && net === 0) return 'any';
  return bits === 32 ? text : `${text}/${bits}`;
}

function parseIpv4(s: string): number | undefined {
  // inet_pton: four decimal octets, no leading zeros.
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.some((o) => o > 255) ? undefined : octets.reduce((n, o) => n * 256 + o, 0);
}

function netmaskBits(mask: string): number | undefined {
  const n = parseIpv4(mask);
  if (n === undefined) return undefined;
  const bits = n.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

function parseIpv6(s: string): number[] | undefined {
  let text = s;
  const v4 = /(^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseIpv4(v4[2] ?? '');
    if (n === undefined) return undefined;
    text = `${text.slice(0, v4.index + (v4[1] ?? '').length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0] ?? '');
  const tail = halves.length === 2 ? group(halves[1] ?? '') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (!all.every((w) => /^[0-9a-fA-F]{1,4}$/.test(w))) return undefined;
  return all.map((w) => parseInt(w, 16));
}

/** glibc inet_ntop: compress the first longest run of >= 2 zero words; v4-mapped as dotted. */
function formatIpv6(words: number[]): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best.at === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
    const [a = 0, b = 0] = words.slice(6);
    const dotted = `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
    return best.len === 6 ? `::${dotted}` : `::ffff:${dotted}`;
  }
  if (best.at < 0) return hex(words);
  return `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.len))}`;
}

/** A rule to add or delete; family "both" is one ufw command writing the v4 and the v6 rule. */
export type UfwRuleSpec = Omit<UfwRule, 'family'> & { family: UfwFamily | 'both' };

/**
 * ufw argv in the canonical long form, verified on ufw 0.36.2 (Debian 13):
 *   ['ufw', 'allow', 'proto', 'tcp', 'from', 'any', 'to', 'any', 'port', '22', 'comment', 'ssh']
 *   ['ufw', '--force', 'delete', 'allow', 'proto', 'tcp', 'from', 'any', 'to', 'any', 'port', '22']
 * - "any" writes both families (when IPV6=yes); "0.0.0.0/0" only the v4 rule and "::/0" only the
 *   v6 one, with tuples identical to the "any" ones. So a single-family rule's "any" is written
 *   as its family's wildcard, and family "both" keeps "any".
 * - Delete matches action and log type exactly but ignores the comment, so none is passed.
 *   Deleting a missing rule prints "Could not delete non-existent rule" and exits 0.
 * - Adding a rule that exists prints "Skipping adding existing rule"; see matchKey for updates.
 * - Any-proto rules omit `proto`; app rules omit proto and port (ufw refuses them with `app`).
 * - A comment may not contain "'" (ufw refuses it).
 */
export function toUfwArgs(rule: UfwRuleSpec, verb: 'add' | 'delete'): string[] {
  // ufw's parser refuses any "'" in a comment (prints its usage, exit 1); fail while planning.
  if (verb === 'add' && rule.comment?.includes("'")) throw new Error(`ufw comments cannot contain "'": ${rule.comment}`);
  const wildcard = rule.family === 'v4' ? '0.0.0.0/0' : rule.family === 'v6' ? '::/0' : 'any';
  const addr = (a: string): string => (a === 'any' ? wildcard : a);
  const argv = ['ufw'];
  if (verb === 'delete') argv.push('--force');
  if (rule.route) argv.push('route');
  if (verb === 'delete') argv.push('delete');
  argv.push(rule.action);
  if (rule.ifaceOut) argv.push('in', 'on', rule.iface ?? '', 'out', 'on', rule.ifaceOut);
  else if (rule.iface) argv.push(rule.direction, 'on', rule.iface);
  else if (rule.direction === 'out') argv.push('out');
  if (rule.log) argv.push(rule.log);
  if (rule.proto !== 'any' && !rule.app && !rule.fromApp) argv.push('proto', rule.proto);
  argv.push('from', addr(rule.from));
  if (rule.fromApp) argv.push('app', rule.fromApp);
  else if (rule.fromPort && rule.fromPort !== 'any') argv.push('port', rule.fromPort);
  argv.push('to', addr(rule.to));
  if (rule.app) argv.push('app', rule.app);
  else if (rule.port !== 'any') argv.push('port', rule.port);
  if (verb === 'add' && rule.comment) argv.push('comment', rule.comment);
  return argv;
}
