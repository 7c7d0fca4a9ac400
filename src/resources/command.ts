import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { succeedsFact } from '../facts/command.js';
import { pathFact } from '../facts/stat.js';
import { quote } from '../transports/quote.js';

export interface CommandSpec {
  /** Shell script run on the host (through the transport, as root when the host has become). */
  command: string;
  /** Converged when this path exists; checked again after the command ran. */
  creates?: string;
  /**
   * A read-only probe command: exit 0 means converged. It runs with the facts, in every mode
   * (--check included), so it must never change the host. Checked again after the command ran.
   */
  unless?: string;
  /** What reports call the step (default: the command's first line). */
  name?: string;
}

/**
 * The rare imperative step (mitamae's execute with not_if): runs only while its guard says the
 * host is not converged, so a second apply changes nothing and --check reports it as drift.
 * An unguarded command would run on every apply and always be drift: refused at construction.
 */
export class Command extends BaseResource<CommandSpec> {
  protected readonly kind = 'command';
  private readonly createsFact;
  private readonly unlessFact;

  constructor(spec: CommandSpec, options?: ResourceOptions) {
    super(spec, options);
    if (!spec.creates && !spec.unless) {
      throw new Error(
        `command ${spec.name ?? spec.command}: give it a guard (creates: PATH or unless: PROBE), else it runs on every apply`,
      );
    }
    this.createsFact = spec.creates ? pathFact(spec.creates) : undefined;
    this.unlessFact = spec.unless ? succeedsFact(spec.unless) : undefined;
  }

  protected override identity() {
    return this.spec.name ?? this.spec.command.trim().split('\n')[0]!;
  }

  facts() {
    return [...(this.createsFact ? [this.createsFact] : []), ...(this.unlessFact ? [this.unlessFact] : [])];
  }

  plan(facts: FactSet): Change[] {
    const { command, creates, unless } = this.spec;
    if (this.createsFact && facts.get(this.createsFact).exists) return [];
    if (this.unlessFact && facts.get(this.unlessFact)) return [];
    const why = [...(creates ? [`${creates} does not exist`] : []), ...(unless ? [`\`${unless}\` fails`] : [])].join(', ');
    // The guard is checked again afterwards: a command that does not converge fails now,
    // instead of running again on every apply.
    const script = [
      `{ ${command}`,
      '} || exit $?',
      ...(creates ? [`test -e ${quote(creates)} || { echo ${quote(`the command ran but did not create ${creates}`)} >&2; exit 1; }`] : []),
      ...(unless ? [`{ ${unless}`, `} >/dev/null || { echo ${quote(`the command ran but \`${unless}\` still fails`)} >&2; exit 1; }`] : []),
    ].join('\n');
    return [{ summary: `run ${this.identity()} (${why})`, actions: [{ kind: 'exec', script, display: this.identity() }] }];
  }
}
