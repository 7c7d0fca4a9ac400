import type { z } from 'zod';
import type { DocumentCheck } from '../schema/check.js';
import { composeInventorySchema, type RoleSections, type Slices } from './document.schema.js';
import type { InventoryDocument } from './schema.js';

/**
 * The inventory schema for the roles of one run, its slices loaded on demand: `roles/firewall.mjs
 * --check` builds the firewall section's schema and leaves the platform's (stacks, images, NPM),
 * the hardening and the others unloaded and unchecked, as a script leaves a user role's section
 * it does not run. Loaded by dynamic import(), so the bundled entry points (bundle.mjs) keep each
 * slice in a chunk of its own and start-up pays only for the ones it reads.
 */
const SLICES = {
  firewall: async () => ({ firewall: (await import('../roles/firewall.schema.js')).firewallSchema.optional() }),
  data: async () => ({ data: (await import('../roles/data.schema.js')).dataSchema.optional() }),
  docker: async () => ({ docker: (await import('../roles/docker.schema.js')).dockerSchema.optional() }),
  platform: async () => ({ ...(await import('../platform/schema.js')).platformSections }),
  proxy: async () => ({ proxy: (await import('../proxy/schema.js')).proxySchema.optional() }),
  base: async () => ({ base: (await import('../roles/base.schema.js')).baseSchema.optional() }),
  ssh: async () => ({ ssh: (await import('../roles/ssh.schema.js')).sshSchema.optional() }),
  fail2ban: async () => ({ fail2ban: (await import('../roles/fail2ban.schema.js')).fail2banSchema.optional() }),
  backup: async () => ({ backup: (await import('../backup/schema.js')).backupSchema.optional() }),
  hardening: async () => ({ hardening: (await import('../roles/hardening.schema.js')).hardeningSchema.optional() }),
} satisfies Record<string, () => Promise<Slices['sections']>>;
type SliceName = keyof typeof SLICES;

/** Cross-field rules of a slice, in the order schema.ts's documentChecks runs them. */
const CHECKS: Partial<Record<SliceName, () => Promise<DocumentCheck<InventoryDocument>>>> = {
  platform: async () => (await import('../platform/checks.js')).checkPlatform,
  proxy: async () => (await import('../proxy/checks.js')).checkProxy,
};

/**
 * What each built-in role reads of the inventory (its `config(inventory)`): the platform model is
 * made of the stacks sections and the data root; the proxy and the backup read the platform too.
 */
const ROLE_SLICES: Readonly<Record<string, readonly SliceName[]>> = {
  base: ['base'],
  ssh: ['ssh'],
  firewall: ['firewall'],
  fail2ban: ['fail2ban'],
  hardening: ['hardening'],
  docker: ['docker'],
  data: ['data'],
  stacks: ['platform', 'data'],
  networks: ['platform', 'data'],
  proxy: ['proxy', 'platform', 'data'],
  backup: ['backup', 'platform', 'data'],
};

export interface ComposedSchema {
  schema: z.ZodType<InventoryDocument>;
  checks: readonly DocumentCheck<InventoryDocument>[];
}

/** A role as the loader sees it: built-in roles by name, user roles by their own section schema. */
export interface SchemaRole {
  name: string;
  schema?: z.ZodType;
}

/**
 * The schema (and the cross-field checks) for a run of `roles`; every section when `roles` is
 * not given (the whole inventory: scripts/report.mjs, the sandbox, the public loadInventory).
 * A user role (one with a `schema`) needs no built-in slice.
 */
export async function inventorySchemaFor(roles?: readonly SchemaRole[], roleSections: RoleSections = {}): Promise<ComposedSchema> {
  const names = roles
    ? new Set(roles.flatMap((r) => (r.schema ? [] : (ROLE_SLICES[r.name] ?? (Object.keys(SLICES) as SliceName[])))))
    : new Set(Object.keys(SLICES) as SliceName[]);
  const wanted = (Object.keys(SLICES) as SliceName[]).filter((n) => names.has(n));
  const [sections, checks] = await Promise.all([
    Promise.all(wanted.map((n) => SLICES[n]())),
    Promise.all(wanted.flatMap((n) => CHECKS[n] ?? []).map((load) => load())),
  ]);
  const schema = composeInventorySchema(Object.assign({}, ...sections), roleSections);
  return { schema: schema as unknown as z.ZodType<InventoryDocument>, checks };
}
