import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';

/**
 * UFW facts: one read-only probe and pure parsers of what ufw 0.36 (Debian 13) prints and
 * stores. Formats were recorded from a real ufw; see test/fixtures/ufw/README.md.
 */

export type UfwAction = 'allow' | 'deny' | 'reject' | 'limit';
export type UfwPolicy = 'allow' | 'deny' | 'reject' | 'disabled';
/** ufw's own protocol list (ufw.util.supported_protocols) plus 'any'. */
export type UfwProto = 'tcp' | 'udp' | 'any' | 'ipv6' | 'esp' | 'ah' | 'igmp' | 'gre' | 'vrrp';
export type UfwFamily = 'v4' | 'v6';

export interface UfwRule {
  action: UfwAction;
  direction: 'in' | 'out';
  proto: UfwProto;
  /** Destination port: "22", "6000:6007", "80,443" or "any". */
  port: string;
  /** "any" (ufw's 0.0.0.0/0 or ::/0) or the address/CIDR exactly as ufw normalized it. */
  from: string;
  to: string;
  family: UfwFamily;
  comment?: string;
  /** Interface of the rule's direction: `in on eth0` or `out on eth0`. */
  iface?: string;
  // Rarer parts of a rule, kept so identity and deletion stay exact (a delete must match them).
  /** Source port when not "any" (`from any port 53`). */
  fromPort?: string;
  /** `allow log ...` / `allow log-all ...`. */
  log?: 'log' | 'log-all';
  /** A `ufw route` (FORWARD chain) rule. */
  route?: boolean;
  /** Route rules naming both interfaces: `in on <iface> out on <ifaceOut>`. */
  ifaceOut?: string;
  /** Application profile names (`ufw allow OpenSSH`); port/proto are then the profile's. */
  app?: string;
  fromApp?: string;
}

export interface UfwDefaults {
  incoming: UfwPolicy;
  outgoing: UfwPolicy;
  routed: UfwPolicy;
}

export interface UfwState {
  installed: boolean;
  /** The firewall is loaded now (ufw's own test: its iptables chains exist). */
  active: boolean;
  /** ENABLED=yes in /etc/ufw/ufw.conf: ufw loads at boot. */
  enabled: boolean;
  defaults: UfwDefaults;
  /** "off" | "low" | "medium" | "high" | "full" (ufw's LOGLEVEL). */
  logging: string;
  ipv6: boolean;
  rules: UfwRule[];
}

const ACTIONS: readonly string[] = ['allow', 'deny', 'reject', 'limit'];
const PROTOS: readonly string[] = ['tcp', 'udp', 'any', 'ipv6', 'esp', 'ah', 'igmp', 'gre', 'vrrp'];
/** A ufw port spec: a port, a range a:b, or a comma list of those. Never "::", so never IPv6. */
const PORT_SPEC = /^\d+(:\d+)?(,\d+(:\d+)?)*$/;

function asAction(s: string, line: string): UfwAction {
  if (!ACTIONS.includes(s)) throw new Error(`ufw: unknown action "${s}" in: ${line}`);
  return s as UfwAction;
}

function asProto(s: string, line: string): UfwProto {
  if (!PROTOS.includes(s)) throw new Error(`ufw: unknown protocol "${s}" in: ${line}`);
  return s as UfwProto;
}

function anyAddr(a: string): string {
  return a === '0.0.0.0/0' || a === '::/0' ? 'any' : a;
}

/** Drops undefined optional fields so parsed rules compare equal with toEqual. */
function clean(rule: UfwRule): UfwRule {
  for (const k of Object.keys(rule) as (keyof UfwRule)[]) if (rule[k] === undefined) delete rule[k];
  return rule;
}

// ---------------------------------------------------------------------------------------------
// /etc/ufw/user.rules and user6.rules: the `### tuple ###` lines ufw itself reads its rules from.
// Format (ufw backend_iptables._write_rules):
//   ### tuple ### [route:]ACTION[_log|_log-all] PROTO DPORT DST SPORT SRC [DAPP SAPP] DIR [comment=HEX]
// DIR is in | out | in_eth0 | out_eth0 | in_eth0!out_eth1; app names escape spaces as %20, "-" = none.
// ---------------------------------------------------------------------------------------------

const TUPLE = /^### tuple ###\s*(.*)$/;

export function parseUfwTuples(userRules: string, family: UfwFamily): UfwRule[] {
  const rules: UfwRule[] = [];
  for (const raw of userRules.split('\n')) {
    // As ufw does: "comment=" is always last, split it off first.
    const [body = '', hex] = raw.split(' comment=');
    const m = TUPLE.exec(body);
    if (!m) continue;
    const f = (m[1] ?? '').trim().split(/\s+/);
    if (f.length !== 7 && f.length !== 9) throw new Error(`ufw: malformed tuple: ${raw}`);
    let [verb = '', proto = '', dport = '', dst = '', sport = '', src = ''] = f;
    const dir = f[f.length - 1] ?? '';
    const route = verb.startsWith('route:');
    if (route) verb = verb.slice('route:'.length);
    const [action = '', log] = verb.split(/_(?=log)/);
    const rule: UfwRule = {
      action: asAction(action, raw),
      direction: dir.startsWith('out') ? 'out' : 'in',
      proto: asProto(proto, raw),
      port: dport,
      from: anyAddr(src),
      to: anyAddr(dst),
      family,
      comment: hex !== undefined && hex.trim() !== '' ? hexDecode(hex.trim()) : undefined,
      fromPort: sport === 'any' ? undefined : sport,
      log: log === 'log' || log === 'log-all' ? log : undefined,
      route: route || undefined,
    };
    const both = /^in_(.+)!out_(.+)$/.exec(dir);
    if (both) {
      rule.iface = both[1];
      rule.ifaceOut = both[2];
    } else if (dir.includes('_')) {
      rule.iface = dir.slice(dir.indexOf('_') + 1);
    }
    if (f.length === 9) {
      if (f[6] !== '-') rule.app = (f[6] ?? '').replace(/%20/g, ' ');
      if (f[7] !== '-') rule.fromApp = (f[7] ?? '').replace(/%20/g, ' ');
    }
    rules.push(clean(rule));
  }
  return rules;
}

/** ufw stores comments as hex of their UTF-8; an odd length is truncated as ufw's hex_decode does. */
function hexDecode(hex: string): string {
  return Buffer.from(hex.length % 2 ? hex.slice(0, -1) : hex, 'hex').toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// `ufw status verbose` (LC_ALL=C). Active output:
//   Status: active
//   Logging: on (low)                      | Logging: off
//   Default: deny (incoming), allow (outgoing), disabled (routed)
//   New profiles: skip
//   <blank>
//   To                         Action      From
//   --                         ------      ----
//   22/tcp                     ALLOW IN    Anywhere                   # ssh access
// Rule lines are "%-26s %-12s%-26s%s%s" (to, action+dir, from, " (log)", " # comment"); a long
// "To" pushes the columns right, so lines are split on the action word, not on column offsets.
// Inactive output is the single line "Status: inactive".
// ---------------------------------------------------------------------------------------------

export interface UfwStatus {
  active: boolean;
  /** null when inactive: ufw prints nothing but the status line then. */
  defaults: UfwDefaults | null;
  logging: string | null;
  rules: UfwRule[];
}

export function parseUfwStatusVerbose(text: string): UfwStatus {
  const lines = text.split('\n');
  const status = lines.find((l) => l.startsWith('Status: '));
  if (!status) throw new Error(`ufw: not a "ufw status verbose" output: ${text.slice(0, 200)}`);
  const active = status.trim() === 'Status: active';
  let defaults: UfwDefaults | null = null;
  let logging: string | null = null;
  const rules: UfwRule[] = [];
  let inTable = false;
  for (const line of lines) {
    if (inTable) {
      if (line.trim() !== '') rules.push(parseStatusRule(line));
      continue;
    }
    if (/^--\s+------\s+----\s*$/.test(line)) inTable = true;
    const log = /^Logging: (?:off|on \((\w+)\)|(\w+))\s*$/.exec(line);
    if (log) logging = log[1] ?? log[2] ?? 'off';
    const def = /^Default: (\w+) \(incoming\), (\w+) \(outgoing\), (\w+) \(routed\)/.exec(line);
    if (def) defaults = { incoming: asPolicy(def[1]), outgoing: asPolicy(def[2]), routed: asPolicy(def[3]) };
  }
  return { active, defaults, logging, rules };
}

function asPolicy(s: string | undefined): UfwPolicy {
  if (s === 'allow' || s === 'deny' || s === 'reject' || s === 'disabled') return s;
  throw new Error(`ufw: unknown policy "${s}"`);
}

const STATUS_RULE = /^(.*?)\s+(ALLOW|DENY|REJECT|LIMIT) (IN|OUT|FWD)\s+(.*)$/;

interface Location {
  addr: string;
  port: string;
  proto?: string;
  app?: string;
  v6: boolean;
  iface?: string;
}

function parseStatusRule(line: string): UfwRule {
  const m = STATUS_RULE.exec(line);
  if (!m) throw new Error(`ufw: unparsable status rule: ${line}`);
  const [, toText = '', actionWord = '', dirWord = '', rest0 = ''] = m;
  // "From" has no "#"; the first " # " starts the comment, which runs to the end of the line.
  let rest = rest0;
  let comment: string | undefined;
  const hash = rest.indexOf(' # ');
  if (hash >= 0) {
    comment = rest.slice(hash + 3);
    rest = rest.slice(0, hash);
  }
  rest = rest.trim();
  let log: 'log' | 'log-all' | undefined;
  const attrib = /\s+\(((?:log|log-all|out)(?:, (?:log|log-all|out))*)\)$/.exec(rest);
  if (attrib) {
    rest = rest.slice(0, attrib.index);
    const words = (attrib[1] ?? '').split(', ');
    log = words.includes('log-all') ? 'log-all' : words.includes('log') ? 'log' : undefined;
  }
  const to = parseLocation(toText.trim());
  const from = parseLocation(rest.trim());
  const route = dirWord === 'FWD';
  // Non-route rules show the in-interface under To, the out-interface under From; route rules
  // show the packet's path: in-interface under From, out-interface under To.
  const ifIn = route ? from.iface : to.iface;
  const ifOut = route ? to.iface : from.iface;
  const direction: 'in' | 'out' = route ? (ifOut && !ifIn ? 'out' : 'in') : dirWord === 'OUT' ? 'out' : 'in';
  const proto = to.proto ?? from.proto ?? 'any';
  const v6 = to.v6 || from.v6 || to.addr.includes(':') || from.addr.includes(':');
  return clean({
    action: asAction(actionWord.toLowerCase(), line),
    direction,
    proto: asProto(proto, line),
    port: to.port,
    from: from.addr,
    to: to.addr,
    family: v6 ? 'v6' : 'v4',
    comment,
    iface: direction === 'out' ? ifOut : ifIn,
    ifaceOut: route && ifIn && ifOut ? ifOut : undefined,
    fromPort: from.port === 'any' ? undefined : from.port,
    log,
    route: route || undefined,
    app: to.app,
    fromApp: from.app,
  });
}

/**
 * One side of a status rule (ufw backend_iptables.get_status): "Anywhere", "Anywhere (v6)",
 * "22/tcp", "22/tcp (v6)", "8080", "10.0.0.0/8 5432/tcp", "192.0.2.0/24/esp", "Anywhere/tcp",
 * "22/tcp (OpenSSH (v6))", each optionally followed by " on <iface>".
 */
function parseLocation(text: string): Location {
  let s = text;
  const loc: Location = { addr: 'any', port: 'any', v6: false };
  const on = / on (\S+)$/.exec(s);
  if (on) {
    loc.iface = on[1];
    s = s.slice(0, on.index);
  }
  if (s.endsWith(' (v6)')) {
    loc.v6 = true;
    s = s.slice(0, -' (v6)'.length);
  }
  const app = / \(((?:[^()]|\(v6\))+)\)$/.exec(s);
  if (app) {
    let name = app[1] ?? '';
    if (name.endsWith(' (v6)')) {
      loc.v6 = true;
      name = name.slice(0, -' (v6)'.length);
    }
    loc.app = name;
    s = s.slice(0, app.index);
  }
  const words = s.split(' ');
  const portPart = words.length === 2 ? words[1] : undefined;
  let addrPart = words.length === 2 ? words[0] : undefined;
  if (words.length === 1) {
    const [head = '', proto] = splitProto(words[0] ?? '');
    if (PORT_SPEC.test(head)) {
      loc.port = head;
      loc.proto = proto;
      return loc;
    }
    addrPart = words[0];
  } else if (words.length !== 2) {
    throw new Error(`ufw: unparsable status location "${text}"`);
  }
  if (portPart !== undefined) {
    const [port = '', proto] = splitProto(portPart);
    loc.port = port;
    loc.proto = proto;
  }
  // An address alone may carry the protocol too: "192.0.2.0/24/esp", "Anywhere/tcp".
  const [addr = '', proto] = splitProto(addrPart ?? '');
  if (proto) loc.proto = proto;
  loc.addr = addr === 'Anywhere' ? 'any' : anyAddr(addr);
  return loc;
}

/** "22/tcp" -> ["22", "tcp"]; "10.0.0.0/8" -> ["10.0.0.0/8", undefined] (a prefix length is digits). */
function splitProto(s: string): [string, string | undefined] {
  const m = /^(.*)\/([a-z][a-z0-9]*)$/.exec(s);
  return m && PROTOS.includes(m[2] ?? '') ? [m[1] ?? '', m[2]] : [s, undefined];
}

// ---------------------------------------------------------------------------------------------
// /etc/default/ufw and /etc/ufw/ufw.conf: KEY=value or KEY="value" lines. ufw reads both the same
// way (backend._get_defaults: /^\w+="?\w+"?/, key and value lowercased, quotes stripped).
// ---------------------------------------------------------------------------------------------

function readKeyValues(text: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!/^\w+="?\w+"?/.test(line)) continue;
    const [k = '', v = ''] = line.trim().split('=');
    kv.set(k.toLowerCase(), v.toLowerCase().replace(/^["']+|["']+$/g, ''));
  }
  return kv;
}

const IPT_POLICY: Record<string, UfwPolicy> = { accept: 'allow', drop: 'deny', reject: 'reject' };

export interface UfwDefaultFile {
  /** Policies as configured; `routed` is never "disabled" here (that needs the forwarding sysctls). */
  defaults: UfwDefaults;
  ipv6: boolean;
}

export function parseDefaultUfw(text: string): UfwDefaultFile {
  const kv = readKeyValues(text);
  const policy = (key: string): UfwPolicy => {
    const p = IPT_POLICY[kv.get(key) ?? ''];
    if (!p) throw new Error(`ufw: /etc/default/ufw has no valid ${key.toUpperCase()}`);
    return p;
  };
  return {
    defaults: {
      incoming: policy('default_input_policy'),
      outgoing: policy('default_output_policy'),
      routed: policy('default_forward_policy'),
    },
    ipv6: kv.get('ipv6') === 'yes',
  };
}

export function parseUfwConf(text: string): { enabled: boolean; logging: string } {
  const kv = readKeyValues(text);
  return { enabled: kv.get('enabled') === 'yes', logging: kv.get('loglevel') ?? 'low' };
}

// ---------------------------------------------------------------------------------------------
// The fact. One POSIX sh probe, read-only (ufw status only takes ufw's own lock on
// /run/ufw.lock), always exit 0, in a subshell so it can be batched with other probes.
// Each section starts with "\n@@hostkit-ufw NAME@@\n"; a missing file prints no section, so an
// absent file and an empty one differ, and an unreadable one adds a "PATH:unreadable" section.
// The section body is exactly the file's bytes.
// ---------------------------------------------------------------------------------------------

const MARK = '@@hostkit-ufw';

/** ufw shows routed "disabled" when forwarding is off in all of these (backend._get_default_policy). */
const FORWARDING = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv6/conf/default/forwarding',
  '/proc/sys/net/ipv6/conf/all/forwarding',
];
/** Files whose content the fact reads, by section name. */
const FILES = ['/etc/ufw/ufw.conf', '/etc/default/ufw', '/etc/ufw/user.rules', '/etc/ufw/user6.rules', ...FORWARDING];

export const UFW_PROBE = [
  '(',
  `m() { printf '\\n${MARK} %s@@\\n' "$1"; }`,
  'PATH="$PATH:/usr/sbin:/sbin"',
  `m dpkg; dpkg-query -W -f='\${db:Status-Abbrev}' ufw 2>/dev/null`,
  // ufw's own "is it loaded" test (backend_iptables.get_status), not ufw itself (a Python start):
  // the exit code of listing each of its user chains, with the iptables it runs (/usr/sbin).
  'if command -v ufw >/dev/null 2>&1; then m chains; for c in input output forward; do',
  '  /usr/sbin/iptables -L "ufw-user-$c" -n >/dev/null 2>&1; echo "v4 $c $?"',
  '  if [ -d /proc/sys/net/ipv6 ]; then /usr/sbin/ip6tables -L "ufw6-user-$c" -n >/dev/null 2>&1; echo "v6 $c $?"; fi',
  'done; fi',
  `for f in ${FILES.join(' ')}; do if [ -f "$f" ]; then m "$f"; cat "$f" || m "$f:unreadable"; fi; done`,
  'if [ -d /proc/sys/net/ipv6 ]; then m kernel-ipv6; fi',
  'm end',
  ')',
].join('\n');

/** Splits the probe's stdout into its sections; throws if the end marker is missing (cut short). */
export function splitUfwProbe(stdout: string): Map<string, string> {
  const parts = stdout.split(new RegExp(`\\n${MARK} ([^@\\n]+)@@\\n`));
  const sections = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) sections.set(parts[i] ?? '', parts[i + 1] ?? '');
  if (!sections.has('end')) throw new Error(`ufw probe output is incomplete: ${stdout.slice(0, 200)}`);
  const unreadable = [...sections.keys()].filter((k) => k.endsWith(':unreadable'));
  if (unreadable.length > 0)
    throw new Error(`ufw probe could not read ${unreadable.map((k) => k.slice(0, -':unreadable'.length)).join(', ')} (not root?)`);
  return sections;
}

/** Debian's shipped /etc/default/ufw and ufw.conf values: what a fresh install of ufw starts with. */
const PACKAGE_DEFAULTS = { incoming: 'deny', outgoing: 'allow', routed: 'deny', logging: 'low', ipv6: true } as const;

export function parseUfwProbe(out: ProbeOutput): UfwState {
  const s = splitUfwProbe(out.stdout);
  const { installed, ipv6, rules, enabled } = ufwFiles(s);
  if (s.has('chains')) return ufwStateFromFiles(s, installed && chainsLoaded(s.get('chains') ?? '', ipv6));
  // Recordings of the earlier probe (`ufw status verbose` as the "status" section).
  let status: UfwStatus | undefined;
  if (installed && s.has('status')) {
    if ((s.get('status.exit') ?? '').trim() !== '0') {
      // Never guess the firewall state (the lockout guard relies on it).
      throw new Error(`ufw status verbose failed: ${(s.get('status') ?? '').trim()}`);
    }
    status = parseUfwStatusVerbose(s.get('status') ?? '');
  }
  if (status?.active) {
    if (!status.defaults || status.logging === null) throw new Error('ufw status verbose: active but no "Default:" or "Logging:" line');
    return { installed, active: true, enabled, defaults: status.defaults, logging: status.logging, ipv6, rules };
  }
  // Inactive (or not installed): status prints nothing else, so read the config ufw would load.
  return ufwStateFromFiles(s, false);
}

/** What the probe's files and dpkg line say, read once for either source of the active state. */
function ufwFiles(s: Map<string, string>) {
  // Status-Abbrev is desired+status+error, e.g. "ii "; "un"/"rc"/no output mean not installed.
  const installed = /^.[itW]/.test(s.get('dpkg') ?? '');
  const defaultFile = s.has('/etc/default/ufw') ? parseDefaultUfw(s.get('/etc/default/ufw') ?? '') : undefined;
  const conf = s.has('/etc/ufw/ufw.conf') ? parseUfwConf(s.get('/etc/ufw/ufw.conf') ?? '') : undefined;
  // As ufw's use_ipv6(): IPV6=yes and a kernel with IPv6. With IPv6 off ufw ignores user6.rules.
  const ipv6 = (defaultFile?.ipv6 ?? PACKAGE_DEFAULTS.ipv6) && s.has('kernel-ipv6');
  const rules = [
    ...parseUfwTuples(s.get('/etc/ufw/user.rules') ?? '', 'v4'),
    ...(ipv6 ? parseUfwTuples(s.get('/etc/ufw/user6.rules') ?? '', 'v6') : []),
  ];
  const enabled = installed && (conf?.enabled ?? false);
  return { installed, defaultFile, conf, ipv6, rules, enabled };
}

/**
 * ufw's test, in its order: a v4 user chain that does not exist (exit 1) means "inactive"; any
 * other failure of a v4 chain, or of a v6 chain with IPv6 on, is an error (ufw raises then),
 * never read as either state (the lockout guard relies on it).
 */
function chainsLoaded(text: string, ipv6: boolean): boolean {
  const rc = new Map(
    text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [family = '', chain = '', code = ''] = l.split(' ');
        return [`${family} ${chain}`, code] as const;
      }),
  );
  for (const c of ['input', 'output', 'forward']) {
    const v4 = rc.get(`v4 ${c}`);
    if (v4 === '1') return false;
    if (v4 !== '0') throw new Error(`ufw: iptables -L ufw-user-${c} failed (exit ${v4 ?? 'none'})`);
    if (ipv6 && rc.get(`v6 ${c}`) !== '0') throw new Error(`ufw: ip6tables -L ufw6-user-${c} failed (exit ${rc.get(`v6 ${c}`) ?? 'none'})`);
  }
  return true;
}

/** ufw's log levels (backend.loglevels); anything else in ufw.conf is shown as "unknown". */
const LOG_LEVELS: readonly string[] = ['off', 'low', 'medium', 'high', 'full'];

/**
 * The state as `ufw status verbose` derives it (ufw 0.36 backend_iptables.get_status,
 * backend._get_default_policy, get_loglevel), from the probe's sections and ufw's own "is it
 * loaded" test (its user chains exist in iptables) instead of starting ufw (Python): the rules
 * are user.rules/user6.rules, the defaults /etc/default/ufw (routed "disabled" when forwarding
 * is off), the logging ufw.conf's LOGLEVEL. Without the files (never installed, or purged) the
 * package's defaults. test/unit/ufw-facts.test.ts proves it equal to the status-verbose parse
 * on every recorded case.
 */
export function ufwStateFromFiles(s: Map<string, string>, active: boolean): UfwState {
  const { installed, defaultFile, conf, ipv6, rules, enabled } = ufwFiles(s);
  const configured = defaultFile?.defaults ?? PACKAGE_DEFAULTS;
  const forwarding = FORWARDING.some((f) => (s.get(f) ?? '').trim() === '1' && (f.includes('ipv4') || ipv6));
  // Loaded, ufw shows ufw.conf's LOGLEVEL as it is ("unknown" when missing or not a level).
  const level = conf?.logging ?? PACKAGE_DEFAULTS.logging;
  const known = readKeyValues(s.get('/etc/ufw/ufw.conf') ?? '').has('loglevel') && LOG_LEVELS.includes(level);
  const logging = active && !known ? 'unknown' : level;
  return {
    installed,
    active,
    enabled,
    defaults: {
      incoming: configured.incoming,
      outgoing: configured.outgoing,
      routed: forwarding ? configured.routed : 'disabled',
    },
    logging,
    ipv6,
    rules,
  };
}

export const ufwState: Fact<UfwState> = defineFact('ufw.state', [], UFW_PROBE, parseUfwProbe);
