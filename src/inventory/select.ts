import { LimitError } from './errors.js';
import type { HostConfig, Inventory } from './types.js';

export interface Selection {
  hosts: HostConfig[];
  skipped: { host: string; reason: string }[];
}

export const PROTECTED_REASON = 'protected host: name it with --limit <name> to contact it';

/**
 * The hosts a run contacts, in inventory order. `limit` is a comma list of host and group names.
 * A protected host is never reached by accident: only when --limit names the host itself, or
 * when the run is local on it (nothing crosses the network then).
 */
export function selectHosts(inv: Inventory, opts: { limit?: string; local: boolean }): Selection {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  const named = new Set<string>();
  let wanted: Set<string>;
  if (opts.limit === undefined) {
    wanted = new Set(byName.keys());
  } else {
    const names = opts.limit
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length === 0) throw new LimitError('--limit names no host or group');
    const unknown = names.filter((n) => !byName.has(n) && !inv.groups[n]);
    if (unknown.length) {
      const list = unknown.map((n) => `"${n}"`).join(', ');
      throw new LimitError(
        `--limit: no host or group named ${list} in the inventory (hosts: ${[...byName.keys()].join(', ')}; groups: ${Object.keys(inv.groups).join(', ')})`,
      );
    }
    wanted = new Set<string>();
    for (const n of names) {
      if (byName.has(n)) {
        named.add(n);
        wanted.add(n);
      } else for (const h of inv.groups[n] ?? []) wanted.add(h);
    }
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
