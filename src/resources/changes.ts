import type { Action, Change } from '../engine/types.js';

/**
 * Several drifts repaired by one command (one `docker compose up`, one `docker load`): each drift
 * is its own Change, so --check names every one, and only the last carries the actions.
 */
export function driftsWithOneAction(drifts: { summary: string; diff?: string }[], actions: Action[]): Change[] {
  return drifts.map((d, i) => ({ ...d, actions: i === drifts.length - 1 ? actions : [] }));
}
