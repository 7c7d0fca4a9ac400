import { z } from 'zod';

/**
 * The inventory schema: Ansible-style hosts and groups under `all`, plus the declared platform.
 * Every object is strict: an unknown key is an error, reported with its line and column.
 */
const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "." and "-"');
const port = z.number().int().min(1).max(65535);
const octalMode = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, 'an octal mode as a quoted string, e.g. "0750"')
  .transform((m) => m.replace(/^0?([0-7]{3,4})$/, '$1').padStart(4, '0'));
const posixName = z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, 'a user or group name');

/** Connection and behaviour variables a host may set directly or inherit from a group's vars. */
export const hostVarsSchema = z
  .object({
    address: z.string().min(1),
    port: port,
    user: z.string().min(1),
    identity_file: z.string().min(1),
    become: z.boolean(),
    connection: z.enum(['ssh', 'local']),
    /** A protected host is contacted only when named with --limit, or from itself (local). */
    protected: z.boolean(),
    known_hosts: z.string().min(1),
    /** strict: unknown or changed keys refused; accept-new: like OpenSSH's, unknown keys recorded. */
    host_key_checking: z.enum(['strict', 'accept-new']),
    connect_timeout: z.number().positive(),
  })
  .partial()
  .strict();

const groupSchema: z.ZodType<Group> = z.lazy(() =>
  z
    .object({
      hosts: z.record(hostName, hostVarsSchema.nullable()).optional(),
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

const ruleString = z
  .string()
  .regex(/^\d{1,5}(:\d{1,5})?(\/(tcp|udp))?$/, 'a rule like "22/tcp", "80", "6000:6007/udp"');

const firewallRuleSchema = z.union([
  ruleString,
  z
    .object({
      port: z.union([port, z.string().regex(/^\d{1,5}(:\d{1,5})?$/, 'a port or range "6000:6007"')]),
      proto: z.enum(['tcp', 'udp', 'any']).default('tcp'),
      action: z.enum(['allow', 'limit', 'deny', 'reject']).default('allow'),
      from: z.string().default('any'),
      comment: z.string().max(200).optional(),
    })
    .strict(),
]);

export const firewallSchema = z
  .object({
    /** The SSH port the lockout guard protects (default: the host's port). */
    defaults: z
      .object({
        incoming: z.enum(['deny', 'allow', 'reject']).default('deny'),
        outgoing: z.enum(['deny', 'allow', 'reject']).default('allow'),
        routed: z.enum(['deny', 'allow', 'reject', 'disabled']).default('disabled'),
      })
      .strict()
      .default({ incoming: 'deny', outgoing: 'allow', routed: 'disabled' }),
    logging: z.enum(['off', 'low', 'medium', 'high', 'full']).optional(),
    rules: z.array(firewallRuleSchema).default([]),
  })
  .strict();

const directorySchema = z
  .object({
    path: z.string().regex(/^[^/\0][^\0]*$/, 'a path relative to the data root').refine((p) => !p.split('/').includes('..'), 'no ".." in data paths'),
    owner: posixName.optional(),
    group: posixName.optional(),
    mode: octalMode.optional(),
    description: z.string().optional(),
  })
  .strict();

export const dataSchema = z
  .object({
    root: z.string().regex(/^\/[^\0]*$/, 'an absolute path'),
    owner: posixName.default('root'),
    group: posixName.default('root'),
    mode: octalMode.default('0755'),
    directories: z.array(directorySchema).default([]),
  })
  .strict();

export const inventorySchema = z
  .object({
    all: groupSchema,
    firewall: firewallSchema.optional(),
    data: dataSchema.optional(),
  })
  .strict();

export type InventoryDocument = z.infer<typeof inventorySchema>;
export type HostVars = z.infer<typeof hostVarsSchema>;
export type FirewallConfig = z.infer<typeof firewallSchema>;
export type FirewallRuleInput = z.infer<typeof firewallRuleSchema>;
export type DataConfig = z.infer<typeof dataSchema>;
