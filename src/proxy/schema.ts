import { z } from 'zod';
import { safeLines, safeText } from '../schema/primitives.js';

/**
 * The `proxy:` section: every domain Nginx Proxy Manager serves, as code. A host routes its
 * domains to one service of a stack on one of the service's declared ports; a redirect answers
 * with a redirection host. Flags default from `proxy.defaults`. Cross-field rules (service and
 * port exist, a domain is declared once, certificate groups) are in ./checks.ts.
 */

const DOMAIN = 'a lowercase domain name, e.g. "seller1.ru"';
export const domainName = z.string({ error: DOMAIN }).regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, DOMAIN);
const secretRef = z.object({ secret: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a secret name') }).strict();
const EMAIL = 'an e-mail address';
const email = z.string({ error: EMAIL }).regex(/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i, EMAIL);

/** "letsencrypt": one certificate for the host's domains; "none"; or the name of a proxy.certificates group. */
const certificateRef = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a certificate: "letsencrypt", "none" or a proxy.certificates name');

const flags = {
  certificate: certificateRef.optional(),
  ssl_forced: z.boolean().optional(),
  http2: z.boolean().optional(),
  hsts: z.boolean().optional(),
  hsts_subdomains: z.boolean().optional(),
  block_exploits: z.boolean().optional(),
  websockets: z.boolean().optional(),
  caching: z.boolean().optional(),
};

const proxyHostSchema = z
  .object({
    domains: z.array(domainName).min(1, { error: 'at least one domain' }),
    /** The target service: "<stack>/<service>"; the forward host is its container name. */
    service: z.string().regex(/^[a-z0-9][a-z0-9_-]*\/[a-z0-9][a-z0-9_-]*$/, 'a service "<stack>/<service>"'),
    /** One of the service's declared ports (expose or container side of ports). */
    port: z.number().int().min(1).max(65535),
    scheme: z.enum(['http', 'https']).default('http'),
    description: safeText.optional(),
    /** The name of an NPM access list (created by hand in NPM; matched by name). */
    access_list: safeText.min(1).optional(),
    /** Extra nginx configuration for the server block (NPM's "advanced_config"). */
    // nginx directives, sent to NPM's API as JSON: several lines allowed, no other control character.
    advanced_config: safeLines.default(''),
    ...flags,
  })
  .strict();

const redirectSchema = z
  .object({
    domains: z.array(domainName).min(1, { error: 'at least one domain' }),
    /** Where the redirect points: a domain (NPM's forward_domain_name). */
    to: domainName,
    code: z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)]).default(301),
    /** "auto" keeps the request's scheme on >= 2.13; NPM 2.12 writes it literally (Location: auto://...). */
    scheme: z.enum(['auto', 'http', 'https']).default('https'),
    preserve_path: z.boolean().default(true),
    description: safeText.optional(),
    // nginx directives, sent to NPM's API as JSON: several lines allowed, no other control character.
    advanced_config: safeLines.default(''),
    ...flags,
  })
  .strict();

export const proxySchema = z
  .object({
    /** The operator's Let's Encrypt account e-mail. */
    email,
    /** NPM's administrator: the declared login (values in the secrets file). */
    admin: z.object({ email: z.union([email, secretRef]), password: secretRef }).strict(),
    /** A certificate expiring within this many days is drift. */
    expiry_days: z.number().int().min(1).max(89).default(14),
    /** Delete proxy/redirection hosts the inventory does not declare (default: report them as drift). */
    prune: z.boolean().default(false),
    defaults: z
      .object({
        certificate: certificateRef.default('letsencrypt'),
        ssl_forced: z.boolean().default(true),
        http2: z.boolean().default(true),
        hsts: z.boolean().default(true),
        hsts_subdomains: z.boolean().default(false),
        block_exploits: z.boolean().default(true),
        websockets: z.boolean().default(false),
        caching: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Certificate groups: one Let's Encrypt certificate for several hosts' domains. */
    certificates: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), z.object({ domains: z.array(domainName).min(1) }).strict())
      .default({}),
    hosts: z.array(proxyHostSchema).default([]),
    redirects: z.array(redirectSchema).default([]),
  })
  .strict();

export type ProxyConfig = z.infer<typeof proxySchema>;
export type ProxyHostConfig = z.infer<typeof proxyHostSchema>;
export type RedirectConfig = z.infer<typeof redirectSchema>;
