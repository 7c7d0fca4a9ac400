import { z } from 'zod';
import type { DocumentCheck } from '../schema/check.js';
import { port, safeText } from '../schema/primitives.js';
import { ansibleVarsShape } from './ansible-vars.schema.js';

/**
 * The inventory document's frame: Ansible-style hosts and groups under `all`, plus one key per
 * section a role owns. The sections' schemas (the slices) are handed in by the caller:
 * src/inventory/schema.ts composes all of them, src/inventory/slices.ts only those the roles of a
 * run read, so a single-role check neither loads nor builds the others.
 * Every object is strict: an unknown key is an error, reported with its line and column.
 */
const hostName = safeText.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "." and "-"');
/** A host key: a name, an Ansible range (www[01:50].example.com, db-[a:f]) and/or ":port" (see ranges.ts). */
const hostKey = safeText.regex(/^[A-Za-z0-9[][A-Za-z0-9_.:[\]-]*$/, 'a host name: letters, digits, "_", "." and "-"');

/** Connection and behaviour variables a host may set directly or inherit from a group's vars. */
export const hostVarsSchema = z
  .object({
    address: safeText.min(1),
    port: port,
    user: safeText.min(1),
    identity_file: safeText.min(1),
    become: z.boolean(),
    connection: z.enum(['ssh', 'local']),
    /** A protected host is contacted only when named with --limit, or from itself (local). */
    protected: z.boolean(),
    known_hosts: safeText.min(1),
    /** strict: unknown or changed keys refused; accept-new: like OpenSSH's, unknown keys recorded. */
    host_key_checking: z.enum(['strict', 'accept-new']),
    /** Seconds (HostConfig.connectTimeoutMs is milliseconds). */
    connect_timeout: z.number({ error: 'a number of seconds > 0' }).positive({ error: 'a number of seconds > 0' }),
    /** Ansible's spellings (ansible_host, ansible_port, ...): see ansible-vars.ts. */
    ...ansibleVarsShape,
  })
  .partial()
  .strict();

export const groupSchema: z.ZodType<Group> = z.lazy(() =>
  z
    .object({
      hosts: z.record(hostKey, hostVarsSchema.nullable()).optional(),
      vars: hostVarsSchema.optional(),
      children: z.record(hostName, groupSchema.nullable()).optional(),
    })
    .strict(),
);
export interface Group {
  hosts?: Record<string, z.infer<typeof hostVarsSchema> | null>;
  vars?: z.infer<typeof hostVarsSchema>;
  children?: Record<string, Group | null>;
}

/** The sections the roles own, in the order "allowed keys: ..." lists them (`all` first, `roles` before `hardening`). */
export const SECTION_KEYS = [
  'firewall',
  'data',
  'docker',
  'secrets',
  'compose',
  'images',
  'stacks',
  'npm',
  'proxy',
  'base',
  'ssh',
  'fail2ban',
  'backup',
  'roles',
  'hardening',
] as const;
export type SectionKey = Exclude<(typeof SECTION_KEYS)[number], 'roles'>;

/** Loaded section schemas (each already optional) and the cross-field checks that come with them. */
export interface Slices {
  sections: Partial<Record<SectionKey, z.ZodType>>;
  checks: readonly DocumentCheck<never>[];
}

/** The schemas of user roles' sections, by role name (`roles.<name>` of the inventory). */
export type RoleSections = Readonly<Record<string, z.ZodType>>;

const roleName = safeText.regex(/^[a-z][a-z0-9-]*$/, 'a role name: lowercase letters, digits and "-"');

/**
 * The document schema from the given slices. A section whose slice is not given is accepted as
 * written and left alone (the run does not read it), like `roles.<name>` of a user role the
 * script does not run; a key that is no section is still an error. `roles.<name>` is checked by
 * the schema of each user role the script runs (defaults, transforms, positioned errors).
 */
export function composeInventorySchema(slices: Slices['sections'], roleSections: RoleSections = {}) {
  const roles =
    Object.keys(roleSections).length === 0
      ? z.record(roleName, z.unknown()).optional()
      : z
          .object(Object.fromEntries(Object.entries(roleSections).map(([name, schema]) => [name, schema.optional()])))
          .catchall(z.unknown())
          .optional();
  const shape: Record<string, z.ZodType> = { all: groupSchema };
  for (const key of SECTION_KEYS) shape[key] = key === 'roles' ? roles : (slices[key] ?? z.unknown().optional());
  return z.object(shape).strict();
}
