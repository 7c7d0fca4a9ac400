import type { Change, Fact, FactSet, Handler, HostReport, Mode, PlanContext, Resource, ResourceReport, Role } from './types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { gatherFacts } from './gather.js';
import type { HostBatch } from './host-batch.js';
import { buildRole, type RoleInput } from './role-input.js';
import { runAction } from './apply.js';
import { errorMessage, failureWhere, InventoryValueError } from './errors.js';
import { prepareLocate } from '../inventory/positions.js';
import { redactHostReport, redactResource } from './redact.js';
import { confirmSafeguard } from './safeguard.js';
import { handlersOf } from './resource.js';
import type { RoleEvent } from './events.js';

interface Planned {
  resource: Resource;
  changes: Change[];
  /** Earlier resources with pending (simulated or just-applied) changes this one depends on. */
  after: string[];
  notes: string[];
}

export interface RoleRunOptions {
  mode: Mode;
  /** The role's config and prepared data for this run (src/engine/role-input.ts); absent: read here, no prepare. */
  input?: RoleInput | undefined;
  /** Called as each resource finishes, for streaming output. */
  onResource?: (report: ResourceReport) => void;
  /**
   * Opens a fresh connection to the host: a role's safeguard (dead-man switch) is confirmed
   * through it. Without it (local transport) safeguards are not armed.
   */
  reconnect?: () => Promise<Transport>;
  /** Progress for reporters: each resource planned, each change as it starts (a live line). */
  onEvent?: (event: RoleEvent) => void;
  /**
   * The run's interrupt (first SIGINT/SIGTERM): no resource starts after it; the running one
   * finishes, the handlers of what changed run, the safeguard is confirmed; the audits are left.
   */
  signal?: AbortSignal | undefined;
  /**
   * Host-level probes that ride in this role's facts batch (the lock probe of --check): read
   * only when the role gathers facts anyway, so a converged role stays one round trip.
   */
  extraFacts?: { facts: Fact<unknown>[]; gathered(facts: FactSet): void } | undefined;
  /**
   * --check/--dry-run: the role's build and facts come from the host's one batch of all roles
   * (src/engine/host-batch.ts) instead of an exec of its own; `extraFacts` ride in that batch.
   */
  batch?: HostBatch | undefined;
}

function planOne(resource: Resource, facts: FactSet, ctx: PlanContext): Planned {
  const changes = resource.plan(facts, ctx);
  resource.guard?.(changes, facts, ctx);
  return { resource, changes, after: [...ctx.pendingPrerequisites], notes: resource.notes?.(facts, ctx) ?? [] };
}

function planAll(resources: Resource[], facts: FactSet, host: HostConfig, mode: Mode): Planned[] {
  const pending = new Set<string>();
  return resources.map((resource) => {
    const after = (resource.requires ?? []).filter((id) => pending.has(id));
    const planned = planOne(resource, facts, { host, mode, pendingPrerequisites: after });
    if (planned.changes.length > 0) pending.add(resource.id);
    return planned;
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
    ...(p.notes.length ? { notes: p.notes } : {}),
  };
}

/** An audit in apply mode: nothing applied, its drift reported as warnings. */
function auditReport(p: Planned, durationMs: number): ResourceReport {
  const warnings = p.changes.map((c) => `warning: ${c.summary}`);
  return reportOf({ ...p, changes: [], after: [], notes: [...p.notes, ...warnings] }, 'ok', durationMs);
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
  const report: HostReport = {
    host: host.name,
    role: role.name,
    mode: options.mode,
    resources: [],
    handlers: [],
    durationMs: 0,
    stats: { connections: 0, execs: 0 },
  };
  const emit = (unsafe: ResourceReport) => {
    const r = redactResource(unsafe); // secrets never reach the console, logs or JSON
    report.resources.push(r);
    options.onResource?.(r);
  };
  const finish = () => {
    redactHostReport(report);
    report.durationMs = Date.now() - started;
    report.stats = { ...transport.stats };
    return report;
  };

  let planned: Planned[];
  let handlers: Handler[];
  let build: ReturnType<typeof buildRole>;
  // Whatever a role's build, facts or plan throws fails this host and role, never the run.
  let step = 'build';
  try {
    build = options.batch ? options.batch.buildOf(role) : buildRole(role, inventory, host, options.input);
    step = 'wiring';
    checkWiring(build.resources, `${host.name}: ${role.name}`);
    handlers = handlersOf(build.resources, build.handlers);
    step = 'facts';
    // The batch listed the role's facts when it built the role; no second pass over its resources.
    const own = options.batch ? options.batch.factsOf(role) : build.resources.flatMap((r) => r.facts());
    let facts: FactSet;
    if (options.batch) facts = await options.batch.factsFor(role, own);
    else {
      const extra = own.length && options.extraFacts ? options.extraFacts : undefined;
      facts = await gatherFacts(transport, [...own, ...(extra?.facts ?? [])]);
      extra?.gathered(facts);
    }
    step = 'plan';
    planned = planAll(build.resources, facts, host, options.mode);
    for (const p of planned) options.onEvent?.({ type: 'resource-planned', id: p.resource.id, changes: p.changes.length });
  } catch (err) {
    if (err instanceof InventoryValueError) await prepareLocate(inventory);
    report.error = failureWhere(err, { host: host.name, role: role.name, step }, inventory);
    report.step = step;
    return finish();
  }
  const { safeguard } = build;

  if (options.mode !== 'apply') {
    for (const p of planned) emit(reportOf(p, p.changes.length ? 'would-change' : 'ok', 0));
    const notified = notifiedHandlers(
      planned.filter((p) => p.changes.length),
      handlers,
    );
    report.handlers = notified.map((h) => ({ id: h.id, status: 'would-run' as const }));
    return finish();
  }

  const changed: Planned[] = [];
  const applyCtx: PlanContext = { host, mode: 'apply', pendingPrerequisites: [] };
  // Armed before the first protected change; confirmed over a fresh connection after the handlers.
  const guarded = safeguard && options.reconnect && transport.kind === 'ssh' ? safeguard : undefined;
  let armedAt: number | undefined;
  const audits: { index: number; planned: Planned }[] = [];
  for (let i = 0; i < planned.length; i++) {
    let p = planned[i]!;
    if (options.signal?.aborted) {
      // Interrupted: nothing more starts; what is left is reported as skipped.
      for (const rest of planned.slice(i)) emit(reportOf({ ...rest, changes: [], notes: [] }, 'skipped', 0));
      report.interrupted = true;
      break;
    }
    if (p.resource.audit) {
      // Evaluated after the handlers (below); its place in the report is kept.
      audits.push({ index: report.resources.length, planned: p });
      report.resources.push(reportOf({ ...p, changes: [], notes: [] }, 'skipped', 0));
      continue;
    }
    const t0 = Date.now();
    let running = 'plan';
    try {
      if ((p.resource.requires ?? []).some((id) => changed.some((c) => c.resource.id === id))) {
        running = 'facts (re-read after a prerequisite changed)';
        // A prerequisite changed the host since the facts were read: plan against fresh facts.
        const facts = await gatherFacts(transport, p.resource.facts());
        p = planOne(p.resource, facts, applyCtx);
      }
      if (guarded && armedAt === undefined && p.changes.length && guarded.protects.includes(p.resource.id)) {
        running = `safeguard ${guarded.id}: arm`;
        await runAction(transport, `safeguard ${guarded.id}: arm`, { kind: 'exec', script: guarded.arm });
        armedAt = Date.now();
      }
      for (const change of p.changes) {
        running = change.summary;
        options.onEvent?.({ type: 'resource-started', id: p.resource.id, step: change.summary });
        for (const action of change.actions) await runAction(transport, p.resource.id, action);
      }
      if (p.changes.length) changed.push(p);
      emit(reportOf(p, p.changes.length ? 'changed' : 'ok', Date.now() - t0));
    } catch (err) {
      emit(reportOf(p, 'failed', Date.now() - t0, errorMessage(err)));
      for (const rest of planned.slice(i + 1)) emit(reportOf({ ...rest, changes: [], notes: [] }, 'skipped', 0));
      report.error = `${host.name}: ${role.name}: ${p.resource.id} failed`;
      report.step = `${p.resource.id}: ${running}`;
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

  if (guarded && armedAt !== undefined) {
    // Even after a failure: a half-applied change may be the one that locks the operator out.
    report.safeguard = await confirmSafeguard(guarded, { reconnect: options.reconnect!, armedAt });
    if (report.safeguard.status !== 'confirmed') {
      report.error = `${host.name}: ${role.name}: ${report.safeguard.status === 'reverted' ? 'apply reverted' : 'safeguard failed'}: ${report.safeguard.detail}`;
    }
  }

  if (audits.length && !report.error && !report.interrupted) {
    // Audits judge the final state: re-read their facts when this role changed the host.
    const t0 = Date.now();
    try {
      const facts = changed.length
        ? await gatherFacts(
            transport,
            audits.flatMap((a) => a.planned.resource.facts()),
          )
        : undefined;
      for (const a of audits) {
        const p = facts ? planOne(a.planned.resource, facts, applyCtx) : a.planned;
        report.resources[a.index] = redactResource(auditReport(p, Date.now() - t0));
        options.onResource?.(report.resources[a.index]!);
      }
    } catch (err) {
      for (const a of audits) {
        report.resources[a.index] = reportOf({ ...a.planned, changes: [], notes: [] }, 'failed', Date.now() - t0, errorMessage(err));
        options.onResource?.(report.resources[a.index]!);
      }
      report.error = `${host.name}: ${role.name}: audit failed`;
    }
  } else {
    for (const a of audits) options.onResource?.(report.resources[a.index]!);
  }
  return finish();
}

/** Ids unique in the role; every prerequisite declared earlier in it (the order applies run in). */
function checkWiring(resources: readonly Resource[], where: string): void {
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.id)) throw new Error(`${where}: two resources are named "${r.id}"`);
    const missing = (r.requires ?? []).filter((id) => !seen.has(id));
    if (missing.length) throw new Error(`${where}: ${r.id} requires ${missing.join(', ')}, not declared before it in the role`);
    seen.add(r.id);
  }
}

/** Handlers notified by changed resources, each once, in declaration order. */
function notifiedHandlers(changed: Planned[], handlers: Handler[]): Handler[] {
  const ids = new Set(changed.flatMap((p) => p.resource.notify ?? []));
  for (const id of ids) {
    if (!handlers.some((h) => h.id === id)) throw new Error(`unknown handler ${id}`);
  }
  return handlers.filter((h) => ids.has(h.id));
}
