import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { pathFact } from '../facts/stat.js';
import { ownershipChanges } from './changes.js';

export interface PathModeSpec {
  path: string;
  owner: string;
  group: string;
  /** Four octal digits. */
  mode: string;
}

/**
 * Owner, group and mode of a path a package created (/etc/crontab, /etc/cron.d): corrected when
 * they differ, never created (an absent path is not drift: the package is not installed).
 */
export class PathMode extends BaseResource<PathModeSpec> {
  protected readonly kind = 'permissions of';
  private readonly fact;

  constructor(spec: PathModeSpec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = pathFact(spec.path);
  }

  protected override identity() {
    return this.spec.path;
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
