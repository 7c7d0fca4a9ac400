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
 * fail2ban's state: service, running jails and each jail's counters and journal matches. The
 * client only speaks prose; it is parsed here and nowhere else (recorded outputs:
 * test/fixtures/facts/fail2ban.state/).
 */
export const fail2banFact: Fact<Fail2banState> = defineFact(
  'fail2ban.state',
  [],
  [
    'printf "@@ufw %s\\n" "$(ufw status 2>/dev/null | head -n1)"',
    'if ! command -v fail2ban-client >/dev/null 2>&1; then echo "@@installed no"; exit 0; fi',
    'echo "@@installed yes"',
    'printf "@@active %s\\n" "$(systemctl is-active fail2ban 2>/dev/null)"',
    'if out=$(fail2ban-client status 2>&1); then',
    '  echo "@@status"; printf "%s\\n" "$out"',
    '  for j in $(printf "%s\\n" "$out" | sed -n "s/.*Jail list:[[:space:]]*//p" | tr "," " "); do',
    '    echo "@@jail $j"; fail2ban-client status "$j" 2>&1',
    '    echo "@@actions $j"; fail2ban-client get "$j" actions 2>&1',
    '  done',
    'else',
    '  echo "@@down"; printf "%s\\n" "$out"',
    'fi',
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
