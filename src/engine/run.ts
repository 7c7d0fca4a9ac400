import pLimit from 'p-limit';
import type { HostReport, Role, RunOptions } from './types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { loadInventory, selectHosts } from '../inventory/index.js';
import { connect } from '../transports/index.js';
import { runRole } from './run-role.js';
import { prepareRole, type RoleInput } from './role-input.js';
import { errorMessage } from './errors.js';
import { ConsoleReporter } from '../report/console.js';

export interface RunResult {
  exitCode: 0 | 1 | 2;
  reports: HostReport[];
  skipped: { host: string; reason: string }[];
}

/** Exit-code contract: 1 when anything failed, else 2 when --check found drift, else 0. */
export function exitCodeOf(mode: RunOptions['mode'], reports: HostReport[]): 0 | 1 | 2 {
  if (reports.some((r) => r.error || r.resources.some((x) => x.status === 'failed'))) return 1;
  if (mode === 'check' && reports.some((r) => r.resources.some((x) => x.status === 'would-change'))) return 2;
  return 0;
}

/**
 * Runs roles in order on every selected host: one connection per host for all of them, hosts
 * in parallel up to --forks, a failing role stops the later roles on that host only.
 */
export async function runPlaybook(
  roles: Role[],
  options: RunOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr },
): Promise<RunResult> {
  const inventory = await loadInventory(options.inventoryPaths);
  const { hosts, skipped } = selectHosts(inventory, { limit: options.limit, local: options.local });
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
  const human = new ConsoleReporter(options.json ? io.err : io.out, { mode: options.mode, diff: options.diff });
  for (const s of skipped) human.notice(`skipping ${s.host}: ${s.reason}`);
  if (hosts.length === 0) human.notice('no host selected');

  const limit = pLimit(options.forks);
  const perHost = await Promise.all(hosts.map((host) => limit(() => runHost(roles, inputs, inventory, host, options, human))));
  const reports = perHost.flat();
  // An audit that checked nothing is not clean: a cron --check must not read 0 then.
  const exitCode = hosts.length === 0 && options.mode === 'check' ? 1 : exitCodeOf(options.mode, reports);
  if (options.json) {
    io.out.write(JSON.stringify({ version: 1, mode: options.mode, exitCode, hosts: reports, skipped }, null, 2) + '\n');
  } else {
    human.recap(reports);
  }
  return { exitCode, reports, skipped };
}

async function runHost(
  roles: Role[],
  inputs: Map<Role, RoleInput>,
  inventory: Inventory,
  host: HostConfig,
  options: RunOptions,
  human: ConsoleReporter,
): Promise<HostReport[]> {
  const reports: HostReport[] = [];
  let transport: Transport | undefined;
  const started = Date.now();
  const open = () =>
    connect({ ...host, ...(options.acceptNewHostKeys ? { hostKeyChecking: 'accept-new' as const } : {}) }, { local: options.local });
  try {
    transport = await open();
  } catch (err) {
    const report: HostReport = {
      host: host.name,
      role: roles[0]?.name ?? '-',
      mode: options.mode,
      resources: [],
      handlers: [],
      error: errorMessage(err),
      durationMs: Date.now() - started,
      stats: { connections: 0, execs: 0 },
    };
    human.roleStart(host.name, report.role);
    human.hostDone(report);
    return [report];
  }
  try {
    for (const role of roles) {
      human.roleStart(host.name, role.name);
      const report = await runRole(transport, role, inventory, host, {
        mode: options.mode,
        input: inputs.get(role),
        onResource: (r) => human.resource(r),
        reconnect: open, // safeguards (dead-man switches) confirm over a fresh connection
      });
      human.hostDone(report);
      reports.push(report);
      if (report.error) break; // each role gates the next on this host
    }
  } finally {
    await transport.close().catch(() => undefined);
  }
  return reports;
}
