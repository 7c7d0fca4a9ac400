import { parse } from 'yaml';

/**
 * Parse-back checks of the rendered formats: each returns the problems found (empty: the file
 * says what hostkit meant, with no extra section, key or line).
 */

/** Every character some reader takes as the end of a line (Python's splitlines, the Unicode separators). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the line breaks looked for.
export const LINE_BREAKS = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/g;
export const lineCount = (s: string) => (s.match(LINE_BREAKS) ?? []).length;

/** fail2ban's INI as Python's ConfigParser reads it (universal newlines, continuation lines). */
export function iniProblems(text: string, allowed: Record<string, readonly string[]>, jails: string[]): string[] {
  const problems: string[] = [];
  let section: string | undefined;
  for (const line of text.split(LINE_BREAKS)) {
    if (/^\s*([#;]|$)/.test(line)) continue;
    if (/^\s/.test(line)) continue; // continuation of the previous value
    const head = /^\[([^\]]+)\]\s*$/.exec(line);
    if (head) {
      section = head[1]!;
      if (!(section in allowed) && !jails.includes(section)) problems.push(`unexpected section [${section}]`);
      continue;
    }
    const kv = /^([^=:\s][^=:]*?)\s*[=:]/.exec(line);
    if (!kv || section === undefined) {
      problems.push(`not a key line: ${JSON.stringify(line)}`);
      continue;
    }
    const keys = allowed[section] ?? allowed.jail!;
    if (!keys.includes(kv[1]!)) problems.push(`unexpected key [${section}] ${kv[1]}`);
  }
  return problems;
}

export const JAIL_KEYS = {
  DEFAULT: ['bantime', 'findtime', 'maxretry', 'ignoreip', 'banaction', 'banaction_allports'],
  sshd: ['enabled', 'backend', 'mode', 'journalmatch', 'port', 'maxretry', 'bantime', 'findtime'],
  recidive: ['enabled', 'backend', 'logpath', 'action', 'bantime', 'findtime', 'maxretry'],
  jail: ['enabled', 'filter', 'backend', 'logpath', 'journalmatch', 'port', 'maxretry', 'bantime', 'findtime', 'action'],
} as const;

/** A systemd unit: sections and Key=Value lines, no continuation, only the keys hostkit writes. */
export function unitProblems(text: string, expectCalendar?: string): string[] {
  const allowed: Record<string, string[]> = {
    Unit: ['Description', 'Wants', 'After'],
    Service: ['Type', 'ExecStart', 'Nice', 'IOSchedulingClass', 'IOSchedulingPriority'],
    Timer: ['OnCalendar', 'Persistent', 'RandomizedDelaySec'],
    Install: ['WantedBy'],
  };
  const problems: string[] = [];
  let section: string | undefined;
  for (const line of text.split(LINE_BREAKS)) {
    if (/^\s*([#;]|$)/.test(line)) continue;
    if (line.endsWith('\\')) problems.push(`continuation line: ${JSON.stringify(line)}`);
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = head[1]!;
      if (!allowed[section]) problems.push(`unexpected section [${section}]`);
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (!kv || !section || !allowed[section]?.includes(kv[1]!)) problems.push(`unexpected line in [${section}]: ${JSON.stringify(line)}`);
    else if (kv[1] === 'OnCalendar' && expectCalendar !== undefined && kv[2] !== expectCalendar)
      problems.push(`OnCalendar=${kv[2]} is not ${expectCalendar}`);
  }
  return problems;
}

const SERVICE_KEYS = [
  'container_name',
  'image',
  'command',
  'restart',
  'ports',
  'expose',
  'environment',
  'volumes',
  'networks',
  'depends_on',
  'healthcheck',
  'labels',
];

/** A compose file: only the keys the template writes, every service and variable of the inventory. */
export function composeProblems(text: string, services: Record<string, { environment?: Record<string, unknown> }>): string[] {
  const problems: string[] = [];
  const doc = parse(text) as Record<string, unknown>;
  for (const k of Object.keys(doc)) if (!['name', 'services', 'networks'].includes(k)) problems.push(`top-level key ${k}`);
  const got = (doc.services ?? {}) as Record<string, Record<string, unknown>>;
  if (Object.keys(got).sort().join() !== Object.keys(services).sort().join()) problems.push('services differ');
  for (const [name, svc] of Object.entries(got)) {
    for (const k of Object.keys(svc)) if (!SERVICE_KEYS.includes(k)) problems.push(`${name}: key ${k}`);
    const env = Object.keys((svc.environment ?? {}) as object).sort();
    const want = Object.keys(services[name]?.environment ?? {}).sort();
    if (env.join() !== want.join()) problems.push(`${name}: environment ${env.join()} is not ${want.join()}`);
    const labels = Object.keys((svc.labels ?? {}) as object);
    if (labels.join() !== 'hostkit.layer') problems.push(`${name}: labels ${labels.join()}`);
  }
  return problems;
}

/** A stack's .env: a header comment, then one VAR='literal' line per secret. */
export function envProblems(text: string): string[] {
  return text
    .split(LINE_BREAKS)
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => !/^[A-Z_][A-Z0-9_]*='[^']*'$/.test(l))
    .map((l) => `bad .env line ${JSON.stringify(l)}`);
}
