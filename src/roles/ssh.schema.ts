import { z } from 'zod';
import { deadmanSeconds, port, posixName, safeText } from '../schema/primitives.js';

/** The ssh role's section of the inventory (`ssh:`): the sshd drop-in. */

/** sshd keywords the inventory may set besides the ones the ssh role owns (auth, root, users, port). */
export const SSH_EXTRA_OPTIONS = [
  'AllowAgentForwarding',
  'AllowStreamLocalForwarding',
  'AllowTcpForwarding',
  'AuthorizedKeysFile',
  'Banner',
  'ClientAliveCountMax',
  'ClientAliveInterval',
  'Compression',
  'GatewayPorts',
  'LogLevel',
  'LoginGraceTime',
  'MaxAuthTries',
  'MaxSessions',
  'MaxStartups',
  'PerSourceMaxStartups',
  'PerSourcePenalties',
  'PerSourcePenaltyExemptList',
  'PermitTunnel',
  'PermitUserEnvironment',
  'PrintLastLog',
  'PrintMotd',
  'TCPKeepAlive',
  'UseDNS',
  'X11Forwarding',
] as const;
const SSH_VALUE = 'a one-line value without "#", a number or true/false';
const sshOptionValue = z.union([safeText.regex(/^[^#]+$/), z.number(), z.boolean()], { error: SSH_VALUE });

export const sshSchema = z
  .object({
    /** Must be the port hostkit connects to (the fresh-login proof runs there). Absent: not managed. */
    port: port.optional(),
    permit_root_login: z.enum(['prohibit-password', 'no', 'yes']).default('prohibit-password'),
    /** AllowUsers; empty: every user may log in (with a key). */
    allow_users: z.array(posixName).default([]),
    password_authentication: z.boolean().default(false),
    extra: z.partialRecord(z.enum(SSH_EXTRA_OPTIONS), sshOptionValue).default({}),
    /** Seconds after which the host restores the previous drop-in unless a fresh SSH login worked. */
    deadman_timeout: deadmanSeconds.default(60),
  })
  .strict()
  .superRefine((s, ctx) => {
    const level = s.extra.LogLevel;
    if (level !== undefined && !/^(INFO|VERBOSE)$/i.test(String(level))) {
      ctx.addIssue({
        code: 'custom',
        path: ['extra', 'LogLevel'],
        message: 'INFO or VERBOSE (fail2ban reads the INFO lines)',
        input: level,
      });
    }
    const sessions = s.extra.MaxSessions;
    if (sessions !== undefined && !(typeof sessions === 'number' && sessions >= 8)) {
      ctx.addIssue({
        code: 'custom',
        path: ['extra', 'MaxSessions'],
        message: 'a number >= 8 (hostkit runs up to 8 sessions per connection)',
        input: sessions,
      });
    }
  });

export type SshConfig = z.infer<typeof sshSchema>;
