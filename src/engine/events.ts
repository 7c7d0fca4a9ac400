import type { ExitCode, HostReport, Mode, ResourceReport, SafeguardReport } from './types.js';

/**
 * The one event stream of a run. The engine emits, reporters (src/report: console, JSON, JUnit)
 * listen; the engine never prints. Every event of one host carries its name so that reporters
 * can follow hosts processed in parallel.
 */
export type RunEvent =
  | { type: 'run-started'; mode: Mode; hosts: string[]; roles: string[]; skipped: { host: string; reason: string }[] }
  /** Something worth saying that is not tied to a resource ("skipping web2: ..."). */
  | { type: 'notice'; message: string }
  | { type: 'host-connected'; host: string; transport: 'ssh' | 'local' }
  /** Facts are gathered right after this event: a live line shows "facts" until the plan. */
  | { type: 'role-started'; host: string; role: string }
  | { type: 'resource-planned'; host: string; role: string; id: string; changes: number }
  /** A step of a resource is running (apply): the change being made, e.g. "compose up --wait". */
  | { type: 'resource-started'; host: string; role: string; id: string; step: string }
  /** A resource finished: ok, changed, would-change (drift), failed or skipped. */
  | { type: 'resource-done'; host: string; role: string; report: ResourceReport }
  | { type: 'handler'; host: string; role: string; id: string; status: 'ran' | 'would-run' | 'failed'; error?: string }
  | { type: 'safeguard'; host: string; role: string; report: SafeguardReport }
  /** A role finished on a host (also when it could not connect: then `report.error` says why). */
  | { type: 'role-done'; report: HostReport }
  | { type: 'host-done'; host: string; reports: HostReport[] }
  | { type: 'run-done'; mode: Mode; exitCode: ExitCode; reports: HostReport[]; skipped: { host: string; reason: string }[] }
  /** The first SIGINT/SIGTERM: what is still running finishes, nothing new starts. */
  | { type: 'interrupt'; signal: string; running: { host: string; role: string; id: string; step: string }[]; graceSeconds: number }
  /** The run failed before any host ran (inventory, secrets, usage) or outside a role (a script step). */
  | { type: 'run-failed'; error: string; host?: string; step?: string };

export interface Reporter {
  on(event: RunEvent): void;
  /** Flushes what the reporter buffers (a file, a live line); called once at the end. */
  close?(): Promise<void> | void;
}

/** Fans one stream out to several reporters (console plus --json plus --junit). */
export function fanOut(reporters: Reporter[]): Reporter {
  return {
    on: (e) => {
      for (const r of reporters) r.on(e);
    },
    close: async () => {
      for (const r of reporters) await r.close?.();
    },
  };
}

/** Role-level events run-role emits; the engine adds host and role. */
export type RoleEvent = { type: 'resource-planned'; id: string; changes: number } | { type: 'resource-started'; id: string; step: string };
