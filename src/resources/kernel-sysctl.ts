import type { Action, Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { fileFact } from '../facts/file.js';
import { normalizeSysctl, sysctlFact } from '../facts/sysctl.js';
import { containerFact } from '../facts/virt.js';
import { planFile } from './file.js';
import { planSysctl } from './sysctl.js';

export interface KernelSysctlSpec {
  /** The sysctl.d file that persists the settings. */
  path: string;
  /** Its rendered content (the settings with their reasons). */
  content: string;
  settings: Record<string, string | number>;
}

/**
 * Host-wide kernel parameters (kernel.*, fs.*, dev.*): persisted in a sysctl.d file and set live.
 * Inside a container they are the HOST's kernel (not namespaced like net.*): writing them would
 * change every other container on that host, and systemd-sysctl would re-apply the file at each
 * boot. There the resource changes nothing and its note says what is left.
 */
export class KernelSysctl extends BaseResource<KernelSysctlSpec> {
  protected readonly kind = 'kernel sysctl';
  private readonly live;
  private readonly file;
  private readonly desired: Map<string, string>;

  constructor(spec: KernelSysctlSpec, options?: ResourceOptions) {
    super(spec, options);
    this.desired = new Map(Object.entries(spec.settings).map(([k, v]) => [k, normalizeSysctl(String(v))]));
    this.live = sysctlFact([...this.desired.keys()]);
    this.file = fileFact(spec.path);
  }

  protected override identity() {
    return this.spec.path;
  }

  facts() {
    return [containerFact, this.file, this.live];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    if (facts.get(containerFact) !== 'none') return [];
    const spec = { path: this.spec.path, content: this.spec.content, owner: 'root', group: 'root', mode: '0644' };
    const write: Action = { kind: 'write', ...spec };
    return [
      ...planFile(spec, facts.get(this.file), write, ctx.host.name, this.id),
      ...planSysctl(this.desired, facts.get(this.live), ctx.host.name, this.id),
    ];
  }

  notes(facts: FactSet): string[] {
    const virt = facts.get(containerFact);
    if (virt === 'none') return [];
    return [`inside a container (${virt}): ${[...this.desired.keys()].join(', ')} belong to the host's kernel, left unset`];
  }
}
