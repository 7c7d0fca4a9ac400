import { z } from 'zod';

/**
 * The inventory schema: Ansible-style hosts and groups under `all`, plus the declared platform.
 * Every object is strict: an unknown key is an error, reported with its line and column.
 */
const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "." and "-"');
// Messages are noun phrases naming what was expected: the loader words them as
// `expected <message>, got <value>` (see errors.ts).
const PORT = 'an integer 1..65535';
const port = z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT });
const MODE = 'an octal mode as a quoted string, e.g. "0750"';
// Unquoted 0750 is the integer 750 in YAML 1.2, hence the type error also asks for quotes.
const octalMode = z
  .string({ error: MODE })
  .regex(/^0?[0-7]{3,4}$/, MODE)
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
    /** Seconds (HostConfig.connectTimeoutMs is milliseconds). */
    connect_timeout: z.number({ error: 'a number of seconds > 0' }).positive({ error: 'a number of seconds > 0' }),
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

const rulePort = z.union([port, z.string().regex(/^\d{1,5}(:\d{1,5})?$/, 'a port or range "6000:6007"')], {
  error: 'a port 1..65535 or a range like "6000:6007"',
});

const ruleObject = z
  .object({
    port: rulePort,
    proto: z.enum(['tcp', 'udp', 'any']).default('tcp'),
    action: z.enum(['allow', 'limit', 'deny', 'reject']).default('allow'),
    from: z.string().default('any'),
    comment: z.string().max(200).optional(),
  })
  .strict();

// The union-level message only shows when the value is neither a string nor a map.
const firewallRuleSchema = z.union([ruleString, ruleObject], {
  error: 'a rule like "22/tcp" or a map with port, proto, action, from, comment',
});

export const firewallSchema = z
  .object({
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
    path: z
      .string({ error: 'a path relative to the data root' })
      .regex(/^[^/\0][^\0]*$/, 'a path relative to the data root')
      .refine((p) => !p.split('/').includes('..'), 'a path without ".." components'),
    owner: posixName.optional(),
    group: posixName.optional(),
    mode: octalMode.optional(),
    description: z.string().optional(),
  })
  .strict();

export const dataSchema = z
  .object({
    root: z.string({ error: 'an absolute path' }).regex(/^\/[^\0]*$/, 'an absolute path'),
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
