import type { Action, Change, Fact, FactSet, PlanContext, Resource } from '../engine/types.js';
import { fileFact } from '../facts/file.js';
import { normalizeSysctl, sysctlFact } from '../facts/sysctl.js';
import { planFile } from './file.js';
import { planSysctl } from './sysctl.js';

/** `systemd-detect-virt --container`: "none" on a VM or bare metal, else the container kind. */
export const containerFact: Fact<string> = {
  key: 'virt:container',
  command: 'systemd-detect-virt --container 2>/dev/null || true',
  parse: ({ stdout }) => stdout.trim() || 'none',
};

/**
 * Host-wide kernel parameters (kernel.*, fs.*, dev.*): persisted in a sysctl.d file and set live.
 * Inside a container they are the HOST's kernel (not namespaced like net.*): writing them would
 * change every other container on that host, and systemd-sysctl would re-apply the file at each
 * boot. There the resource changes nothing and its note says what is left.
 */
export class KernelSysctl implements Resource {
  readonly id: string;
  private readonly live;
  private readonly file;
  private readonly desired: Map<string, string>;

  constructor(
    readonly path: string,
    readonly content: string,
    settings: Record<string, string | number>,
  ) {
    this.desired = new Map(Object.entries(settings).map(([k, v]) => [k, normalizeSysctl(String(v))]));
    this.id = `kernel sysctl ${path}`;
    this.live = sysctlFact([...this.desired.keys()]);
    this.file = fileFact(path);
  }

  facts() {
    return [containerFact, this.file, this.live];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    if (facts.get(containerFact) !== 'none') return [];
    const spec = { path: this.path, content: this.content, owner: 'root', group: 'root', mode: '0644' };
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
