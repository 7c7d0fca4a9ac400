import type { Fact, FactSet, Mode, Role, RoleBuild } from './types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { gatherAll, gatherFacts, sliceOf, type Gathered } from './gather.js';
import { buildRole, type RoleInput } from './role-input.js';

/** Host-level probes that ride in a facts batch (the lock probe of --check), read once. */
export interface ExtraFacts {
  facts: Fact<unknown>[];
  gathered(facts: FactSet): void;
}

/** Each role's build for one host (its resources and their probes), or the error its build threw. */
export type RoleBuilds = Map<Role, { build: RoleBuild; facts: Fact<unknown>[] } | { error: unknown }>;

/**
 * Every role built for this host, one role per turn of the event loop: run while the host's
 * connection opens, so the handshake's messages are answered between two roles' builds and the
 * server's part of it overlaps the build (~30-60 ms of CPU for the whole platform on a cold
 * start) instead of following it. Pure CPU work: nothing here contacts the host.
 */
export async function buildRoles(
  roles: readonly Role[],
  inputs: ReadonlyMap<Role, RoleInput>,
  inventory: Inventory,
  host: HostConfig,
): Promise<RoleBuilds> {
  const builds: RoleBuilds = new Map();
  for (const role of roles) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      const build = buildRole(role, inventory, host, inputs.get(role));
      builds.set(role, { build, facts: build.resources.flatMap((r) => r.facts()) });
    } catch (error) {
      builds.set(role, { error });
    }
  }
  return builds;
}

/**
 * Every selected role is built up front and all their probes go to the host in ONE exec (one
 * round trip per host per run), run there concurrently. Each role then plans from its slice, in
 * the usual order and with the usual gating. A role whose build threw gets that error at its
 * build step; a probe whose output cannot be parsed fails only the roles that read it.
 * --check and --dry-run change nothing, so the batch serves every role. An apply uses it while
 * nothing has changed the host (a converged host: one round trip, as an audit); once a role
 * changed something, `invalidate()` makes each later role read its own facts fresh, as they
 * would have been without the batch. A role that reads a service's API (the proxy role: NPM) is
 * left out of an apply's batch: it reads at its turn, after the roles that deploy that service.
 */
export class HostBatch {
  private readonly gathered: Promise<Gathered> | undefined;
  private extra: ExtraFacts | undefined;
  private stale = false;
  private readonly atItsTurn = new Set<Role>();

  constructor(
    private readonly transport: Transport,
    private readonly builds: RoleBuilds,
    mode: Mode,
    extra?: ExtraFacts,
  ) {
    const facts: Fact<unknown>[] = [];
    for (const [role, got] of builds) {
      if (!('build' in got)) continue;
      // Apply: a role reading a service's API (NPM) reads it at its turn, once the roles before
      // it have deployed that service; asked up front, it would wait for a service not yet there.
      if (mode === 'apply' && got.facts.some((f) => f.fetch)) this.atItsTurn.add(role);
      else facts.push(...got.facts);
    }
    // As per role: the host-level probes ride only in a batch that runs anyway.
    if (facts.length === 0) return;
    this.extra = extra;
    this.gathered = gatherAll(transport, [...facts, ...(extra?.facts ?? [])]);
    this.gathered.catch(() => undefined); // reported by the first role that reads it
  }

  /** The role's resources, built once for the run on this host; rethrows its build error. */
  buildOf(role: Role): RoleBuild {
    const got = this.builds.get(role);
    if (!got) throw new Error(`${role.name}: not part of this host's batch`);
    if ('error' in got) throw got.error;
    return got.build;
  }

  /** The role's facts, as listed when it was built (buildRoles). */
  factsOf(role: Role): Fact<unknown>[] {
    const got = this.builds.get(role);
    if (!got || 'error' in got) throw new Error(`${role.name}: no build in this host's batch`);
    return got.facts;
  }

  /** The host changed since the batch ran (an apply changed something): later reads are fresh. */
  invalidate(): void {
    this.stale = true;
  }

  /** The slice of the batch a role reads (waits for the batch); its own fresh facts once invalidated or at its turn. */
  async factsFor(role: Role, facts: readonly Fact<unknown>[]): Promise<FactSet> {
    if (this.stale || this.atItsTurn.has(role)) return gatherFacts(this.transport, facts);
    if (!this.gathered) return sliceOf(new Map(), facts);
    const gathered = await this.gathered;
    const extra = this.extra;
    if (extra) {
      this.extra = undefined;
      extra.gathered(sliceOf(gathered, extra.facts));
    }
    return sliceOf(gathered, facts);
  }
}
