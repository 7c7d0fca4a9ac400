import type { z } from 'zod';
import { type PlatformSections, parsePublishedPort } from '../platform/schema.js';
import type { Finding, Path, Where } from '../schema/check.js';
import type { proxySchema } from './schema.js';

/** What the proxy checks read: the platform sections plus `proxy:` (structural, no inventory import). */
type ProxyDocument = PlatformSections & { proxy?: z.infer<typeof proxySchema> };

const RESERVED_CERTS = new Set(['letsencrypt', 'none']);

/**
 * Cross-field rules of `proxy:`, each at the value to edit: the service exists and declares the
 * port, a domain is declared once (hosts, redirects), a certificate group exists and covers the
 * host's domains, a redirect points at a declared host. Nothing here contacts a host.
 */
export function checkProxy(doc: ProxyDocument, where: Where): Finding[] {
  const proxy = doc.proxy;
  if (!proxy) return [];
  const problems: Finding[] = [];
  const at = (path: Path, message: string): void => void problems.push({ ...where.value(path), message });
  const line = (path: Path) => {
    const p = where.value(path);
    return `${p.file}:${p.line}:${p.col}`;
  };
  const seen = new Map<string, Path>();
  const declare = (domain: string, path: Path): void => {
    const first = seen.get(domain);
    if (first) at(path, `domain "${domain}" is declared twice (first at ${line(first)})`);
    else seen.set(domain, path);
  };
  const checkCert = (cert: string | undefined, domains: string[], path: Path) => {
    if (cert === undefined || RESERVED_CERTS.has(cert)) return;
    const group = proxy.certificates[cert];
    if (!group) {
      at(
        path,
        `no certificate "${cert}" in proxy.certificates (declared: ${Object.keys(proxy.certificates).join(', ') || 'none'}; or "letsencrypt", "none")`,
      );
      return;
    }
    const missing = domains.filter((d) => !group.domains.includes(d));
    if (missing.length) at(path, `certificate "${cert}" does not cover ${missing.join(', ')} (its domains: ${group.domains.join(', ')})`);
  };
  checkCert(proxy.defaults.certificate, [], ['proxy', 'defaults', 'certificate']);

  proxy.hosts.forEach((h, i) => {
    const base: Path = ['proxy', 'hosts', i];
    for (const [j, d] of h.domains.entries()) declare(d, [...base, 'domains', j]);
    const [stackName, svcName] = h.service.split('/') as [string, string];
    const stack = doc.stacks?.[stackName];
    const svc = stack?.services[svcName];
    if (!stack)
      at([...base, 'service'], `no stack "${stackName}" in stacks (stacks: ${Object.keys(doc.stacks ?? {}).join(', ') || 'none'})`);
    else if (!svc)
      at([...base, 'service'], `no service "${svcName}" in stack ${stackName} (services: ${Object.keys(stack.services).join(', ')})`);
    else {
      const ports = [...svc.expose, ...svc.ports.map((p) => parsePublishedPort(p).containerPort)];
      if (!ports.includes(h.port))
        at([...base, 'port'], `${h.service} (${svc.container_name}) declares no port ${h.port} (declared: ${ports.join(', ') || 'none'})`);
    }
    checkCert(h.certificate, h.domains, [...base, 'certificate']);
  });
  proxy.redirects.forEach((r, i) => {
    const base: Path = ['proxy', 'redirects', i];
    for (const [j, d] of r.domains.entries()) declare(d, [...base, 'domains', j]);
    checkCert(r.certificate, r.domains, [...base, 'certificate']);
  });
  proxy.redirects.forEach((r, i) => {
    if (!proxy.hosts.some((h) => h.domains.includes(r.to))) at(['proxy', 'redirects', i, 'to'], `"${r.to}" is not a domain of proxy.hosts`);
  });
  return problems;
}
