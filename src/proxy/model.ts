import type { InventoryDocument } from '../inventory/schema.js';
import type { ProxyConfig } from './schema.js';

/**
 * The desired state of NPM, normalized the way NPM stores it so that nothing shows a permanent
 * diff: domains lowercased and sorted (NPM's models sort them), and NPM's cleanSslHstsData rules
 * (no certificate => ssl_forced/http2 off; no ssl_forced => HSTS off; no HSTS => subdomains off).
 */

/** Matching key of a host or certificate: its lowercased, sorted domain set. */
export const domainKey = (domains: readonly string[]): string => normalizeDomains(domains).join(',');
export const normalizeDomains = (domains: readonly string[]): string[] => [...new Set(domains.map((d) => d.trim().toLowerCase()))].sort();

export interface DesiredCertificate {
  key: string;
  domains: string[];
  /** Inventory name: the group name, or the host's first domain. */
  name: string;
}

/** Fields NPM stores for both host kinds. */
export interface SslFields {
  ssl_forced: boolean;
  http2_support: boolean;
  hsts_enabled: boolean;
  hsts_subdomains: boolean;
  block_exploits: boolean;
  advanced_config: string;
}

export interface ProxyHostFields extends SslFields {
  forward_scheme: 'http' | 'https';
  forward_host: string;
  forward_port: number;
  caching_enabled: boolean;
  allow_websocket_upgrade: boolean;
}

export interface RedirectFields extends SslFields {
  forward_http_code: number;
  forward_scheme: 'auto' | 'http' | 'https';
  forward_domain_name: string;
  preserve_path: boolean;
}

interface DesiredBase {
  key: string;
  domains: string[];
  /** Certificate key (a DesiredCertificate), or undefined for none. */
  certificate?: string;
  /** "proxy.hosts[3]" for messages. */
  where: string;
}
export interface DesiredProxyHost extends DesiredBase {
  kind: 'proxy';
  /** "<stack>/<service>" of the target. */
  service: string;
  fields: ProxyHostFields;
  /** Access list name (resolved to an id against NPM's lists). */
  accessList?: string;
}
export interface DesiredRedirect extends DesiredBase {
  kind: 'redirect';
  fields: RedirectFields;
}
export type DesiredHost = DesiredProxyHost | DesiredRedirect;

export interface DesiredProxy {
  email: string;
  expiryDays: number;
  prune: boolean;
  certificates: DesiredCertificate[];
  hosts: DesiredHost[];
}

/** NPM's cleanSslHstsData, applied to the desired flags. */
export function cleanSsl<T extends SslFields>(fields: T, hasCertificate: boolean): T {
  const out = { ...fields };
  if (!hasCertificate) {
    out.ssl_forced = false;
    out.http2_support = false;
  }
  if (!out.ssl_forced) out.hsts_enabled = false;
  if (!out.hsts_enabled) out.hsts_subdomains = false;
  return out;
}

/** The desired NPM state of a checked inventory (checkProxy ran: services and certificates exist). */
export function desiredProxy(doc: InventoryDocument, adminEmail: string): DesiredProxy | undefined {
  const proxy: ProxyConfig | undefined = doc.proxy;
  if (!proxy) return undefined;
  const d = proxy.defaults;
  const certs = new Map<string, DesiredCertificate>();
  const certFor = (ref: string | undefined, domains: string[]): string | undefined => {
    const name = ref ?? d.certificate;
    if (name === 'none') return undefined;
    const group = name === 'letsencrypt' ? domains : (proxy.certificates[name]?.domains ?? domains);
    const key = domainKey(group);
    if (!certs.has(key)) certs.set(key, { key, domains: normalizeDomains(group), name: name === 'letsencrypt' ? domains[0]! : name });
    return key;
  };
  const flags = (h: {
    ssl_forced?: boolean;
    http2?: boolean;
    hsts?: boolean;
    hsts_subdomains?: boolean;
    block_exploits?: boolean;
    advanced_config: string;
  }): SslFields => ({
    ssl_forced: h.ssl_forced ?? d.ssl_forced,
    http2_support: h.http2 ?? d.http2,
    hsts_enabled: h.hsts ?? d.hsts,
    hsts_subdomains: h.hsts_subdomains ?? d.hsts_subdomains,
    block_exploits: h.block_exploits ?? d.block_exploits,
    advanced_config: h.advanced_config,
  });

  const hosts: DesiredHost[] = [];
  proxy.hosts.forEach((h, i) => {
    const [stack, service] = h.service.split('/') as [string, string];
    const svc = doc.stacks?.[stack]?.services[service];
    if (!svc) throw new Error(`proxy.hosts[${i}]: no service ${h.service} (the inventory checks should have caught this)`);
    const certificate = certFor(h.certificate, h.domains);
    hosts.push({
      kind: 'proxy',
      service: h.service,
      key: domainKey(h.domains),
      domains: normalizeDomains(h.domains),
      certificate,
      where: `proxy.hosts[${i}]`,
      ...(h.access_list ? { accessList: h.access_list } : {}),
      fields: cleanSsl(
        {
          forward_scheme: h.scheme,
          forward_host: svc.container_name,
          forward_port: h.port,
          caching_enabled: h.caching ?? d.caching,
          allow_websocket_upgrade: h.websockets ?? d.websockets,
          ...flags(h),
        },
        certificate !== undefined,
      ),
    });
  });
  proxy.redirects.forEach((r, i) => {
    const certificate = certFor(r.certificate, r.domains);
    hosts.push({
      kind: 'redirect',
      key: domainKey(r.domains),
      domains: normalizeDomains(r.domains),
      certificate,
      where: `proxy.redirects[${i}]`,
      fields: cleanSsl(
        {
          forward_http_code: r.code,
          forward_scheme: r.scheme,
          forward_domain_name: r.to,
          preserve_path: r.preserve_path,
          ...flags(r),
        },
        certificate !== undefined,
      ),
    });
  });
  return { email: proxy.email || adminEmail, expiryDays: proxy.expiry_days, prune: proxy.prune, certificates: [...certs.values()], hosts };
}
