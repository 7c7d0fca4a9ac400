import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource } from '../engine/resource.js';
import { compareVersions, dockerEngineFact, type DockerEngineState } from '../facts/docker.js';
import { quote } from '../transports/quote.js';

/**
 * The engine and Compose v2 answer, at or above the declared minimums. Reports both versions in
 * every mode (notes); below a minimum it is drift in --check (exit 2) and a failure in apply
 * (installing from the declared source cannot raise the version: change docker.source).
 */

export interface VersionPolicy {
  engine?: string;
  compose?: string;
}

/** An action that fails with `message`: the apply stops here, naming the problem. */
const fail = (message: string) => ({
  kind: 'exec' as const,
  script: `echo ${quote(message)} >&2; exit 1`,
  display: 'verify the installed versions',
});

export function planVersions(state: DockerEngineState, min: VersionPolicy, pending: boolean): Change[] {
  const problems: string[] = [];
  if (!state.cli) {
    if (pending) return []; // installed by a prerequisite in this run
    problems.push('the docker CLI is not installed');
  } else if (!state.engineVersion) {
    if (pending) return [];
    problems.push(`the docker engine does not answer (${state.versionError ?? 'no version'})`);
  } else if (min.engine && compareVersions(state.engineVersion, min.engine) < 0) {
    problems.push(`docker engine ${state.engineVersion} is below the declared minimum ${min.engine} (docker.min_version)`);
  }
  if (state.cli) {
    if (!state.composeVersion) {
      if (!pending) problems.push(`Compose v2 is not available: \`docker compose version\` said: ${state.composeError ?? 'nothing'}`);
    } else if (min.compose && compareVersions(state.composeVersion, min.compose) < 0) {
      problems.push(`docker compose ${state.composeVersion} is below the declared minimum ${min.compose} (docker.compose_min_version)`);
    }
  }
  return problems.map((p) => ({ summary: p, actions: [fail(p)] }));
}

export function describeVersions(state: DockerEngineState, min: VersionPolicy): string[] {
  if (!state.cli) return ['docker: not installed'];
  const engine =
    state.engineVersion ??
    `not answering (${state.versionError ?? 'no version'}${state.clientVersion ? `; client ${state.clientVersion}` : ''})`;
  const compose = state.composeVersion ?? 'missing';
  const need = (v?: string) => (v ? ` (minimum ${v})` : '');
  return [`docker engine ${engine}${need(min.engine)}, compose ${compose}${need(min.compose)}`];
}

export class DockerVersions extends BaseResource<VersionPolicy> {
  protected readonly kind = 'docker versions';
  get min(): VersionPolicy {
    return this.spec;
  }

  facts() {
    return [dockerEngineFact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    return planVersions(facts.get(dockerEngineFact), this.min, ctx.pendingPrerequisites.length > 0);
  }

  notes(facts: FactSet): string[] {
    return describeVersions(facts.get(dockerEngineFact), this.min);
  }
}
