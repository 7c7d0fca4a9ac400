import pLimit from 'p-limit';
import type { HostReport, Mode, Role, RunOptions } from './types.js';
import { formatProblem } from '../inventory/index.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { openTransport as defaultOpenTransport, type ConnectionOptions } from '../transports/connect.js';
import { prepareRole, type RoleInput } from './role-input.js';
import { runRole } from './run-role.js';
import { errorMessage } from './errors.js';
import type { Reporter, RunEvent } from './events.js';

export interface RunResult {
  exitCode: 0 | 1 | 2;
  reports: HostReport[];
  skipped: { host: string; reason: string }[];
}

/** How a playbook runs; loading the inventory and selecting hosts happen before (src/cli). */
export interface PlaybookOptions extends ConnectionOptions {
  mode: Mode;
  /** Hosts processed at once (default 5). */
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
}

/** Exit-code contract: 1 when anything failed, else 2 when --check found drift, else 0. */
export function exitCodeOf(mode: Mode, reports: HostReport[]): 0 | 1 | 2 {
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
  const limit = pLimit(options.forks ?? 5);
  const perHost = await Promise.all(hosts.map((host) => limit(() => runHost(roles, inputs, inventory, host, options.mode, open, emit))));
  const reports = perHost.flat();
  // An audit that checked nothing is not clean: a cron --check must not read 0 then.
  const exitCode = hosts.length === 0 && options.mode === 'check' ? 1 : exitCodeOf(options.mode, reports);
  emit({ type: 'run-done', mode: options.mode, exitCode, reports, skipped });
  return { exitCode, reports, skipped };
}

async function runHost(
  roles: Role[],
  inputs: Map<Role, RoleInput>,
  inventory: Inventory,
  host: HostConfig,
  mode: Mode,
  open: (host: HostConfig) => Promise<Transport>,
  emit: (e: RunEvent) => void,
): Promise<HostReport[]> {
  const reports: HostReport[] = [];
  let transport: Transport;
  const started = Date.now();
  const firstRole = roles[0]?.name ?? '-';
  emit({ type: 'role-started', host: host.name, role: firstRole });
  try {
    transport = await open(host);
  } catch (err) {
    const report: HostReport = {
      host: host.name,
      role: firstRole,
      mode,
      resources: [],
      handlers: [],
      error: errorMessage(err),
      durationMs: Date.now() - started,
      stats: { connections: 0, execs: 0 },
    };
    emit({ type: 'role-done', report });
    emit({ type: 'host-done', host: host.name, reports: [report] });
    return [report];
  }
  emit({ type: 'host-connected', host: host.name, transport: transport.kind });
  try {
    for (const [i, role] of roles.entries()) {
      if (i > 0) emit({ type: 'role-started', host: host.name, role: role.name });
      const ids = { host: host.name, role: role.name };
      const report = await runRole(transport, role, inventory, host, {
        mode,
        input: inputs.get(role),
        onResource: (r) => emit({ type: 'resource-done', ...ids, report: r }),
        onEvent: (e) => emit({ ...e, ...ids }),
        reconnect: () => open(host), // safeguards (dead-man switches) confirm over a fresh connection
      });
      for (const h of report.handlers) emit({ type: 'handler', ...ids, ...h });
      if (report.safeguard) emit({ type: 'safeguard', ...ids, report: report.safeguard });
      emit({ type: 'role-done', report });
      reports.push(report);
      if (report.error) break; // each role gates the next on this host
    }
  } finally {
    await transport.close().catch(() => undefined);
  }
  emit({ type: 'host-done', host: host.name, reports });
  return reports;
}
