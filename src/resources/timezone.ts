import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { timezoneFact, type TimezoneState } from '../facts/timezone.js';
import { RefusedError } from '../engine/errors.js';
import { quote } from '../transports/quote.js';

/**
 * The system time zone: the /etc/localtime symlink systemd and libc read (and the legacy
 * /etc/timezone when the host still has one). No D-Bus needed, so it also works in a chroot.
 */
export class Timezone extends BaseResource<{ zone: string }> {
  protected readonly kind = 'timezone';
  private readonly fact;

  constructor(spec: { zone: string }, options?: ResourceOptions) {
    super(spec, options);
    this.fact = timezoneFact(spec.zone);
  }

  protected override identity() {
    return this.spec.zone;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    return planTimezone(this.spec.zone, facts.get(this.fact), ctx.host.name, ctx.pendingPrerequisites.length > 0);
  }
}

export function planTimezone(zone: string, cur: TimezoneState, host = '-', pending = false): Change[] {
  // An equivalent link (UTC for Etc/UTC) is the same zone: no churn between spellings.
  const linkOk = cur.zone === zone || cur.sameAsWanted;
  const legacyOk = cur.legacy === undefined || cur.legacy === zone;
  if (linkOk && legacyOk) return [];
  if (!cur.wantedExists && !pending) {
    throw new RefusedError(host, `timezone ${zone}`, `/usr/share/zoneinfo/${zone} does not exist (unknown zone, or tzdata missing)`);
  }
  const script = [
    `ln -sfn ${quote(`/usr/share/zoneinfo/${zone}`)} /etc/localtime`,
    `if [ -f /etc/timezone ]; then printf '%s\\n' ${quote(zone)} > /etc/timezone; fi`,
  ].join('\n');
  const from = linkOk ? `/etc/timezone ${cur.legacy}` : (cur.zone ?? '(not a zoneinfo link)');
  return [
    {
      summary: `timezone ${from} -> ${zone}`,
      actions: [{ kind: 'exec', script, display: `ln -sfn /usr/share/zoneinfo/${zone} /etc/localtime` }],
    },
  ];
}
