import { z } from 'zod';
import { deadmanSeconds, ipOrNet, port, safeText } from '../schema/primitives.js';

/** The firewall role's section of the inventory (`firewall:`). */

const ruleString = safeText.regex(/^\d{1,5}(:\d{1,5})?(\/(tcp|udp))?$/, 'a rule like "22/tcp", "80", "6000:6007/udp"');

const rulePort = z.union([port, safeText.regex(/^\d{1,5}(:\d{1,5})?$/, 'a port or range "6000:6007"')], {
  error: 'a port 1..65535 or a range like "6000:6007"',
});

/** The map form of a rule; firewall-rule.ts gives the short form the same defaults. */
export const ruleObject = z
  .object({
    port: rulePort,
    proto: z.enum(['tcp', 'udp', 'any']).default('tcp'),
    action: z.enum(['allow', 'limit', 'deny', 'reject']).default('allow'),
    /** Source: any, or an address or CIDR network (checked here, never while connected). */
    from: z
      .union([z.literal('any'), ipOrNet], { error: 'any, or an IPv4 or IPv6 address or network, e.g. "203.0.113.7" or "10.0.0.0/8"' })
      .default('any'),
    comment: safeText
      .max(200)
      .regex(/^[^']*$/, "a comment without ' (ufw refuses it)")
      .optional(),
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
    /** Filter published container ports like the host (DOCKER-USER through ufw's after.rules). */
    docker: z.boolean().default(false),
    /** Seconds after which the host restores the previous rules unless a fresh SSH login worked. */
    deadman_timeout: deadmanSeconds.default(60),
    /** Ports that may only listen on loopback (reach them through an SSH tunnel): "81", "81/tcp". */
    local_only: z.array(z.union([port, ruleString], { error: 'a port like 81 or "81/tcp"' })).default([]),
  })
  .strict();

export type FirewallConfig = z.infer<typeof firewallSchema>;
/** A rule as written: "22/tcp" or the map form (with the schema's defaults filled in). */
export type FirewallRuleInput = z.infer<typeof firewallRuleSchema>;
export type FirewallRuleObject = z.output<typeof ruleObject>;
