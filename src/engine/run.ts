import pLimit from 'p-limit';
import type { HostReport, Mode, Role, RunOptions } from './types.js';
import { formatProblem } from '../inventory/errors.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { openTransport as defaultOpenTransport, type ConnectionOptions } from '../transports/connect.js';
import { prepareRole, type RoleInput } from './role-input.js';
import { runRole } from './run-role.js';
import { buildRoles, HostBatch } from './host-batch.js';
import { errorMessage, failureWhere } from './errors.js';
import type { Reporter, RunEvent } from './events.js';
import type { ExitCode, Fact, FactSet } from './types.js';
export type { ExitCode } from './types.js';
import { acquireHostLock, currentHolder, describeHolder, lockProbeScript, type LockHolder } from './lock.js';
import type { Held } from '../transports/types.js';

export interface RunResult {
  exitCode: ExitCode;
  reports: HostReport[];
  skipped: { host: string; reason: string }[];
}

/**
 * Hosts at once by default. A host costs the control machine a few ms of CPU (handshake,
 * parsing, planning) and otherwise only waiting for SSH and the host's probes, so the fleet's
 * time is set by how many hosts wait at once: measured on 100 simulated hosts answering in
 * 0.3 s, forks 5 took 18.1 s, 20 took 6.7 s and 50 took 4.3 s at the same peak RSS (~110 MB);
 * on 20 real sandbox targets, forks 5 took 4.4x one target, 20 took 2.5x, 50 took 2.4x
 * (bench/fleet.sh, bench/scale.sh; docs/fleet.md).
 */
export const DEFAULT_FORKS = 50;

/** How a playbook runs; loading the inventory and selecting hosts happen before (src/cli). */
export interface PlaybookOptions extends ConnectionOptions {
  mode: Mode;
  /** Hosts processed at once (default DEFAULT_FORKS). */
  forks?: number;
  /** The selected hosts (default: every host of the inventory). */
  hosts?: HostConfig[];
  /** Hosts left out by the selection, for the reports. */
  skipped?: { host: string; reason: string }[];
  /** --secrets FILE, for the roles' prepare. */
  secretsFile?: string;
  /** Where the events go (console, JSON, JUnit); none: the run is silent. */
  reporter?: Reporter;
  /** Opens a host's transport; default: openTransport with the connection options above. */
  openTransport?: (host: HostConfig) => Promise<Transport>;
  /**
   * The first SIGINT/SIGTERM (src/cli/signals.ts): no host, role or resource starts after it;
   * the running resource finishes, handlers and safeguards complete, the reports say `interrupted`.
   */
  signal?: AbortSignal;
  /**
   * The host lock (src/engine/lock.ts). "auto" (default): an apply takes it on each host's
   * connection, --check/--dry-run say when an apply holds it. "held": the caller already holds
   * it for the whole run (recover: one lock over several playbooks); nothing is taken or probed.
   */
  lock?: 'auto' | 'held';
  /** Who this run is, written into the lock (default: this process). */
  holder?: LockHolder;
}

/** Exit-code contract: 1 when anything failed, else 2 when --check found drift, else 0. */
export function exitCodeOf(mode: Mode, reports: HostReport[], interrupted = false): ExitCode {
  if (interrupted || reports.some((r) => r.interrupted)) return 130;
  if (reports.some((r) => r.error || r.resources.some((x) => x.status === 'failed'))) return 1;
  if (mode === 'check' && reports.some((r) => r.resources.some((x) => x.status === 'would-change'))) return 2;
  return 0;
}

/** The playbook options of the common command-line options (src/cli/options.ts). */
export function playbookOptions(o: RunOptions): PlaybookOptions {
  return {
    mode: o.mode,
    forks: o.forks,
    local: o.local,
    acceptNewHostKeys: o.acceptNewHostKeys,
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.secretsFile !== undefined ? { secretsFile: o.secretsFile } : {}),
  };
}

/**
 * Runs roles in order on every selected host: one connection per host for all of them, hosts
 * in parallel up to `forks`, a failing role stops the later roles on that host only. Everything
 * it has to say goes to `options.reporter` as events; it never prints.
 */
export async function runPlaybook(inventory: Inventory, roles: Role[], options: PlaybookOptions): Promise<RunResult> {
  const hosts = options.hosts ?? inventory.hosts;
  const skipped = options.skipped ?? [];
  const emit = (e: RunEvent) => options.reporter?.on(e);
  // Control-machine checks (secrets, image archives) fail here, before any host is contacted.
  // Each role's config and prepared data, kept for the run and handed to every build.
  const inputs = new Map<Role, RoleInput>();
  for (const role of roles) inputs.set(role, await prepareRole(role, inventory, options));
  if (options.local && hosts.length > 1) {
    // --local means "this machine is the host": running several hosts' roles here would be wrong.
    throw new Error(
      `--local runs on this machine as one host, but ${hosts.length} are selected (${hosts.map((h) => h.name).join(', ')}); name one with --limit`,
    );
  }
  emit({ type: 'run-started', mode: options.mode, hosts: hosts.map((h) => h.name), roles: roles.map((r) => r.name), skipped });
  for (const w of inventory.warnings) emit({ type: 'notice', message: `inventory warning: ${formatProblem(w)}` });
  for (const s of skipped) emit({ type: 'notice', message: `skipping ${s.host}: ${s.reason}` });
  if (hosts.length === 0) emit({ type: 'notice', message: 'no host selected' });

  const open = options.openTransport ?? ((host: HostConfig) => defaultOpenTransport(host, options));
  const limit = pLimit(options.forks ?? DEFAULT_FORKS);
  const holder = options.holder ?? currentHolder();
  const perHost = await Promise.all(hosts.map((host) => limit(() => runHost(roles, inputs, inventory, host, options, holder, open, emit))));
  const reports = perHost.flat();
  // An audit that checked nothing is not clean: a cron --check must not read 0 then.
  const exitCode = hosts.length === 0 && options.mode === 'check' ? 1 : exitCodeOf(options.mode, reports, options.signal?.aborted);
  emit({ type: 'run-done', mode: options.mode, exitCode, reports, skipped });
  return { exitCode, reports, skipped };
}

/** The read-only lock probe of --check/--dry-run, carried by the first facts batch. */
const lockFact: Fact<string | undefined> = {
  key: 'hostkit.lock',
  name: 'hostkit.lock',
  command: lockProbeScript(),
  parse: (o) => (o.stdout.trim() ? describeHolder(o.stdout) : undefined),
};

function hostReport(host: HostConfig, role: string, mode: Mode, started: number, extra: Partial<HostReport>): HostReport {
  return {
    host: host.name,
    role,
    mode,
    resources: [],
    handlers: [],
    durationMs: Date.now() - started,
    stats: { connections: 0, execs: 0 },
    ...extra,
  };
}

/** Whether a role's apply changed the host: a resource applied, a handler run, a safeguard armed. */
function changedTheHost(report: HostReport): boolean {
  return (
    report.resources.some((r) => r.status === 'changed') || report.handlers.some((h) => h.status !== 'would-run') || !!report.safeguard
  );
}

async function runHost(
  roles: Role[],
  inputs: Map<Role, RoleInput>,
  inventory: Inventory,
  host: HostConfig,
  options: PlaybookOptions,
  holder: LockHolder,
  open: (host: HostConfig) => Promise<Transport>,
  emit: (e: RunEvent) => void,
): Promise<HostReport[]> {
  const { mode, signal } = options;
  const reports: HostReport[] = [];
  let transport: Transport;
  const started = Date.now();
  const firstRole = roles[0]?.name ?? '-';
  if (signal?.aborted) {
    // Interrupted before this host's turn (forks): it is not contacted.
    const report = hostReport(host, firstRole, mode, started, { interrupted: true });
    emit({ type: 'role-done', report });
    emit({ type: 'host-done', host: host.name, reports: [report] });
    return [report];
  }
  emit({ type: 'role-started', host: host.name, role: firstRole });
  // The roles are built while the connection opens (buildRoles: between the handshake's messages).
  const opening = open(host);
  opening.catch(() => undefined); // awaited below
  const builds = await buildRoles(roles, inputs, inventory, host);
  try {
    transport = await opening;
  } catch (err) {
    const report = hostReport(host, firstRole, mode, started, { error: errorMessage(err) });
    emit({ type: 'role-done', report });
    emit({ type: 'host-done', host: host.name, reports: [report] });
    return [report];
  }
  emit({ type: 'host-connected', host: host.name, transport: transport.kind });
  let lock: Held | undefined;
  try {
    if (mode === 'apply' && options.lock !== 'held') {
      try {
        lock = await acquireHostLock(transport, holder);
      } catch (err) {
        const report = hostReport(host, firstRole, mode, started, {
          error: errorMessage(err),
          step: 'host lock',
          stats: { ...transport.stats },
        });
        emit({ type: 'role-done', report });
        reports.push(report);
        return reports;
      }
    }
    let probe: { facts: Fact<unknown>[]; gathered(facts: FactSet): void } | undefined =
      mode !== 'apply' && options.lock !== 'held'
        ? {
            facts: [lockFact],
            gathered: (facts) => {
              probe = undefined; // once per host
              const by = facts.get(lockFact);
              if (by)
                emit({ type: 'notice', message: `${host.name}: an apply is in progress (${by}); this ${mode} sees the host mid-change` });
            },
          }
        : undefined;
    // All roles' probes in one exec; an apply re-reads facts role by role once it changed the host.
    const batch = new HostBatch(transport, builds, mode, probe);
    for (const [i, role] of roles.entries()) {
      if (signal?.aborted) {
        if (i === 0) {
          const report = hostReport(host, role.name, mode, started, { interrupted: true, stats: { ...transport.stats } });
          emit({ type: 'role-done', report });
          reports.push(report);
        } else reports[reports.length - 1]!.interrupted = true;
        break;
      }
      if (i > 0) emit({ type: 'role-started', host: host.name, role: role.name });
      const ids = { host: host.name, role: role.name };
      const report = await runRole(transport, role, inventory, host, {
        mode,
        input: inputs.get(role),
        signal,
        extraFacts: probe,
        batch,
        onResource: (r) => emit({ type: 'resource-done', ...ids, report: r }),
        onEvent: (e) => emit({ ...e, ...ids }),
        // Safeguards (dead-man switches) confirm over a fresh connection, which never asks for
        // the host lock: this run holds it, so waiting for it there would deadlock.
        reconnect: () => open(host),
      }).catch((err: unknown) =>
        // runRole reports its own failures; anything else still fails this host only.
        hostReport(host, role.name, mode, started, { error: failureWhere(err, { ...ids, step: 'run' }), stats: { ...transport.stats } }),
      );
      for (const h of report.handlers) emit({ type: 'handler', ...ids, ...h });
      if (report.safeguard) emit({ type: 'safeguard', ...ids, report: report.safeguard });
      emit({ type: 'role-done', report });
      reports.push(report);
      if (report.error || report.interrupted) break; // each role gates the next on this host
      if (changedTheHost(report)) batch.invalidate();
    }
  } finally {
    await lock?.release().catch(() => undefined);
    await transport.close().catch(() => undefined);
    emit({ type: 'host-done', host: host.name, reports });
  }
  return reports;
}
