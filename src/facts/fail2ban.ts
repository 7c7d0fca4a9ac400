import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';

/** One jail as `fail2ban-client status <jail>` describes it. */
export interface JailStatus {
  name: string;
  currentlyFailed: number;
  totalFailed: number;
  currentlyBanned: number;
  totalBanned: number;
  banned: string[];
  /** systemd backend: "A + B + C" as the running jail has it. */
  journalMatches?: string;
  /** file backends. */
  files?: string[];
  /** Ban actions the running jail has (`fail2ban-client get <jail> actions`). */
  actions: string[];
}

export interface Fail2banState {
  installed: boolean;
  /** `systemctl is-active fail2ban`. */
  active: string;
  /** The server answers on its socket. */
  running: boolean;
  /** The client's own words when the server does not answer. */
  error?: string;
  /** Running jails, from `fail2ban-client status`. */
  jails: string[];
  status: Map<string, JailStatus>;
  /** `ufw status` says "Status: active" (the ufw ban action needs it). */
  ufwActive: boolean;
}

/**
 * `Status: active` or `Status: inactive` as `ufw status` would print it, without starting ufw
 * (Python): ufw's own test (backend_iptables.get_status) is whether its user chains are loaded,
 * `iptables -L ufw-user-{input,output,forward} -n` (and ip6tables' ufw6-user-* with IPv6 on);
 * exit 1 of any means inactive, any other failure is no answer (ufw errors out then).
 */
const UFW_STATUS_LINE = [
  'ufw_status() {',
  '  command -v ufw >/dev/null 2>&1 || return 0',
  '  v6=""; if [ -d /proc/sys/net/ipv6 ] && grep -qiE \'^IPV6="?yes"?\' /etc/default/ufw 2>/dev/null; then v6=1; fi',
  '  for c in input output forward; do',
  '    iptables -L "ufw-user-$c" -n >/dev/null 2>&1; r=$?',
  '    [ "$r" = 1 ] && { echo "Status: inactive"; return 0; }',
  '    [ "$r" = 0 ] || { echo "ERROR: problem running iptables"; return 0; }',
  '    if [ -n "$v6" ]; then ip6tables -L "ufw6-user-$c" -n >/dev/null 2>&1 || { echo "ERROR: problem running ip6tables"; return 0; }; fi',
  '  done',
  '  echo "Status: active"',
  '}',
].join('\n');

/**
 * ONE client start (Python, ~0.06-0.15 s of CPU each) for the whole state: `fail2ban-client -i
 * status` as a coprocess on two fifos. Its first answer is the server's status (flushed before
 * the interactive banner: fail2banclient.py's __processCmd); the commands for every RUNNING jail it
 * lists (`status <jail>`, `get <jail> actions`) are written to its stdin only then, and stdin is
 * closed so the session ends (EOF: the client exits 255). A server that does not answer ends the
 * client before its prompt: what it said is the @@down section, as `fail2ban-client status 2>&1`
 * says it. The answers are re-framed into the @@jail / @@actions sections one client call per
 * command gave (the `fail2ban> ` prompt starts each answer); everything after the last one is
 * read and dropped (the client is never cut off by a closed pipe). Builtins only besides the
 * client, mktemp, mkfifo and rm.
 */
const SESSION = [
  "set -f; nl='\n'",
  'd=$(mktemp -d 2>/dev/null || { mkdir -m 700 /tmp/.hostkit-f2b.$$ && echo /tmp/.hostkit-f2b.$$; }) && mkfifo "$d/i" "$d/o" || exit 1',
  'fail2ban-client -i status <"$d/i" >"$d/o" 2>&1 &',
  'client=$!',
  // Opened in the order the client opens them (stdin, then stdout): neither side waits for the other.
  'exec 3>"$d/i" 4<"$d/o"',
  'rm -rf "$d"',
  // The status answer ends with its "Jail list:" line; the banner follows only a command the server answered.
  "out=''; answered=''; jails=''",
  'while IFS= read -r line <&4 || [ -n "$line" ]; do',
  '  out="$out$line$nl"',
  "  case $line in *'Jail list:'*) answered=1; jails=${line#*Jail list:}; break ;; 'Fail2Ban v'*) answered=1; break ;; esac",
  'done',
  'if [ -n "$answered" ]; then',
  '  echo "@@status"; printf "%s" "$out"',
  "  IFS=', \t'; set -- $jails; unset IFS",
  '  for j; do printf "status %s\\nget %s actions\\n" "$j" "$j"; done >&3',
  '  exec 3>&-',
  "  next=status; keep=''",
  '  while IFS= read -r line <&4 || [ -n "$line" ]; do',
  "    case $line in 'fail2ban> '*)",
  "      line=${line#'fail2ban> '}",
  `      if [ $# = 0 ]; then keep=''; elif [ $next = status ]; then next=actions; keep=1; echo "@@jail $1"; else next=status; echo "@@actions $1"; shift; fi`,
  '    esac',
  '    [ -z "$keep" ] || printf "%s\\n" "$line"',
  '  done',
  'else',
  '  exec 3>&-',
  // As "$(fail2ban-client status 2>&1)" gives it: trailing newlines stripped.
  '  while [ "$out" != "${out%"$nl"}" ]; do out=${out%"$nl"}; done',
  '  echo "@@down"; printf "%s\\n" "$out"',
  'fi',
  // The session ended on EOF, which the client answers with exit 255.
  'wait "$client"',
  'exit 0',
].join('\n');

/**
 * fail2ban's state: service, running jails and each jail's counters and journal matches. The
 * client only speaks prose; it is parsed here and nowhere else (recorded outputs:
 * test/fixtures/facts/fail2ban.state/), from one client session (SESSION above).
 */
export const fail2banFact: Fact<Fail2banState> = defineFact(
  'fail2ban.state',
  [],
  [
    'PATH="$PATH:/usr/sbin:/sbin"',
    UFW_STATUS_LINE,
    'printf "@@ufw %s\\n" "$(ufw_status)"',
    'if ! command -v fail2ban-client >/dev/null 2>&1; then echo "@@installed no"; exit 0; fi',
    'echo "@@installed yes"',
    'printf "@@active %s\\n" "$(systemctl is-active fail2ban 2>/dev/null)"',
    SESSION,
  ].join('\n'),
  ({ stdout }) => parseFail2banProbe(stdout),
);

/** Splits "@@name arg" framed sections: name -> [arg, body]. */
function sections(stdout: string): { name: string; arg: string; body: string }[] {
  const out: { name: string; arg: string; body: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^@@(\w+)(?: (.*))?$/.exec(line);
    if (m) out.push({ name: m[1]!, arg: (m[2] ?? '').trim(), body: '' });
    else if (out.length) out[out.length - 1]!.body += `${line}\n`;
  }
  return out;
}

export function parseFail2banProbe(stdout: string): Fail2banState {
  const parts = sections(stdout);
  const find = (name: string) => parts.find((p) => p.name === name);
  const installed = find('installed');
  if (!installed) throw new Error(`unexpected fail2ban probe output: ${stdout.slice(0, 200)}`);
  const state: Fail2banState = {
    installed: installed.arg === 'yes',
    active: find('active')?.arg || 'inactive',
    running: false,
    jails: [],
    status: new Map(),
    ufwActive: /^Status: active\b/.test(find('ufw')?.arg ?? ''),
  };
  const down = find('down');
  if (down) state.error = down.body.trim().split('\n').slice(-2).join(' ');
  const status = find('status');
  if (status) {
    state.running = true;
    state.jails = parseServerStatus(status.body);
  }
  for (const p of parts.filter((x) => x.name === 'jail')) {
    const actions = parts.find((x) => x.name === 'actions' && x.arg === p.arg);
    state.status.set(p.arg, { ...parseJailStatus(p.arg, p.body), actions: actions ? parseJailActions(p.arg, actions.body) : [] });
  }
  // Every running jail described: a client session that answered nothing must not read as
  // "no journal matches or actions to compare" (that would hide drift).
  const undescribed = state.jails.filter((j) => !state.status.has(j) || !parts.some((x) => x.name === 'actions' && x.arg === j));
  if (undescribed.length) throw new Error(`fail2ban probe: no status or actions of running jail(s) ${undescribed.join(', ')}`);
  return state;
}

/** "Key:\tvalue" lines of the client's tree output, tree drawing stripped. */
function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^[\s|`-]*([A-Za-z][A-Za-z ]*?):\s*(.*)$/.exec(line);
    if (m) map.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return map;
}

/** `fail2ban-client status` -> running jail names. */
export function parseServerStatus(text: string): string[] {
  const list = fields(text).get('jail list');
  if (list === undefined) throw new Error(`fail2ban-client status: no "Jail list" in: ${text.trim().slice(0, 200)}`);
  return list
    .split(',')
    .map((j) => j.trim())
    .filter(Boolean);
}

/** `fail2ban-client get <jail> actions` -> action names ("ufw", "nftables-docker"). */
export function parseJailActions(name: string, text: string): string[] {
  const [head = '', ...rest] = text.trim().split('\n');
  if (!/has the following actions:$/.test(head))
    throw new Error(`fail2ban-client get ${name} actions: unexpected output: ${text.trim().slice(0, 200)}`);
  return rest
    .join(',')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

/** `fail2ban-client status <jail>` -> counters, banned addresses, journal matches or files. */
export function parseJailStatus(name: string, text: string): Omit<JailStatus, 'actions'> {
  const f = fields(text);
  const num = (k: string) => {
    const v = f.get(k);
    if (v === undefined || !/^\d+$/.test(v))
      throw new Error(`fail2ban-client status ${name}: no "${k}" count in: ${text.trim().slice(0, 300)}`);
    return Number(v);
  };
  const banned = (f.get('banned ip list') ?? '').split(/\s+/).filter(Boolean);
  const journal = f.get('journal matches');
  const files = f.get('file list');
  return {
    name,
    currentlyFailed: num('currently failed'),
    totalFailed: num('total failed'),
    currentlyBanned: num('currently banned'),
    totalBanned: num('total banned'),
    banned,
    ...(journal !== undefined ? { journalMatches: journal } : {}),
    ...(files !== undefined ? { files: files.split(/\s+/).filter(Boolean) } : {}),
  };
}
