import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { inventorySchema } from '../inventory/schema.js';
import type { Target } from './targets.js';

export interface SandboxInventoryOptions {
  /** Where to write the inventory (parent dirs are created). */
  path: string;
  /** Login user; admin connects with sudo (become). Default root. */
  user?: 'root' | 'admin';
  /** Extra top-level YAML sections appended verbatim, e.g. defaultPlatformYaml(). */
  platformYaml?: string;
  /** Group every target joins besides `all`; default "sandbox". */
  group?: string;
}

/** The inventory as text; validated against the real schema so a bad platformYaml fails here. */
export function sandboxInventoryYaml(targets: Target[], opts: Omit<SandboxInventoryOptions, 'path'> = {}): string {
  const first = targets[0];
  if (!first) throw new Error('writeSandboxInventory: no targets');
  const user = opts.user ?? 'root';
  const doc = {
    all: {
      vars: {
        user,
        ...(user === 'root' ? {} : { become: true }),
        identity_file: first.keyFile,
        known_hosts: first.knownHosts,
        host_key_checking: 'strict',
        connect_timeout: 10,
      },
      hosts: Object.fromEntries(targets.map((t) => [t.name, { address: t.address, port: t.port }])),
      children: { [opts.group ?? 'sandbox']: { hosts: Object.fromEntries(targets.map((t) => [t.name, null])) } },
    },
  };
  const platform = opts.platformYaml?.trim();
  const text = stringify(doc) + (platform ? `${platform}\n` : '');
  const check = inventorySchema.safeParse(parse(text));
  if (!check.success) throw new Error(`sandbox inventory does not validate: ${check.error.message}\n${text}`);
  return text;
}

/** Write the sandbox inventory and return its absolute path. */
export async function writeSandboxInventory(targets: Target[], opts: SandboxInventoryOptions): Promise<string> {
  const path = resolve(opts.path);
  const text = sandboxInventoryYaml(targets, opts);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** The demo platform: ufw deny-in/allow-out with ssh+web open, and a data tree under /mnt/data. */
export function defaultPlatformYaml(): string {
  return `firewall:
  defaults:
    incoming: deny
    outgoing: allow
  rules:
    - { port: 22, proto: tcp, comment: ssh }
    - 80/tcp
    - 443/tcp
data:
  root: /mnt/data
  mode: "0755"
  directories:
    - { path: nginx, mode: "0750", description: web server content and caches }
    - { path: postgres-shared, mode: "0700", description: shared PostgreSQL cluster }
    - { path: seller1-prod, mode: "0750", description: seller1 production app data }
    - { path: restic, mode: "0700", description: restic backup repository cache }
    - { path: python, mode: "0755", description: python virtualenvs }
`;
}
