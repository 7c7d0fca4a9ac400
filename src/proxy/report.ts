import type { InventoryDocument } from '../inventory/schema.js';
import { desiredProxy } from './model.js';

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

/** The Domains section of docs/platform.md from `proxy:`: target, certificate and flags per domain. */
export function proxyDomainsDoc(doc: InventoryDocument): string {
  const desired = desiredProxy(doc, doc.proxy?.email ?? '');
  if (!desired) return '';
  const certName = new Map(desired.certificates.map((c) => [c.key, c]));
  const rows = desired.hosts.map((h) => {
    const cert = h.certificate ? certName.get(h.certificate) : undefined;
    const f = h.fields;
    const flags = [
      f.ssl_forced && 'force SSL',
      f.http2_support && 'HTTP/2',
      f.hsts_enabled && (f.hsts_subdomains ? 'HSTS +subdomains' : 'HSTS'),
      f.block_exploits && 'block exploits',
      h.kind === 'proxy' && h.fields.allow_websocket_upgrade && 'websockets',
      h.kind === 'proxy' && h.accessList && `access list ${h.accessList}`,
      f.advanced_config && 'advanced config',
    ].filter(Boolean);
    const target =
      h.kind === 'proxy'
        ? [code(h.fields.forward_host), String(h.fields.forward_port), h.service.split('/')[0]!]
        : [`${h.fields.forward_http_code} → ${h.fields.forward_domain_name}`, '-', '-'];
    return [
      h.domains.join(', '),
      ...target,
      cert ? `Let's Encrypt (${cert.domains.length > 1 ? cert.domains.join(' + ') : 'own'})` : 'none',
      flags.join(', '),
    ];
  });
  const head = ['Domain', 'Forward host', 'Forward port', 'Stack', 'Certificate', 'Flags'];
  return [
    `${desired.hosts.flatMap((h) => h.domains).length} domains, kept in NPM by the proxy role (roles/proxy.mjs) through NPM's API: proxy hosts forward to the container name on its port; a redirection host answers with the code and target shown. Certificates expiring within ${desired.expiryDays} days are drift; hosts NPM has but the inventory does not are ${desired.prune ? 'deleted (prune)' : 'reported, never deleted (prune: false)'}.`,
    '',
    row(head),
    row(head.map(() => '---')),
    ...rows.map(row),
  ].join('\n');
}
