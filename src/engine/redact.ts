import type { HostReport, ResourceReport } from './types.js';

/**
 * Secret values known to this process (registered when a role loads the secrets file), replaced
 * by "***" in every change summary, diff and error the engine reports, so neither the console,
 * the log nor the JSON report can carry them, whatever command output they come from.
 */
const secrets = new Set<string>();
let pattern: RegExp | undefined;

export const REDACTED = '***';

/**
 * Secrets are at least 8 characters (the secrets file refuses shorter ones), so no fragment of
 * ordinary text ("data" in "/mnt/data") is ever taken for one and no redaction hints at a short
 * value; fragments shorter than that (lines of a key) are not registered on their own.
 */
export const MIN_REDACTED_LENGTH = 8;

export function registerSecrets(values: Iterable<string>): void {
  for (const v of values) if (v.length >= MIN_REDACTED_LENGTH) secrets.add(v);
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
    id: redact(r.id),
    changes: r.changes.map((c) => ({
      ...c,
      summary: redact(c.summary),
      ...(c.diff !== undefined ? { diff: redact(c.diff) } : {}),
      ...(c.after !== undefined ? { after: c.after.map((a) => redact(a)) } : {}),
    })),
    ...(r.error !== undefined ? { error: redact(r.error) } : {}),
    ...(r.notes !== undefined ? { notes: r.notes.map((n) => redact(n)) } : {}),
  };
}

/** The host-level error and handler errors of a report, redacted in place. */
export function redactHostReport(report: HostReport): void {
  if (report.error !== undefined) report.error = redact(report.error);
  report.handlers = report.handlers.map((h) => ({ ...h, id: redact(h.id), ...(h.error !== undefined ? { error: redact(h.error) } : {}) }));
}
