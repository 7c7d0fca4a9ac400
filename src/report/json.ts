import type { Reporter, RunEvent } from '../engine/events.js';
import type { ExitCode, HostReport, Mode } from '../engine/types.js';

/** The --json document (version 1): the engine's HostReport per host and role. */
export interface JsonReport {
  version: 1;
  mode: Mode;
  exitCode: ExitCode;
  /** The run as a word: ok (0), drift (2), failed (1), interrupted (130: SIGINT/SIGTERM); absent when it failed before any host. */
  status?: 'ok' | 'drift' | 'failed' | 'interrupted';
  hosts: HostReport[];
  skipped: { host: string; reason: string }[];
  /** Set when the run failed: before any host (inventory, secrets), or on a host (unreachable, a failed role). */
  error?: { message: string; host?: string; role?: string; step?: string };
  /** Every host-level error when several hosts failed. */
  errors?: { message: string; host: string; role: string; step?: string }[];
  /** Set when the run was interrupted: the signal and the steps that were let finish. */
  interrupted?: { signal: string; running: { host: string; role: string; id: string; step: string }[] };
}

const STATUS = { 0: 'ok', 1: 'failed', 2: 'drift', 130: 'interrupted' } as const;

/** The first error of a run's reports, as the JSON error object. */
export function errorsOf(reports: HostReport[]): JsonReport['errors'] {
  return reports.flatMap((r) => {
    const failed = r.resources.find((x) => x.status === 'failed');
    const message = failed?.error ?? r.error;
    return message ? [{ message, host: r.host, role: r.role, ...(r.step ? { step: r.step } : {}) }] : [];
  });
}

/**
 * --json: one JSON document on stdout when the run ends, also when it fails before or during
 * a host (then with an `error` object, exit code 1), so a caller always has something to parse.
 */
export class JsonReporter implements Reporter {
  private written = false;
  /** Settles once the document has been handed to the OS: the cli exits right after close(). */
  private flushed: Promise<void> = Promise.resolve();
  private mode: Mode;
  private interrupted: JsonReport['interrupted'];

  constructor(
    private readonly out: NodeJS.WritableStream,
    mode: Mode,
  ) {
    this.mode = mode;
  }

  on(e: RunEvent): void {
    if (e.type === 'run-started') this.mode = e.mode;
    if (e.type === 'interrupt') this.interrupted = { signal: e.signal, running: e.running };
    if (e.type === 'run-done') {
      const errors = errorsOf(e.reports) ?? [];
      const doc: JsonReport = {
        version: 1,
        mode: e.mode,
        exitCode: e.exitCode,
        status: STATUS[e.exitCode],
        hosts: e.reports,
        skipped: e.skipped,
        ...(e.exitCode !== 0 && e.exitCode !== 2 && errors[0] ? { error: errors[0], ...(errors.length > 1 ? { errors } : {}) } : {}),
        ...(this.interrupted ? { interrupted: this.interrupted } : {}),
      };
      this.emit(doc);
    }
    if (e.type === 'run-failed') {
      this.emit({
        version: 1,
        mode: this.mode,
        exitCode: 1,
        hosts: [],
        skipped: [],
        error: { message: e.error, ...(e.host ? { host: e.host } : {}), ...(e.step ? { step: e.step } : {}) },
      });
    }
  }

  private emit(doc: JsonReport): void {
    if (this.written) return; // one document per run: a failure after run-done does not add a second
    this.written = true;
    this.flushed = flushedWrite(this.out, `${JSON.stringify(doc, null, 2)}\n`);
  }

  /**
   * Waits for the document to reach the OS. stdout on a pipe is asynchronous in Node, and
   * process.exit() drops what is still queued: a report over 64 KB (a fleet) came out cut.
   */
  close(): Promise<void> {
    return this.flushed;
  }
}

/** Writes `text` and settles when the stream has passed it on (also when the stream failed). */
export function flushedWrite(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    out.write(text, () => resolve());
  });
}
