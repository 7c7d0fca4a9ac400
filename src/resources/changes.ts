import type { Action, Change } from '../engine/types.js';
import { sh } from '../transports/quote.js';

/**
 * Several drifts repaired by one command (one `docker compose up`, one `docker load`): each drift
 * is its own Change, so --check names every one, and only the last carries the actions.
 */
export function driftsWithOneAction(drifts: { summary: string; diff?: string }[], actions: Action[]): Change[] {
  return drifts.map((d, i) => ({ ...d, actions: i === drifts.length - 1 ? actions : [] }));
}

/**
 * Owner, group and mode of an existing path against the declared ones: one change (chown or
 * chmod) per difference. Shared by directories, managed files and the stacks' files.
 */
export function ownershipChanges(
  path: string,
  cur: { owner?: string; group?: string; mode?: string },
  want: { owner: string; group: string; mode: string },
): Change[] {
  const changes: Change[] = [];
  if (cur.owner !== want.owner || cur.group !== want.group) {
    changes.push({
      summary: `owner of ${path} ${cur.owner}:${cur.group} -> ${want.owner}:${want.group}`,
      actions: [{ kind: 'exec', script: sh(['chown', `${want.owner}:${want.group}`, path]) }],
    });
  }
  if (cur.mode !== want.mode) {
    changes.push({
      summary: `mode of ${path} ${cur.mode} -> ${want.mode}`,
      actions: [{ kind: 'exec', script: sh(['chmod', want.mode, path]) }],
    });
  }
  return changes;
}
