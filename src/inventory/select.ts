import { hostname } from 'node:os';
import { LimitError } from './errors.js';
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
 * The hosts a run contacts, in inventory order. `limit` is a comma list of host and group names.
 * A protected host is never reached by accident: only when --limit names the host itself, or
 * when the run is local (--local or `connection: local`) AND runs on that very machine (this
 * machine's host name is the host's name): a local run elsewhere would change the wrong machine.
 */
export function selectHosts(inv: Inventory, opts: { limit?: string; local: boolean; thisMachine?: string }): Selection {
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
    if (!host.protected || named.has(host.name)) selection.hosts.push(host);
    else if (local && isThisMachine(host, opts.thisMachine)) selection.hosts.push(host);
    else selection.skipped.push({ host: host.name, reason: local ? PROTECTED_LOCAL_REASON : PROTECTED_REASON });
  }
  return selection;
}
