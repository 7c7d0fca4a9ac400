import type { Change, FactSet, Handler, HostReport, Mode, PlanContext, Resource, ResourceReport, Role } from './types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { gatherFacts } from './gather.js';
import { runAction } from './apply.js';
import { errorMessage } from './errors.js';

interface Planned {
  resource: Resource;
  changes: Change[];
  /** Earlier resources with pending (simulated or just-applied) changes this one depends on. */
  after: string[];
}

export interface RoleRunOptions {
  mode: Mode;
  /** Called as each resource finishes, for streaming output. */
  onResource?: (report: ResourceReport) => void;
}

function planAll(resources: Resource[], facts: FactSet, host: HostConfig, mode: Mode): Planned[] {
  const pending = new Set<string>();
  return resources.map((resource) => {
    const after = (resource.requires ?? []).filter((id) => pending.has(id));
    const ctx: PlanContext = { host, mode, pendingPrerequisites: after };
    const changes = resource.plan(facts, ctx);
    resource.guard?.(changes, facts, ctx);
    if (changes.length > 0) pending.add(resource.id);
    return { resource, changes, after };
  });
}

function reportOf(p: Planned, status: ResourceReport['status'], durationMs: number, error?: string): ResourceReport {
  return {
    id: p.resource.id,
    status,
    changes: p.changes.map((c) => ({
      summary: c.summary,
      ...(c.diff ? { diff: c.diff } : {}),
      ...(p.after.length ? { after: p.after } : {}),
    })),
    durationMs,
    ...(error ? { error } : {}),
  };
}

/**
 * Facts, then plan, then apply (or report). The whole role is planned (and guarded) before the
 * first change; in apply mode a resource is re-probed when a resource it requires changed the
 * host, so it plans against the real state rather than the simulated one.
 */
export async function runRole(
  transport: Transport,
  role: Role,
  inventory: Inventory,
  host: HostConfig,
  options: RoleRunOptions,
): Promise<HostReport> {
  const started = Date.now();
  const { resources, handlers = [] } = role.build(inventory, host);
  const report: HostReport = {
    host: host.name,
    role: role.name,
    mode: options.mode,
    resources: [],
    handlers: [],
    durationMs: 0,
    stats: { connections: 0, execs: 0 },
  };
  const emit = (r: ResourceReport) => {
    report.resources.push(r);
    options.onResource?.(r);
  };
  const finish = () => {
    report.durationMs = Date.now() - started;
    report.stats = { ...transport.stats };
    return report;
  };

  let planned: Planned[];
  try {
    const facts = await gatherFacts(transport, resources.flatMap((r) => r.facts()));
    planned = planAll(resources, facts, host, options.mode);
  } catch (err) {
    report.error = errorMessage(err);
    return finish();
  }

  if (options.mode !== 'apply') {
    for (const p of planned) emit(reportOf(p, p.changes.length ? 'would-change' : 'ok', 0));
    const notified = notifiedHandlers(planned.filter((p) => p.changes.length), handlers);
    report.handlers = notified.map((h) => ({ id: h.id, status: 'would-run' as const }));
    return finish();
  }

  const changed: Planned[] = [];
  for (let i = 0; i < planned.length; i++) {
    let p = planned[i]!;
    const t0 = Date.now();
    try {
      if ((p.resource.requires ?? []).some((id) => changed.some((c) => c.resource.id === id))) {
        // A prerequisite changed the host since the facts were read: plan against fresh facts.
        const facts = await gatherFacts(transport, p.resource.facts());
        const ctx: PlanContext = { host, mode: 'apply', pendingPrerequisites: [] };
        const changes = p.resource.plan(facts, ctx);
        p.resource.guard?.(changes, facts, ctx);
        p = { resource: p.resource, changes, after: [] };
      }
      for (const change of p.changes) {
        for (const action of change.actions) await runAction(transport, p.resource.id, action);
      }
      if (p.changes.length) changed.push(p);
      emit(reportOf(p, p.changes.length ? 'changed' : 'ok', Date.now() - t0));
    } catch (err) {
      emit(reportOf(p, 'failed', Date.now() - t0, errorMessage(err)));
      for (const rest of planned.slice(i + 1)) emit(reportOf({ ...rest, changes: [] }, 'skipped', 0));
      report.error = `${host.name}: ${role.name}: ${p.resource.id} failed`;
      break;
    }
  }

  for (const handler of notifiedHandlers(changed, handlers)) {
    try {
      for (const action of handler.actions) await runAction(transport, `handler ${handler.id}`, action);
      report.handlers.push({ id: handler.id, status: 'ran' });
    } catch (err) {
      report.handlers.push({ id: handler.id, status: 'failed', error: errorMessage(err) });
      report.error ??= `${host.name}: ${role.name}: handler ${handler.id} failed`;
    }
  }
  return finish();
}

/** Handlers notified by changed resources, each once, in declaration order. */
function notifiedHandlers(changed: Planned[], handlers: Handler[]): Handler[] {
  const ids = new Set(changed.flatMap((p) => p.resource.notify ?? []));
  for (const id of ids) {
    if (!handlers.some((h) => h.id === id)) throw new Error(`unknown handler ${id}`);
  }
  return handlers.filter((h) => ids.has(h.id));
}
