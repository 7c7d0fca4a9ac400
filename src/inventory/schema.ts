import { z } from 'zod';
import { backupSchema } from '../backup/schema.js';
import { checkPlatform } from '../platform/checks.js';
import { platformSections } from '../platform/schema.js';
import { baseSchema } from '../roles/base.schema.js';
import { dataSchema } from '../roles/data.schema.js';
import { dockerSchema } from '../roles/docker.schema.js';
import { fail2banSchema } from '../roles/fail2ban.schema.js';
import { firewallSchema } from '../roles/firewall.schema.js';
import { sshSchema } from '../roles/ssh.schema.js';
import type { DocumentCheck } from '../schema/check.js';
import { safeText } from '../schema/primitives.js';
import { groupSchema, type hostVarsSchema, type RoleSections } from './document.schema.js';
import { checkProxy } from '../proxy/checks.js';
import { proxySchema } from '../proxy/schema.js';
import { hardeningSchema } from '../roles/hardening.schema.js';

/**
 * The inventory schema with every section: the frame (hosts and groups under `all`,
 * document.schema.ts) composed with the sections the roles own (each declared next to its role:
 * src/roles/<role>.schema.ts, the platform's in src/platform/schema.ts, the backup's in
 * src/backup/schema.ts). A run of some roles composes only theirs (src/inventory/slices.ts).
 * Every object is strict: an unknown key is an error, reported with its line and column.
 */
// Key order is the order "allowed keys: ..." lists them in.
export const inventorySchema = z
  .object({
    all: groupSchema,
    firewall: firewallSchema.optional(),
    data: dataSchema.optional(),
    docker: dockerSchema.optional(),
    secrets: platformSections.secrets,
    compose: platformSections.compose,
    images: platformSections.images,
    stacks: platformSections.stacks,
    npm: platformSections.npm,
    proxy: proxySchema.optional(),
    base: baseSchema.optional(),
    ssh: sshSchema.optional(),
    fail2ban: fail2banSchema.optional(),
    backup: backupSchema.optional(),
    /**
     * The sections of user roles (a role of your own, roles/<name>.mjs made with defineRole):
     * `roles.<name>`, each validated by its role's schema when a script runs that role
     * (see withRoleSections); a script that does not run it leaves it alone.
     */
    roles: z.record(safeText.regex(/^[a-z][a-z0-9-]*$/, 'a role name: lowercase letters, digits and "-"'), z.unknown()).optional(),
    hardening: hardeningSchema.optional(),
  })
  .strict();

export type InventoryDocument = z.infer<typeof inventorySchema>;

export type { RoleSections } from './document.schema.js';
export { hostVarsSchema, type Group } from './document.schema.js';

/**
 * The inventory schema with the sections of the user roles a script runs: `roles.<name>` is
 * checked by that role's schema (strict objects report unknown keys, with file:line:col like every
 * other section) and parsed by it (defaults, transforms); other roles' sections pass untouched.
 */
export function withRoleSections(sections: RoleSections): typeof inventorySchema {
  if (Object.keys(sections).length === 0) return inventorySchema;
  const shape = Object.fromEntries(Object.entries(sections).map(([name, schema]) => [name, schema.optional()]));
  return inventorySchema.extend({ roles: z.object(shape).catchall(z.unknown()).optional() }) as unknown as typeof inventorySchema;
}
export type HostVars = z.infer<typeof hostVarsSchema>;

/** Cross-field rules of the sections, run by the loader on the validated document. */
export const documentChecks: readonly DocumentCheck<InventoryDocument>[] = [checkPlatform, checkProxy];

// The slices, re-exported for callers that validate one section.
export { backupSchema, baseSchema, dataSchema, dockerSchema, fail2banSchema, firewallSchema, sshSchema };
export type { BackupConfig } from '../backup/schema.js';
export type {
  HealthcheckConfig,
  ImageSourceConfig,
  NpmConfig,
  ServiceConfig,
  StackConfig,
} from '../platform/schema.js';
export { imageRef, stackName } from '../platform/schema.js';
export type { BaseConfig } from '../roles/base.schema.js';
export type { DataConfig } from '../roles/data.schema.js';
export type { DockerConfig } from '../roles/docker.schema.js';
export type { Fail2banConfig, Fail2banJailConfig } from '../roles/fail2ban.schema.js';
export type { FirewallConfig, FirewallRuleInput } from '../roles/firewall.schema.js';
export { SSH_EXTRA_OPTIONS } from '../roles/ssh.schema.js';
export type { SshConfig } from '../roles/ssh.schema.js';
