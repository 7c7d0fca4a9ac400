import type { RunResult } from './docker.js';

/** One Lynis finding from /var/log/lynis-report.dat: `suggestion[]=ID|text|details|solution|`. */
export interface LynisFinding {
  id: string;
  text: string;
  details: string;
}

export interface LynisResult {
  index: number;
  tests: number;
  suggestions: LynisFinding[];
  warnings: LynisFinding[];
}

/** Lynis's machine-readable report (key=value lines, `key[]=` repeated), never its coloured screen output. */
export function parseLynisReport(dat: string): LynisResult {
  const scalars = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const line of dat.split('\n')) {
    const m = /^([a-z_]+)(\[\])?=(.*)$/.exec(line);
    if (!m) continue;
    const [, key = '', list, value = ''] = m;
    if (list) lists.set(key, [...(lists.get(key) ?? []), value]);
    else scalars.set(key, value);
  }
  const finding = (v: string): LynisFinding => {
    const [id = '', text = '', details = ''] = v.split('|');
    return { id, text, details: details === '-' ? '' : details };
  };
  const index = Number(scalars.get('hardening_index'));
  if (!Number.isFinite(index)) throw new Error('lynis-report.dat has no hardening_index (did the audit finish?)');
  return {
    index,
    tests: Number(scalars.get('lynis_tests_done') ?? 0),
    suggestions: (lists.get('suggestion') ?? []).map(finding),
    warnings: (lists.get('warning') ?? []).map(finding),
  };
}

/** Runs inside the target: install Debian's lynis when absent, audit, print the report file. */
export const LYNIS_SCRIPT = [
  'set -e',
  'command -v lynis >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q lynis >/dev/null',
  'lynis audit system --quick --no-colors >/var/log/lynis-hostkit.out 2>&1',
  'cat /var/log/lynis-report.dat',
].join('\n');

/** Lynis inside a sandbox target (docker exec: the audit is the measurement, not part of provisioning). */
export async function runLynis(target: { exec(cmd: string): Promise<RunResult> }): Promise<LynisResult> {
  const r = await target.exec(LYNIS_SCRIPT);
  if (r.exitCode !== 0) throw new Error(`lynis in the target failed (exit ${r.exitCode}): ${r.stderr.slice(-1500)}`);
  return parseLynisReport(r.stdout);
}

export function formatLynis(r: LynisResult): string {
  const line = (f: LynisFinding) => `  ${f.id}: ${f.text}${f.details ? ` (${f.details})` : ''}`;
  return [
    `Lynis hardening index: ${r.index} (${r.tests} tests)`,
    `warnings (${r.warnings.length}):`,
    ...r.warnings.map(line),
    `suggestions (${r.suggestions.length}):`,
    ...r.suggestions.map(line),
  ].join('\n');
}
