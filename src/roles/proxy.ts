import { readFile } from 'node:fs/promises';
import { registerSecrets } from '../engine/redact.js';
import type { Resource, Role, RunOptions } from '../engine/types.js';
import type { Inventory } from '../inventory/types.js';
import { parsePublishedPort, platformOf } from '../platform/model.js';
import { parseSecretsFile, SecretsError } from '../platform/secrets.js';
import type { Credentials } from '../proxy/client.js';
import { desiredProxy } from '../proxy/model.js';
import { NpmAdmin, NpmCertificates, NpmHosts, NpmUndeclared, type ProxyTarget } from '../proxy/resources.js';

/** The declared admin from the secrets file; registered for redaction. Throws before any host is contacted. */
async function loadAdmin(inventory: Inventory, options: Pick<RunOptions, 'secretsFile'>): Promise<Credentials> {
  const admin = inventory.doc.proxy!.admin;
  const file = options.secretsFile ?? platformOf(inventory).secretsFile;
  const names = [admin.password.secret, ...(typeof admin.email === 'string' ? [] : [admin.email.secret])];
  if (!file) throw new SecretsError(`proxy.admin needs a secrets file (secrets.file or --secrets FILE) defining: ${names.join(', ')}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SecretsError(
      `cannot read the secrets file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); proxy.admin needs: ${names.join(', ')}`,
    );
  }
  const values = parseSecretsFile(text, file);
  const missing = names.filter((n) => !values.get(n));
  if (missing.length)
    throw new SecretsError(`${file}: missing secret${missing.length === 1 ? '' : 's'} for proxy.admin: ${missing.join(', ')}`);
  const password = values.get(admin.password.secret)!;
  const email = typeof admin.email === 'string' ? admin.email : values.get(admin.email.secret)!;
  registerSecrets([password]);
  return { email, password };
}

/** The host port NPM's admin listener (container port 81) is published on, on loopback. */
function adminPort(inventory: Inventory): number {
  const npm = inventory.doc.npm;
  const svc = npm ? inventory.doc.stacks?.[npm.stack]?.services[npm.service] : undefined;
  const p = svc?.ports.map(parsePublishedPort).find((x) => x.containerPort === 81);
  return p?.hostPort ?? 81;
}

/** Resources of the proxy role (exported for tests). */
export function proxyResources(inventory: Inventory, admin: Credentials): Resource[] {
  const desired = desiredProxy(inventory.doc, admin.email);
  if (!desired) return [];
  const target: ProxyTarget = { port: adminPort(inventory), admin, desired };
  const adminR = new NpmAdmin(target);
  const certs = new NpmCertificates(target, { requires: [adminR] });
  const hosts = new NpmHosts(target, { requires: [adminR, certs] });
  return [adminR, certs, hosts, new NpmUndeclared(target, { requires: [adminR] })];
}

export const proxyRole: Role<Inventory, Credentials> = {
  name: 'proxy',
  description:
    "NPM's proxy and redirection hosts and Let's Encrypt certificates as code, through NPM's API over the SSH connection: declared admin (2.12 first contact replaces the default one), certificates first, missing hosts created, changed fields updated, undeclared hosts reported (deleted with prune), certificates expiring soon renewed.",
  // The whole inventory: the proxy reads the npm service's published admin port and the stacks.
  config: (inventory) => (inventory.doc.proxy ? inventory : undefined),
  prepare: (inventory, options) => loadAdmin(inventory, options),
  build: (inventory, _host, admin) => ({ resources: proxyResources(inventory, admin) }),
};
