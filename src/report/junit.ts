import { writeFile } from 'node:fs/promises';
import type { Reporter, RunEvent } from '../engine/events.js';
import type { HostReport, Mode, ResourceReport } from '../engine/types.js';

/**
 * --junit FILE: JUnit XML, the format CI servers read (GitLab, Jenkins, GitHub test reporters).
 * One testsuite per host and role, one testcase per resource; in --check a drift is a failure
 * whose text is the drift lines, an error is an error, a skipped resource is skipped. A role
 * that failed outside a resource (no connection, a probe, a handler, a safeguard) gets its own
 * testcase with the error, so a red run is never a green report.
 */

/** XML 1.0 text: escaped, and without the control characters XML cannot carry. */
export function xmlEscape(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const secs = (ms: number) => (ms / 1000).toFixed(3);
const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

interface Case {
  name: string;
  ms: number;
  failure?: { message: string; text: string };
  error?: { message: string; text: string };
  skipped?: boolean;
  out?: string;
}

function driftText(r: ResourceReport): string {
  return r.changes.map((c) => `> ${c.summary}${c.diff ? `\n${c.diff.replace(/\n$/, '')}` : ''}`).join('\n');
}

function caseOf(r: ResourceReport, mode: Mode): Case {
  const out = [...r.changes.map((c) => `${r.status === 'changed' ? '~' : '>'} ${c.summary}`), ...(r.notes ?? [])].join('\n');
  const c: Case = { name: r.id, ms: r.durationMs, ...(out ? { out } : {}) };
  if (r.status === 'failed') {
    const message = (r.error ?? 'failed').split('\n')[0]!;
    return { ...c, error: { message, text: r.error ?? message } };
  }
  if (r.status === 'would-change' && mode === 'check') {
    const n = r.changes.length;
    return { ...c, failure: { message: `drift: ${n} change${n === 1 ? '' : 's'} needed`, text: driftText(r) } };
  }
  if (r.status === 'skipped') return { ...c, skipped: true };
  return c;
}

function casesOf(report: HostReport): Case[] {
  const cases = report.resources.map((r) => caseOf(r, report.mode));
  for (const h of report.handlers) {
    if (h.status === 'failed')
      cases.push({ name: `handler ${h.id}`, ms: 0, error: { message: `handler ${h.id} failed`, text: h.error ?? '' } });
  }
  const sg = report.safeguard;
  if (sg) {
    const c: Case = { name: `safeguard ${sg.id}`, ms: 0, out: sg.detail };
    cases.push(sg.status === 'confirmed' ? c : { ...c, error: { message: `safeguard ${sg.status}`, text: sg.detail } });
  }
  if (report.interrupted) {
    cases.push({
      name: `${report.role}: interrupted`,
      ms: 0,
      error: { message: 'interrupted (SIGINT/SIGTERM): the rest of the role was not started', text: 'exit code 130; a re-run continues' },
    });
  }
  const accounted =
    report.resources.some((r) => r.status === 'failed') ||
    (sg && sg.status !== 'confirmed') ||
    report.handlers.some((h) => h.status === 'failed');
  if (report.error && !accounted) {
    cases.push({
      name: report.resources.length ? `${report.role} (role)` : `${report.role}: connect and gather facts`,
      ms: report.durationMs,
      error: { message: report.error.split('\n')[0]!, text: report.error },
    });
  }
  return cases;
}

function testcase(classname: string, c: Case): string {
  const head = `    <testcase${attrs({ classname, name: c.name, time: secs(c.ms) })}`;
  const body = [
    c.failure ? `      <failure${attrs({ type: 'drift', message: c.failure.message })}>${xmlEscape(c.failure.text)}</failure>` : '',
    c.error ? `      <error${attrs({ type: 'error', message: c.error.message })}>${xmlEscape(c.error.text)}</error>` : '',
    c.skipped ? '      <skipped/>' : '',
    c.out ? `      <system-out>${xmlEscape(c.out)}</system-out>` : '',
  ].filter(Boolean);
  return body.length ? `${head}>\n${body.join('\n')}\n    </testcase>` : `${head}/>`;
}

/** The whole document for a run's reports (pure; the reporter writes it to the file). */
export function junitXml(reports: HostReport[], opts: { mode: Mode; timestamp?: Date; runError?: string }): string {
  const timestamp = (opts.timestamp ?? new Date()).toISOString().replace(/\.\d+Z$/, '');
  const suites: { name: string; host: string; ms: number; cases: Case[] }[] = reports.map((r) => ({
    name: `${r.host} ${r.role}`,
    host: r.host,
    ms: r.durationMs,
    cases: casesOf(r),
  }));
  if (opts.runError) {
    suites.push({
      name: 'hostkit',
      host: 'localhost',
      ms: 0,
      cases: [{ name: 'run', ms: 0, error: { message: opts.runError.split('\n')[0]!, text: opts.runError } }],
    });
  }
  const count = (cs: Case[], k: 'failure' | 'error' | 'skipped') => cs.filter((c) => c[k]).length;
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `hostkit ${opts.mode}`, tests: all.length, failures: count(all, 'failure'), errors: count(all, 'error'), time: secs(suites.reduce((t, s) => t + s.ms, 0)) })}>`,
  ];
  suites.forEach((s, id) => {
    const classname = s.name.replace(/\s+/g, '.');
    lines.push(
      `  <testsuite${attrs({ name: s.name, tests: s.cases.length, failures: count(s.cases, 'failure'), errors: count(s.cases, 'error'), skipped: count(s.cases, 'skipped'), time: secs(s.ms), timestamp, hostname: s.host, id, package: s.host })}>`,
      ...s.cases.map((c) => testcase(classname, c)),
      '  </testsuite>',
    );
  });
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** Collects every role's report and writes the file when the run ends (also after a failure). */
export class JunitReporter implements Reporter {
  private readonly reports: HostReport[] = [];
  private runError: string | undefined;
  private mode: Mode;

  constructor(
    private readonly file: string,
    mode: Mode,
  ) {
    this.mode = mode;
  }

  on(e: RunEvent): void {
    if (e.type === 'run-started') this.mode = e.mode;
    if (e.type === 'role-done') this.reports.push(e.report);
    if (e.type === 'run-failed') this.runError = e.error;
  }

  async close(): Promise<void> {
    await writeFile(this.file, junitXml(this.reports, { mode: this.mode, ...(this.runError ? { runError: this.runError } : {}) }));
  }
}
