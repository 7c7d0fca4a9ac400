import { hostname } from 'node:os';
import { matchPattern } from './patterns.js';
import type { HostConfig, Inventory } from './types.js';

export interface Selection {
  hosts: HostConfig[];
  skipped: { host: string; reason: string }[];
}

export const PROTECTED_REASON = 'protected host: name it with --limit <name> to contact it';
export const PROTECTED_LOCAL_REASON =
  'protected host: a local run reaches it only on that machine (its hostname), else name it with --limit <name>';

/** "leruepecie.example.org" and "LERUEPECIE" are the machine "leruepecie". */
const shortName = (n: string) => n.toLowerCase().split('.')[0] ?? '';

/** Whether this process runs on the machine the inventory calls `host` (by host name). */
export function isThisMachine(host: { name: string }, machine: string = hostname()): boolean {
  return shortName(machine) !== '' && shortName(machine) === shortName(host.name);
}

/**
 * The hosts a run contacts, in inventory order. `limit` is an Ansible host pattern (patterns.ts):
 * names, groups, globs, ~regex, :&, :!, @file. A protected host is never reached by accident:
 * only when --limit names the host itself (its exact name as a term; a glob, regex or group does
 * not count), or when the run is local (--local or `connection: local`) AND runs on that very
 * machine (this machine's host name is the host's name): a local run elsewhere would change the
 * wrong machine.
 */
export function selectHosts(inv: Inventory, opts: { limit?: string; local: boolean; thisMachine?: string }): Selection {
  let wanted: Set<string>;
  let named = new Set<string>();
  if (opts.limit === undefined) {
    wanted = new Set(inv.hosts.map((h) => h.name));
  } else {
    ({ hosts: wanted, named } = matchPattern(opts.limit, { hosts: inv.hosts.map((h) => h.name), groups: inv.groups }));
  }
  const selection: Selection = { hosts: [], skipped: [] };
  for (const host of inv.hosts) {
    if (!wanted.has(host.name)) continue;
    const local = opts.local || host.connection === 'local';
    if (!host.protected || named.has(host.name)) selection.hosts.push(host);
    else if (local && isThisMachine(host, opts.thisMachine)) selection.hosts.push(host);
    else selection.skipped.push({ host: host.name, reason: local ? PROTECTED_LOCAL_REASON : PROTECTED_REASON });
  }
  return selection;
}
