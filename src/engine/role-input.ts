import type { HostConfig, Inventory } from '../inventory/types.js';
import type { PrepareOptions, Role, RoleBuild } from './types.js';

/**
 * A role's input for one run: its config read from the inventory and what its prepare returned,
 * both computed once before any host is contacted and kept by the engine (not by the role).
 */
export interface RoleInput<Config = unknown, Prepared = unknown> {
  /** False when the inventory declares nothing for the role: it builds nothing. */
  declared: boolean;
  config: Config;
  prepared: Prepared;
}

function configOf<C, P>(role: Role<C, P>, inventory: Inventory): { declared: boolean; config: C } {
  if (!role.config) return { declared: true, config: undefined as C };
  const config = role.config(inventory);
  return { declared: config !== undefined, config: config as C };
}

/** Reads the role's config and runs its prepare (control machine only); throwing stops the run. */
export async function prepareRole<C, P>(role: Role<C, P>, inventory: Inventory, options: PrepareOptions): Promise<RoleInput<C, P>> {
  const { declared, config } = configOf(role, inventory);
  const prepared = declared && role.prepare ? await role.prepare(config, options) : undefined;
  return { declared, config, prepared: prepared as P };
}

/**
 * The role's resources for one host. Without `input` the config is read here, which only works
 * for a role that needs no prepare (unit tests, one-off builds).
 */
export function buildRole<C, P>(role: Role<C, P>, inventory: Inventory, host: HostConfig, input?: RoleInput<C, P>): RoleBuild {
  const given = input ?? { ...configOf(role, inventory), prepared: undefined as P };
  if (!given.declared) return { resources: [] };
  if (!input && role.prepare) throw new Error(`${role.name} role: prepare runs before build (pass the prepared input)`);
  return role.build(given.config, host, given.prepared);
}
