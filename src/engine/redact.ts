import type { HostReport, ResourceReport } from './types.js';

/**
 * Secret values known to this process (registered when a role loads the secrets file), replaced
 * by "***" in every change summary, diff and error the engine reports, so neither the console,
 * the log nor the JSON report can carry them, whatever command output they come from.
 */
const secrets = new Set<string>();
let pattern: RegExp | undefined;

export const REDACTED = '***';

export function registerSecrets(values: Iterable<string>): void {
  for (const v of values) if (v.length >= 3) secrets.add(v); // shorter strings would redact ordinary text
  const sorted = [...secrets].sort((a, b) => b.length - a.length); // longest first: no partial leftovers
  pattern = sorted.length ? new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
}

export function redact(text: string): string;
export function redact(text: string | undefined): string | undefined;
export function redact(text: string | undefined): string | undefined {
  return text === undefined || !pattern ? text : text.replace(pattern, REDACTED);
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}

/** A resource report with every registered secret value replaced. */
export function redactResource(r: ResourceReport): ResourceReport {
  return {
    ...r,
    changes: r.changes.map((c) => ({ ...c, summary: redact(c.summary), ...(c.diff !== undefined ? { diff: redact(c.diff) } : {}) })),
    ...(r.error !== undefined ? { error: redact(r.error) } : {}),
    ...(r.notes !== undefined ? { notes: r.notes.map((n) => redact(n)) } : {}),
  };
}

/** The host-level error and handler errors of a report, redacted in place. */
export function redactHostReport(report: HostReport): void {
  if (report.error !== undefined) report.error = redact(report.error);
  report.handlers = report.handlers.map((h) => (h.error !== undefined ? { ...h, error: redact(h.error) } : h));
}
