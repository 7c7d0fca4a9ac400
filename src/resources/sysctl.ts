import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { normalizeSysctl, sysctlFact, type SysctlValues } from '../facts/sysctl.js';
import { RefusedError } from '../engine/errors.js';
import { sh } from '../transports/quote.js';

/**
 * Live kernel parameters (`sysctl -w`). Persistence across reboots is the job of a file in
 * /etc/sysctl.d (see the base role); this resource makes the running kernel match now.
 */
export interface SysctlSpec {
  settings: Record<string, string | number>;
}

export class Sysctl extends BaseResource<SysctlSpec> {
  protected readonly kind = 'sysctl';
  private readonly fact;
  private readonly desired: Map<string, string>;

  constructor(spec: SysctlSpec, options?: ResourceOptions) {
    super(spec, options);
    this.desired = new Map(Object.entries(spec.settings).map(([k, v]) => [k, normalizeSysctl(String(v))]));
    this.fact = sysctlFact([...this.desired.keys()]);
  }

  protected override identity() {
    return [...this.desired.keys()].join(' ');
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    return planSysctl(this.desired, facts.get(this.fact), ctx.host.name, this.id);
  }
}

export function planSysctl(desired: ReadonlyMap<string, string>, live: SysctlValues, host = '-', id = 'sysctl'): Change[] {
  const changes: Change[] = [];
  for (const [key, want] of desired) {
    const cur = live.get(key);
    if (cur === undefined) throw new RefusedError(host, id, `sysctl ${key} does not exist on this kernel (module not loaded, or a typo)`);
    if (cur === want) continue;
    changes.push({
      summary: `sysctl ${key} ${cur} -> ${want}`,
      actions: [{ kind: 'exec', script: sh(['sysctl', '-q', '-w', `${key}=${want}`]) }],
    });
  }
  return changes;
}
