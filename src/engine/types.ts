import type { ZodType } from 'zod';
import type { Transport } from '../transports/types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';

/** apply changes; dry-run shows them; check audits (exit 2 on drift). */
export type Mode = 'apply' | 'dry-run' | 'check';

/** 0 ok, 1 a failure, 2 drift (--check), 130 interrupted (SIGINT/SIGTERM; 128 + 2 as shells say). */
export type ExitCode = 0 | 1 | 2 | 130;

/**
 * A fact: one read-only shell probe plus a pure parser of its output (pyinfra's model).
 * Probes run in every mode, --check included, and never change the host.
 */
export interface Fact<T> {
  /**
   * Stable key, derived from name + arguments by `defineFact` (src/facts/define.ts); equal keys
   * are probed once per host per gathering.
   */
  readonly key: string;
  /** The fact's name ("stat", "packages"); its fixtures live in test/fixtures/facts/<name>/. */
  readonly name?: string;
  /** The factory's arguments the key was derived from (fixtures replay them). */
  readonly args?: readonly unknown[];
  readonly command: string;
  parse(output: ProbeOutput): T;
  /**
   * An API fact (NPM's REST API): when set, the engine awaits it with the host's transport
   * instead of running `command` in the probe batch (concurrently with the batch). Read-only.
   */
  fetch?(transport: Transport): Promise<T>;
  /**
   * Facts of one group (path.stat of many paths, ...) are probed by ONE command in the batch
   * when there are two or more of them (src/engine/gather.ts): each still parses its own output,
   * as its own `command` would print it, so a bad one fails only the roles that read it.
   */
  readonly group?: FactGroup;
}

/**
 * How facts of one kind are probed together: the group's command for its members, and each
 * member's own output (as its fact's `command` would print it) out of the command's output.
 */
export interface FactGroup<M = unknown> {
  /** Facts whose groups have the same id are merged. */
  readonly id: string;
  /** This fact's part of the group's probe (its path, what it needs). */
  readonly member: M;
  command(members: readonly M[]): string;
  /** One output per member, in order; throws when the output is not the group's. */
  split(output: ProbeOutput, members: readonly M[]): ProbeOutput[];
}

export interface ProbeOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Gathered facts of one host, read by resources while planning. */
export interface FactSet {
  get<T>(fact: Fact<T>): T;
}

/** One step of a change: a command run on the host, or a file written atomically. */
export type Action =
  | {
      kind: 'exec';
      script: string;
      display?: string;
      /** Bytes fed to the script's stdin; `{ file }` is a file on the control machine, read when the action runs. */
      stdin?: string | Buffer | { file: string };
    }
  | { kind: 'write'; path: string; content: string; mode?: string; owner?: string; group?: string; display?: string }
  /** A step through the transport that is not a shell command (an API call over a forwarded channel). */
  | { kind: 'call'; display: string; run(transport: Transport): Promise<void> };

export interface Change {
  /** Human sentence: "allow 22/tcp (v4+v6)", "mode of /mnt/data/nginx 0777 -> 0750". */
  readonly summary: string;
  /** Unified diff or before/after text shown with --diff and --dry-run. */
  readonly diff?: string;
  readonly actions: readonly Action[];
}

/**
 * A resource (mitamae's model): reads its current state from facts, knows its desired state,
 * and plans the difference as changes. It never talks to the host itself. Every kind extends
 * BaseResource (src/engine/resource.ts): `new Kind(spec, { requires, notify })`, id derived there.
 */
export interface Resource {
  /** Unique within a role: "package ufw", "ufw rule allow 22/tcp". */
  readonly id: string;
  /** Facts this resource reads. */
  facts(): readonly Fact<unknown>[];
  /** Changes that bring the host to the desired state; [] when it already is. */
  plan(facts: FactSet, ctx: PlanContext): Change[];
  /** Ids of earlier resources in the role whose change this one depends on. */
  readonly requires?: readonly string[];
  /** Ids of the handlers to run once at the end of the role when this resource changed something. */
  readonly notify?: readonly string[];
  /** The handlers themselves; the engine runs those notified (each once, in declaration order). */
  readonly handlers?: readonly Handler[];
  /**
   * Optional guard run on the plan before anything is applied (e.g. the firewall lockout
   * guard). Throwing aborts the role on this host with nothing changed.
   */
  guard?(changes: readonly Change[], facts: FactSet, ctx: PlanContext): void;
  /** Lines describing what the resource saw (versions, counts); reported in every mode. */
  notes?(facts: FactSet, ctx: PlanContext): string[];
  /**
   * An audit reports drift that its role cannot fix by itself (exposed ports, versions). In
   * check and dry-run its changes are drift as usual. In apply none of its actions run: it is
   * evaluated after the handlers (on fresh facts when the role changed the host) and its
   * changes are reported as warnings in `notes`, with status ok.
   */
  readonly audit?: boolean;
}

export interface Handler {
  readonly id: string;
  readonly actions: readonly Action[];
}

export interface PlanContext {
  readonly host: HostConfig;
  readonly mode: Mode;
  /** Set when planning on top of a simulated (dry-run/check) prerequisite. */
  readonly pendingPrerequisites: readonly string[];
}

/**
 * "Prove a fresh login still works, else roll back" (a dead-man switch). Before the first change
 * of a protected resource is applied, `arm` snapshots what it protects and starts a timer ON THE
 * HOST that restores the snapshot after `timeoutSeconds`. After the role's handlers, the engine
 * opens a fresh connection and runs `disarm` through it; only that cancels the timer. When the
 * fresh connection fails, the host rolls back by itself; the engine waits for the deadline,
 * reconnects and runs `status` to report the rollback. See src/engine/safeguard.ts.
 */
export interface Safeguard {
  readonly id: string;
  /** Resource ids whose changes it protects. */
  readonly protects: readonly string[];
  readonly timeoutSeconds: number;
  /** Snapshot + arm the host-side timer; exit 0 when armed. */
  readonly arm: string;
  /** Run over the fresh connection: exit 0 cancelled, exit 3 the rollback already ran. */
  readonly disarm: string;
  /** Exit 0 (printing details) when the rollback ran, non-zero when it did not. */
  readonly status: string;
  /** What is restored, for messages: "the previous firewall rules". */
  readonly restores: string;
}

export interface SafeguardReport {
  id: string;
  /** confirmed: fresh connection worked, timer cancelled; reverted: the host rolled back. */
  status: 'confirmed' | 'reverted' | 'failed';
  detail: string;
}

export interface RoleBuild {
  resources: Resource[];
  /** The handlers of the resources (see handlersOf); the engine collects them from `resources` anyway. */
  handlers?: Handler[];
  safeguard?: Safeguard;
}

/** What a role's prepare may use besides its config: the run's options about the control machine. */
export type PrepareOptions = Pick<RunOptions, 'secretsFile'>;

/**
 * A role: named; reads its own input from the inventory (`config`), optionally prepares data on
 * the control machine once per run (`prepare`), and builds its resources (and handlers) for one
 * host from both. The engine keeps the config and the prepared data for the run (see
 * src/engine/role-input.ts): a role holds no state of its own.
 */
export interface Role<Config = unknown, Prepared = unknown> {
  readonly name: string;
  readonly description: string;
  /**
   * The role's input: its section of the inventory (validated and normalised by the schema slice
   * it declares next to it), or a model derived from it. Undefined: the inventory declares nothing
   * for this role, which then builds nothing. Without `config` the role reads no inventory and
   * always builds.
   */
  config?(inventory: Inventory): Config | undefined;
  /**
   * Runs once per run before any host is contacted: read and check what the role needs from
   * the control machine (secrets file, image archives). Throwing stops the run, nothing touched.
   * The result is handed to every `build` of the run.
   */
  prepare?(config: Config, options: PrepareOptions): Promise<Prepared>;
  build(config: Config, host: HostConfig, prepared: Prepared): RoleBuild;
  /**
   * A user role's own inventory section, `roles.<name>`: the loader validates (and parses) it with
   * this schema when a script runs the role. Built-in roles compose their slices into
   * src/inventory/schema.ts instead. Set by defineRole (src/roles/define.ts).
   */
  readonly schema?: ZodType;
}

export type ResourceStatus = 'ok' | 'changed' | 'would-change' | 'failed' | 'skipped';

export interface ResourceReport {
  id: string;
  status: ResourceStatus;
  changes: { summary: string; diff?: string; after?: string[] }[];
  durationMs: number;
  error?: string;
  /** What the resource saw (versions) and, for audits in apply, the drift it found. */
  notes?: string[];
}

export interface HostReport {
  host: string;
  role: string;
  mode: Mode;
  resources: ResourceReport[];
  handlers: { id: string; status: 'ran' | 'would-run' | 'failed'; error?: string }[];
  /** Set when the role armed a safeguard (apply only). */
  safeguard?: SafeguardReport;
  error?: string;
  /** With an error: the step that was running ("build", "facts", "plan", or "<resource id>: <change>"). */
  step?: string;
  /** The run was interrupted (SIGINT/SIGTERM) before this role finished: the rest was not started. */
  interrupted?: boolean;
  durationMs: number;
  stats: { connections: number; execs: number };
}

export interface RunOptions {
  mode: Mode;
  /** Show diffs in apply mode too (always on in dry-run/check). */
  diff: boolean;
  json: boolean;
  /** Hosts processed concurrently. */
  forks: number;
  /** Connection overrides. */
  local: boolean;
  limit?: string;
  inventoryPaths: string[];
  acceptNewHostKeys: boolean;
  /** --connect-timeout: overrides every host's connect_timeout. */
  connectTimeoutMs?: number;
  /** --junit FILE: write a JUnit XML report there. */
  junitFile?: string;
  /** --secrets FILE: overrides the inventory's secrets.file. */
  secretsFile?: string;
}

export type { Transport };
