import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { unitFact, type UnitState } from '../facts/systemd.js';
import { sh } from '../transports/quote.js';

export interface ServiceSpec {
  /** Unit name as systemctl takes it: "fail2ban", "apt-daily-upgrade.timer". */
  unit: string;
  enabled: boolean;
  active: boolean;
}

/** A systemd unit enabled (or not) at boot and running (or not) now. */
export class Service extends BaseResource<ServiceSpec> {
  protected readonly kind = 'service';
  private readonly fact;

  constructor(spec: ServiceSpec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = unitFact(spec.unit);
  }

  protected override identity() {
    return this.spec.unit;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, _ctx: PlanContext): Change[] {
    return planService(this.spec, facts.get(this.fact));
  }
}

// "static", "indirect", "generated" units cannot be enabled; "alias" follows its target.
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias']);

export function planService(spec: ServiceSpec, cur: UnitState): Change[] {
  const { unit } = spec;
  const changes: Change[] = [];
  const missing = cur.load === 'not-found';
  const state = (s: string) => (missing ? 'not installed' : s || 'unknown');
  if (spec.enabled !== ENABLED.has(cur.unitFile)) {
    changes.push({
      summary: `${spec.enabled ? 'enable' : 'disable'} ${unit} (${state(cur.unitFile)})`,
      actions: [{ kind: 'exec', script: sh(['systemctl', spec.enabled ? 'enable' : 'disable', '--', unit]) }],
    });
  }
  if (spec.active !== (cur.active === 'active')) {
    changes.push({
      summary: `${spec.active ? 'start' : 'stop'} ${unit} (${state(cur.active)})`,
      actions: [{ kind: 'exec', script: sh(['systemctl', spec.active ? 'start' : 'stop', '--', unit]) }],
    });
  }
  return changes;
}
