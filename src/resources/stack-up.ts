import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { composeConfigHashesFact, composeProjectsFact, configHashesOf, recordComposeHashesScript } from '../facts/compose.js';
import { COMPOSE_LABEL, containersFact, describeState, projectContainers } from '../facts/containers.js';
import { imageOf, imagesFact } from '../facts/images.js';
import { runImage, secretVariable, type StackModel } from '../platform/model.js';
import { parseEnvFile } from '../platform/secrets.js';
import { sh } from '../transports/quote.js';
import { driftsWithOneAction } from './changes.js';
import { composeUpArgv, composeUpCondition } from './container-start.js';
import type { StackComposeFile, StackEnvFile } from './stack-files.js';

interface Drift {
  service: string;
  summary: string;
  /** Needs `docker compose restart` before up (running but unhealthy). */
  restart?: boolean;
}

/**
 * A stack's containers as its compose file declares them: each service's container present,
 * running, not unhealthy, created from the current configuration (compose's config hash) and
 * image; no container of the project outside the file. Repaired by `docker compose up --wait`
 * on only the drifted services (an unchanged container is never recreated), with
 * health gating: a stack that does not become healthy fails with the failing container named
 * and its last log lines, and the role stops before the next stack.
 */
export interface StackUpSpec {
  stack: StackModel;
  /** `docker compose up --wait --wait-timeout`, seconds. */
  waitTimeoutS: number;
  /** The stack's files: a change to them tells which services compose recreates. */
  files: { env: StackEnvFile; compose: StackComposeFile };
  /**
   * Every stack directory of the host (this one included): their config hashes are read in ONE
   * probe that all the stacks share. Default: this stack's alone.
   */
  hostStackDirs?: readonly string[];
}

export class StackUp extends BaseResource<StackUpSpec> {
  protected readonly kind = 'stack';
  private readonly stack: StackModel;
  private readonly waitTimeoutS: number;
  private readonly files: StackUpSpec['files'];
  private readonly hashes;
  private readonly images;

  constructor(spec: StackUpSpec, options?: ResourceOptions) {
    super(spec, options);
    this.stack = spec.stack;
    this.waitTimeoutS = spec.waitTimeoutS;
    this.files = spec.files;
    const dirs = spec.hostStackDirs ?? [spec.stack.dir];
    if (!dirs.includes(spec.stack.dir)) throw new Error(`stack ${spec.stack.name}: hostStackDirs lacks its directory ${spec.stack.dir}`);
    this.hashes = composeConfigHashesFact(dirs);
    this.images = imagesFact();
  }

  protected override identity() {
    return this.stack.name;
  }

  facts() {
    return [containersFact, this.hashes, this.images, composeProjectsFact, ...this.files.env.facts(), ...this.files.compose.facts()];
  }

  /** What compose itself says of the project (`docker compose ls`): "compose: running(4)". */
  notes(facts: FactSet): string[] {
    const project = facts.get(composeProjectsFact).projects.find((p) => p.name === this.stack.name);
    return project ? [`compose: ${project.status}`] : [];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const { stack } = this;
    const containers = projectContainers(facts.get(containersFact), stack.name);
    const hashes = configHashesOf(facts.get(this.hashes), stack.dir);
    const images = facts.get(this.images);
    const filesPending = ctx.pendingPrerequisites.some((id) => id === this.files.env.id || id === this.files.compose.id);
    const recreatedByFiles = filesPending ? this.servicesChangedByFiles(facts) : new Map<string, string>();

    const drifts: Drift[] = [];
    for (const svc of stack.services) {
      const c = containers.find((x) => x.labels[COMPOSE_LABEL.service] === svc.key);
      if (!c) {
        drifts.push({ service: svc.key, summary: `container ${svc.containerName} (service ${svc.key}) missing` });
        continue;
      }
      const reasons: string[] = [];
      let restart = false;
      if (c.status !== 'running') reasons.push(describeState(c));
      else if (c.health === 'unhealthy') {
        reasons.push('unhealthy');
        restart = true;
      }
      const want = hashes.state === 'ok' && !filesPending ? hashes.byService.get(svc.key) : undefined;
      if (want && c.labels[COMPOSE_LABEL.configHash] !== want) reasons.push('created from an older configuration (config hash differs)');
      const image = imageOf(images, runImage(svc));
      if (image && c.imageId !== image.id) reasons.push(`created from an older image of ${runImage(svc)}`);
      // Claimed only for a container created from the files now on disk: a hand-edited file
      // that was never applied says nothing about what the container runs.
      const byFiles = recreatedByFiles.get(svc.key);
      const fromDisk = hashes.state === 'ok' && c.labels[COMPOSE_LABEL.configHash] === hashes.byService.get(svc.key);
      if (byFiles && fromDisk) reasons.push(byFiles);
      if (reasons.length) drifts.push({ service: svc.key, summary: `container ${c.name} ${reasons.join('; ')}`, restart });
    }
    const declared = new Set(stack.services.map((s) => s.key));
    const unexpected = containers.filter((c) => !declared.has(c.labels[COMPOSE_LABEL.service] ?? ''));
    const extra = unexpected.map((c) => ({
      service: '',
      summary: `unexpected container ${c.name} (service ${c.labels[COMPOSE_LABEL.service]}) in project ${stack.name}: remove`,
    }));

    if (drifts.length === 0 && extra.length === 0) {
      // Files about to change, but no container affected that we can name: still converge after them.
      if (!filesPending) return hashes.state === 'ok' && !hashes.cached ? this.recordHashes(ctx) : [];
      return driftsWithOneAction(
        [{ summary: `bring ${stack.name} up to date with its new files (only changed containers are recreated)` }],
        [
          this.upAction(
            stack.services.map((s) => s.key),
            false,
            [],
          ),
        ],
      );
    }
    const services = [...new Set(drifts.map((d) => d.service))];
    const restarts = drifts.filter((d) => d.restart).map((d) => d.service);
    return driftsWithOneAction([...drifts, ...extra], [this.upAction(services, extra.length > 0, restarts)]);
  }

  /** Services whose container a pending compose.yaml or .env change would recreate, with why. */
  private servicesChangedByFiles(facts: FactSet): Map<string, string> {
    const out = new Map<string, string>();
    const envNow = parseEnvFile(this.files.env.current(facts) ?? '');
    const envWant = parseEnvFile(this.files.env.content);
    for (const svc of this.stack.services) {
      const changed = svc.environment.flatMap((e) =>
        'secret' in e && envNow.get(secretVariable(e.secret)) !== envWant.get(secretVariable(e.secret)) ? [e.secret] : [],
      );
      if (changed.length) out.set(svc.key, `uses changed secret ${[...new Set(changed)].join(', ')}: would be recreated`);
    }
    const current = this.files.compose.current(facts);
    const now = current === undefined ? undefined : (safeParse(current)?.services ?? {});
    const want = safeParse(this.files.compose.content)?.services ?? {};
    for (const svc of this.stack.services) {
      if (out.has(svc.key) || !now) continue;
      if (!isDeepStrictEqual(now[svc.key], want[svc.key])) out.set(svc.key, 'has a changed compose definition: would be recreated');
    }
    return out;
  }

  /**
   * A converged stack whose config hashes are not recorded (deployed before the record existed,
   * or compose upgraded): apply records them, so --check reads the record instead of running
   * compose. Not drift: --check never reports it (the answer it gives is compose's own).
   */
  private recordHashes(ctx: PlanContext): Change[] {
    if (ctx.mode === 'check') return [];
    const script = recordComposeHashesScript(this.stack.dir);
    return [
      {
        summary: `record compose's config hashes of ${this.stack.name} (read by --check instead of running compose)`,
        actions: [{ kind: 'exec', script, display: `docker compose config --hash '*' (in ${this.stack.dir}) -> record` }],
      },
    ];
  }

  private upAction(services: string[], removeOrphans: boolean, restarts: string[]) {
    const all = services.length === 0 || services.length === this.stack.services.length;
    const up = composeUpArgv(this.waitTimeoutS);
    if (removeOrphans) up.push('--remove-orphans');
    // Only the drifted services: compose starts their dependencies if needed and leaves every
    // other container alone. (--no-deps would be worse: compose drops the depends_on entries
    // outside the selection from the config, so the recreated container gets a wrong hash.)
    if (!all) up.push(...services);
    const script = [
      `cd ${sh([this.stack.dir])} || exit 1`,
      ...(restarts.length ? [`${sh(['docker', 'compose', 'restart', ...restarts])} >/dev/null 2>&1`] : []),
      'log=$(mktemp)',
      // Its config hashes recorded for --check (src/facts/compose.ts), from the files it ran on.
      `if ${composeUpCondition(up, '"$log"')}; then rm -f "$log"; ${recordComposeHashesScript(this.stack.dir)}
exit 0; fi`,
      failureDigest(this.stack.name),
    ].join('\n');
    return { kind: 'exec' as const, script, display: `${up.join(' ')} (in ${this.stack.dir})` };
  }
}

/**
 * The last texts parsed, by text: every host of a run plans the same rendered compose.yaml (at 70
 * services this parse was a quarter of a 1,000-host audit's control CPU). Read only, never mutated.
 */
const parsed = new Map<string, { services?: Record<string, unknown> } | undefined>();

function safeParse(text: string): { services?: Record<string, unknown> } | undefined {
  if (parsed.has(text)) return parsed.get(text);
  let doc: { services?: Record<string, unknown> } | undefined;
  try {
    doc = parse(text) as { services?: Record<string, unknown> };
  } catch {
    doc = undefined;
  }
  if (parsed.size >= 64) parsed.clear();
  parsed.set(text, doc);
  return doc;
}

/**
 * After a failed `up --wait`: compose's last line, every failing container of the project (from
 * its labels, not its name), and the last log lines of the first one, in at most 8 lines of
 * stderr (what an error report keeps).
 */
export function failureDigest(project: string): string {
  const filter = sh([`label=${COMPOSE_LABEL.project}=${project}`]);
  return [
    'echo "docker compose up failed: $(tail -n 1 "$log")" >&2; rm -f "$log"',
    'first=""; list=""; snap=""',
    // ONE snapshot of the states: a container in a restart loop changes state between two looks
    // (it was listed twice, or not at all). `index`: a container without a healthcheck has no Health key.
    `for id in $(docker ps -aq --no-trunc --filter ${filter}); do`,
    `  snap="$snap$(docker inspect -f '{{.Name}} {{.State.Status}} {{with index .State "Health"}}{{.Status}}{{end}}|{{.RestartCount}}' "$id")
"`,
    'done',
    // Crashed first (a restart loop: the image refused to start), then unhealthy (never became
    // healthy); "created" ones wait on those.
    'for want in restarting exited dead unhealthy starting created; do',
    `  while IFS='|' read -r state restarts; do`,
    '    set -- $state; name=${1#/} status=$2 health=${3:-}',
    '    [ -n "$name" ] || continue',
    // Between two restarts a crash-looping container is "running" (without a health status yet).
    '    [ "${restarts:-0}" -gt 0 ] && [ "$health" != healthy ] && status=restarting',
    '    case $status in restarting | exited | dead) st=$status ;; *) st=${health:-$status} ;; esac',
    '    [ "$st" = "$want" ] || continue',
    '    list="$list $name ($status${health:+, $health})"; [ -n "$first" ] || first=$name',
    `  done <<EOF`,
    '$snap',
    'EOF',
    'done',
    'echo "failing containers:${list:- none found}" >&2',
    '[ -z "$first" ] || { echo "last log lines of $first:" >&2; docker logs --tail 5 "$first" 2>&1 | sed "s/^/  /" >&2; }',
    'exit 1',
  ].join('\n');
}
