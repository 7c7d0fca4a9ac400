import type { Change, FactSet, Resource } from '../engine/types.js';
import { pathFact } from '../facts/stat.js';
import { ownershipChanges } from './changes.js';

/**
 * Owner, group and mode of a path a package created (/etc/crontab, /etc/cron.d): corrected when
 * they differ, never created (an absent path is not drift: the package is not installed).
 */
export class PathMode implements Resource {
  readonly id: string;
  private readonly fact;

  constructor(
    readonly spec: { path: string; owner: string; group: string; mode: string },
    readonly requires?: readonly string[],
  ) {
    this.id = `permissions of ${spec.path}`;
    this.fact = pathFact(spec.path);
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    const cur = facts.get(this.fact);
    if (!cur.exists || cur.type === 'symlink') return [];
    return ownershipChanges(this.spec.path, cur, this.spec);
  }
}
