import { z } from 'zod';
import { absolutePath, ipOrNet, port, safeText } from '../schema/primitives.js';

/** The fail2ban role's section of the inventory (`fail2ban:`). */

const F2B_TIME = 'a time: seconds, or a number with s, m, h, d or w ("10m", "1h", "1w")';
const f2bTime = z.union([z.number().int().positive(), safeText.regex(/^\d+[smhdw]$/)], { error: F2B_TIME });
const JOURNALMATCH = 'journal matches FIELD=value separated by spaces ("+" between alternatives), e.g. "_SYSTEMD_UNIT=nginx.service"';
const F2B_FILTER = 'a fail2ban filter, optionally with parameters: "nginx-http-auth", "sshd[mode=aggressive]"';

const fail2banJailSchema = z
  .object({
    // iptables chain names are short: f2b-<name>-docker must fit in 28 characters.
    name: safeText.regex(/^[a-z0-9][a-z0-9_-]{0,15}$/, 'a jail name: lowercase letters, digits, "_" and "-" (at most 16)'),
    // Parameters: no % (fail2ban interpolates), no ; or # (comments), no ] inside.
    filter: safeText.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*(\[[^\]%;#]*\])?$/, F2B_FILTER),
    /** Log files (file backend) ... */
    logpath: z.array(absolutePath.regex(/^\S+$/, 'an absolute path without spaces')).min(1).optional(),
    /** ... or journal matches (systemd backend), e.g. "_SYSTEMD_UNIT=nginx.service". */
    journalmatch: safeText.regex(/^[A-Za-z0-9_]+=\S+( (\+ )?[A-Za-z0-9_]+=\S+)*$/, JOURNALMATCH).optional(),
    port: safeText.regex(/^[a-z0-9]+([,:][a-z0-9]+)*$/, 'ports like "http,https" or "8080"').default('http,https'),
    maxretry: z.number().int().min(1).optional(),
    bantime: f2bTime.optional(),
    findtime: f2bTime.optional(),
    /** The app is reached through Docker-published ports: also ban forwarded traffic (no INPUT rule sees it). */
    proxied: z.boolean().default(false),
  })
  .strict()
  .refine((j) => (j.logpath === undefined) !== (j.journalmatch === undefined), {
    error: 'either logpath (log files) or journalmatch (systemd journal), not both',
  });

export const fail2banSchema = z
  .object({
    bantime: f2bTime.default('1h'),
    findtime: f2bTime.default('10m'),
    maxretry: z.number().int().min(1).default(5),
    /** Never banned: the operator's addresses (loopback is always added). */
    ignoreip: z.array(ipOrNet).default([]),
    /** How a ban blocks the host's ports: ufw (one rule per ban, needs the firewall role) or fail2ban's own nftables table. */
    banaction: z.enum(['ufw', 'nftables']).default('ufw'),
    sshd: z
      .object({
        enabled: z.boolean().default(true),
        /** aggressive counts wrong-key attempts (key-only SSH logs no "Failed password"). */
        mode: z.enum(['normal', 'ddos', 'extra', 'aggressive']).default('aggressive'),
        port: z.union([port, z.literal('ssh')]).default('ssh'),
        maxretry: z.number().int().min(1).optional(),
        bantime: f2bTime.optional(),
        findtime: f2bTime.optional(),
      })
      .strict()
      .prefault({}),
    /** Bans repeat offenders (from fail2ban's own log) for longer, on all ports. */
    recidive: z
      .object({
        enabled: z.boolean().default(true),
        bantime: f2bTime.default('1w'),
        findtime: f2bTime.default('1d'),
        maxretry: z.number().int().min(1).default(5),
      })
      .strict()
      .prefault({}),
    jails: z.array(fail2banJailSchema).default([]),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>(['sshd', 'recidive']);
    f.jails.forEach((j, i) => {
      if (seen.has(j.name))
        ctx.addIssue({
          code: 'custom',
          path: ['jails', i, 'name'],
          message: 'a jail name not used above (sshd and recidive are built in)',
          input: j.name,
        });
      seen.add(j.name);
    });
  });

export type Fail2banConfig = z.infer<typeof fail2banSchema>;
export type Fail2banJailConfig = z.infer<typeof fail2banJailSchema>;
