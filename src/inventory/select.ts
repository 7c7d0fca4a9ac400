import { matchPattern } from './patterns.js';
import type { HostConfig, Inventory } from './types.js';

export interface Selection {
  hosts: HostConfig[];
  skipped: { host: string; reason: string }[];
}

export const PROTECTED_REASON = 'protected host: name it with --limit <name> to contact it';

/**
 * The hosts a run contacts, in inventory order. `limit` is an Ansible host pattern (patterns.ts):
 * names, groups, globs, ~regex, :&, :!, @file. A protected host is never reached by accident:
 * only when --limit names the host itself (its exact name as a term; a glob, regex or group does
 * not count), or when the run is local on it (nothing crosses the network then).
 */
export function selectHosts(inv: Inventory, opts: { limit?: string; local: boolean }): Selection {
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
    if (host.protected && !named.has(host.name) && !local) selection.skipped.push({ host: host.name, reason: PROTECTED_REASON });
    else selection.hosts.push(host);
  }
  return selection;
}
