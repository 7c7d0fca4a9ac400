import type { Problem } from './errors.js';
import type { InventoryDocument } from './schema.js';

/** A host with every variable resolved (group vars, then host vars, then defaults). */
export interface HostConfig {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFile?: string;
  become: boolean;
  connection: 'ssh' | 'local';
  protected: boolean;
  knownHosts?: string;
  hostKeyChecking: 'strict' | 'accept-new';
  connectTimeoutMs: number;
  /** Groups the host belongs to, "all" included. */
  groups: string[];
}

export interface Inventory {
  /** Files it was read from, in merge order. */
  sources: string[];
  hosts: HostConfig[];
  groups: Record<string, string[]>;
  doc: InventoryDocument;
  /** Things accepted but ignored (Ansible variables hostkit does not read), positioned. */
  warnings: Problem[];
  /** Where a value of the merged document was written (file, line, col), for errors found after loading. */
  locate?: (path: (string | number)[]) => Problem;
}
