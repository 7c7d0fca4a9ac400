import type { Change, FactSet, Resource } from '../engine/types.js';
import { pathFact } from '../facts/stat.js';

export interface CreatedBySpec {
  /** The file the command creates; present means converged. */
  path: string;
  /** POSIX sh, run as root once while the file is absent. */
  command: string;
  /** What the command does, for the plan: "build the AIDE baseline database". */
  what: string;
  requires?: readonly string[];
}

/**
 * A file that a command creates once (a baseline database): absent is drift, repaired by running
 * the command; its later content is the tool's business, never compared.
 */
export class CreatedBy implements Resource {
  readonly id: string;
  readonly requires?: readonly string[];
  private readonly fact;

  constructor(readonly spec: CreatedBySpec) {
    this.id = `${spec.path} (${spec.what})`;
    this.fact = pathFact(spec.path);
    if (spec.requires) this.requires = spec.requires;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    if (facts.get(this.fact).exists) return [];
    return [{ summary: `${this.spec.path} absent: ${this.spec.what}`, actions: [{ kind: 'exec', script: this.spec.command }] }];
  }
}
