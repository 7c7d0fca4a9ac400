import type { z } from 'zod';
import type { PrepareOptions, Resource, Role, RoleBuild } from '../engine/types.js';
import type { HostConfig } from '../inventory/types.js';

/** What a user role declares: the built-in roles' shape, with its inventory section's schema beside it. */
export interface UserRoleSpec<Schema extends z.ZodType, Prepared = undefined> {
  /** Lowercase letters, digits and "-"; the inventory section is `roles.<name>`. */
  name: string;
  description: string;
  /**
   * The section's schema (zod). Use strict objects (`z.object({...}).strict()`) so that a typo
   * is an error with its file:line:col. Without a schema the role reads no inventory and always builds.
   */
  schema?: Schema;
  /** Runs once per run on the control machine before any host is contacted (read local files, check inputs). */
  prepare?(config: z.output<Schema>, options: PrepareOptions): Promise<Prepared>;
  /** The resources for one host, in order (or a RoleBuild with a safeguard). */
  build(config: z.output<Schema>, host: HostConfig, prepared: Prepared): Resource[] | RoleBuild;
}

/**
 * A role of your own (roles/<name>.mjs), run by `main()` through the same engine as the built-in
 * roles: facts, plan, apply, --dry-run, --check, reports. Its section `roles.<name>` of the
 * inventory is validated by its schema when a script runs it; when the inventory has no such
 * section the role builds nothing (like a built-in role whose section is absent).
 */
export function defineRole<Schema extends z.ZodType, Prepared = undefined>(
  spec: UserRoleSpec<Schema, Prepared>,
): Role<z.output<Schema>, Prepared> {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.name)) throw new Error(`role name "${spec.name}": lowercase letters, digits and "-"`);
  const { name, description, schema, prepare } = spec;
  return {
    name,
    description,
    ...(schema ? { schema, config: (inventory) => inventory.doc.roles?.[name] as z.output<Schema> | undefined } : {}),
    ...(prepare ? { prepare } : {}),
    build(config, host, prepared) {
      const built = spec.build(config, host, prepared);
      return Array.isArray(built) ? { resources: built } : built;
    },
  };
}

/** The sections the user roles among ROLES declare, for the inventory loader (roles.<name> -> schema). */
export function roleSections(roles: readonly Role[]): Record<string, z.ZodType> {
  return Object.fromEntries(roles.flatMap((r) => (r.schema ? [[r.name, r.schema]] : [])));
}
