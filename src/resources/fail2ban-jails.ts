import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource } from '../engine/resource.js';
import { fail2banFact, type Fail2banState } from '../facts/fail2ban.js';

export interface ExpectedJail {
  name: string;
  /** systemd backend: the journal matches the running jail must have (proves the config is loaded). */
  journalmatch?: string;
  /** How many ban actions it runs (2 for a proxied-app jail: host ports and published ports). */
  actions: number;
}

/**
 * The jails that should be running, running with the loaded configuration. It never acts by
 * itself: every gap is fixed by the role's reload handler, which it notifies (one reload, after
 * the configuration files are written) and which then waits until these jails are up.
 */
export class Fail2banJails extends BaseResource<{ jails: readonly ExpectedJail[] }> {
  protected readonly kind = 'fail2ban jails';
  protected override identity() {
    return this.spec.jails.map((j) => j.name).join(', ');
  }

  facts() {
    return [fail2banFact];
  }

  plan(facts: FactSet, _ctx: PlanContext): Change[] {
    return planJails(this.spec.jails, facts.get(fail2banFact));
  }
}

const normalizeMatch = (m: string) => m.trim().replace(/\s+/g, ' ');

export function planJails(expected: readonly ExpectedJail[], state: Fail2banState): Change[] {
  const names = expected.map((j) => j.name).join(', ');
  if (!state.installed) return [{ summary: `jails ${names} should be active (fail2ban is not installed)`, actions: [] }];
  if (!state.running) {
    return [{ summary: `jails ${names} should be active: fail2ban is ${state.active} (${state.error ?? 'no answer'})`, actions: [] }];
  }
  const changes: Change[] = [];
  for (const jail of expected) {
    if (!state.jails.includes(jail.name)) {
      changes.push({ summary: `jail ${jail.name} should be active and is not (active: ${state.jails.join(', ') || 'none'})`, actions: [] });
      continue;
    }
    const status = state.status.get(jail.name);
    const running = status?.journalMatches;
    if (jail.journalmatch && running !== undefined && normalizeMatch(running) !== normalizeMatch(jail.journalmatch)) {
      changes.push({
        summary: `jail ${jail.name} runs with journal matches "${running}", configured "${jail.journalmatch}" (configuration not loaded)`,
        actions: [],
      });
    }
    if (status && status.actions.length !== jail.actions) {
      changes.push({
        summary: `jail ${jail.name} runs ${status.actions.length} ban action(s) (${status.actions.join(', ') || 'none'}), configured ${jail.actions} (configuration not loaded)`,
        actions: [],
      });
    }
  }
  return changes;
}

/**
 * Audit: with banaction ufw a ban is a ufw rule, which blocks nothing while ufw is inactive.
 * The firewall role enables ufw; this only reports it.
 */
export class Fail2banNeedsUfw extends BaseResource<Record<string, never>> {
  protected readonly kind = 'fail2ban ban action ufw needs an active ufw';
  readonly audit = true;

  facts() {
    return [fail2banFact];
  }

  plan(facts: FactSet): Change[] {
    if (facts.get(fail2banFact).ufwActive) return [];
    return [{ summary: 'ufw is not active: bans (ufw rules) would block nothing; apply the firewall role', actions: [] }];
  }
}
