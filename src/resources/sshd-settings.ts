import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import type { HostConfig } from '../inventory/types.js';
import { sshdEffectiveFact, type SshdEffective } from '../facts/sshd.js';
import { RefusedError } from '../engine/errors.js';
import { sshSessionFact } from '../facts/ssh-session.js';
import { sessionSshPort } from './ufw-firewall.js';

/**
 * Audit of what sshd really enforces (`sshd -T`), against the declared values. sshd takes the
 * FIRST value it reads, so a file read before the hostkit drop-in can silently win; this names
 * it. Its guard refuses, before anything changes, a configuration that would lock out the
 * management login.
 */
export interface SshdSettingsSpec {
  /** Lowercase keyword -> value as `sshd -T` prints it (repeated keywords joined by a space). */
  desired: ReadonlyMap<string, string>;
  /**
   * Reasons the declared configuration would lock out `host`'s management login, given the
   * port the session reaches sshd on (server side: behind NAT or a port map it differs from
   * the inventory's port).
   */
  lockout: (host: HostConfig, sshdPort: number) => string[];
}

export class SshdSettings extends BaseResource<SshdSettingsSpec> {
  protected readonly kind = 'sshd effective settings';
  readonly audit = true;
  private readonly fact;
  readonly desired: ReadonlyMap<string, string>;
  private readonly lockout: SshdSettingsSpec['lockout'];

  constructor(spec: SshdSettingsSpec, options?: ResourceOptions) {
    super(spec, options);
    this.desired = spec.desired;
    this.lockout = spec.lockout;
    this.fact = sshdEffectiveFact([...spec.desired.keys()]);
  }

  facts() {
    return [this.fact, sshSessionFact];
  }

  plan(facts: FactSet): Change[] {
    return planSshdSettings(this.desired, facts.get(this.fact));
  }

  guard(_changes: readonly Change[], facts: FactSet, ctx: PlanContext): void {
    const problems = this.lockout(ctx.host, sessionSshPort(facts.get(sshSessionFact), ctx.host.port));
    if (problems.length)
      throw new RefusedError(
        ctx.host.name,
        'ssh',
        `the declared sshd settings would lock out the management login: ${problems.join('; ')}`,
      );
  }
}

export function planSshdSettings(desired: ReadonlyMap<string, string>, eff: SshdEffective): Change[] {
  if (!eff.ok) return [{ summary: `sshd -T fails, sshd would not start: ${eff.error?.split('\n')[0] ?? 'no output'}`, actions: [] }];
  const changes: Change[] = [];
  for (const [key, want] of desired) {
    const got = (eff.settings.get(key) ?? []).join(' ');
    if (got === want) continue;
    const where = eff.setBy.filter((l) => new RegExp(`^[^:]+:\\d+:\\s*${key}\\s`, 'i').test(l));
    changes.push({
      summary: `sshd runs with ${key} ${got || '(unset)'}, declared ${want}${where.length ? ` (set in ${where.join('; ')})` : ''}`,
      actions: [],
    });
  }
  return changes;
}
