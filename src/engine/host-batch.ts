import type { Fact, FactSet, Role, RoleBuild } from './types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { Transport } from '../transports/types.js';
import { gatherAll, gatherFacts, sliceOf, type Gathered } from './gather.js';
import { buildRole, type RoleInput } from './role-input.js';

/** Host-level probes that ride in a facts batch (the lock probe of --check), read once. */
export interface ExtraFacts {
  facts: Fact<unknown>[];
  gathered(facts: FactSet): void;
}

/**
 * Every selected role is built up front and all their probes go to the host in ONE exec (one
 * round trip per host per run), run there concurrently. Each role then plans from its slice, in
 * the usual order and with the usual gating. A role whose build threw gets that error at its
 * build step; a probe whose output cannot be parsed fails only the roles that read it.
 * --check and --dry-run change nothing, so the batch serves every role. An apply uses it while
 * nothing has changed the host (a converged host: one round trip, as an audit); once a role
 * changed something, `invalidate()` makes each later role read its own facts fresh, as they
 * would have been without the batch.
 */
export class HostBatch {
  private readonly builds = new Map<Role, { build: RoleBuild } | { error: unknown }>();
  private readonly gathered: Promise<Gathered> | undefined;
  private extra: ExtraFacts | undefined;
  private stale = false;

  constructor(
    private readonly transport: Transport,
    roles: readonly Role[],
    inputs: ReadonlyMap<Role, RoleInput>,
    inventory: Inventory,
    host: HostConfig,
    extra?: ExtraFacts,
  ) {
    const facts: Fact<unknown>[] = [];
    for (const role of roles) {
      try {
        const build = buildRole(role, inventory, host, inputs.get(role));
        this.builds.set(role, { build });
        facts.push(...build.resources.flatMap((r) => r.facts()));
      } catch (error) {
        this.builds.set(role, { error });
      }
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

  /** The host changed since the batch ran (an apply changed something): later reads are fresh. */
  invalidate(): void {
    this.stale = true;
  }

  /** The slice of the batch a role reads (waits for the batch); fresh facts once invalidated. */
  async factsFor(facts: readonly Fact<unknown>[]): Promise<FactSet> {
    if (this.stale) return gatherFacts(this.transport, facts);
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
