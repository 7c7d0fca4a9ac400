import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { pathFact, pathIdsFact } from '../facts/stat.js';
import { sh } from '../transports/quote.js';
import { RefusedError } from '../engine/errors.js';
import { ownershipChanges } from './changes.js';

export interface DirectorySpec {
  path: string;
  /** A user name, or a uid (then group is a gid too: owned by the uid an image runs as). */
  owner: string;
  group: string;
  mode: string; // four octal digits
}

/** A directory with owner, group and mode. Creates or corrects it; never deletes or empties. */
export class Directory extends BaseResource<DirectorySpec> {
  protected readonly kind = 'directory';
  private readonly fact;

  constructor(spec: DirectorySpec, options?: ResourceOptions) {
    super(spec, options);
    const numeric = /^\d+$/.test(spec.owner);
    if (numeric !== /^\d+$/.test(spec.group))
      throw new Error(`directory ${spec.path}: owner ${spec.owner} and group ${spec.group} must both be names or both be ids`);
    this.fact = numeric ? pathIdsFact(spec.path) : pathFact(spec.path);
  }

  protected override identity() {
    return this.spec.path;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, ctx: { host: { name: string } }): Change[] {
    const { path, owner, group, mode } = this.spec;
    const cur = facts.get(this.fact);
    if (!cur.exists) {
      return [
        {
          summary: `create ${path} (${owner}:${group} ${mode})`,
          actions: [{ kind: 'exec', script: sh(['install', '-d', '-m', mode, '-o', owner, '-g', group, path]) }],
        },
      ];
    }
    if (cur.type !== 'directory') {
      throw new RefusedError(ctx.host.name, this.id, `${path} exists and is a ${cur.type}, not a directory; it is left alone`);
    }
    return ownershipChanges(path, cur, { owner, group, mode });
  }
}
