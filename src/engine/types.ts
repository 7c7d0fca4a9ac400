import type { Transport } from '../transports/types.js';
import type { HostConfig, Inventory } from '../inventory/types.js';

/** apply changes; dry-run shows them; check audits (exit 2 on drift). */
export type Mode = 'apply' | 'dry-run' | 'check';

/**
 * A fact: one read-only shell probe plus a pure parser of its output (pyinfra's model).
 * Probes run in every mode, --check included, and never change the host.
 */
export interface Fact<T> {
  /** Stable key; equal keys are probed once per host per gathering. */
  readonly key: string;
  readonly command: string;
  parse(output: ProbeOutput): T;
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
  | { kind: 'exec'; script: string; display?: string }
  | { kind: 'write'; path: string; content: string; mode?: string; owner?: string; group?: string; display?: string };

export interface Change {
  /** Human sentence: "allow 22/tcp (v4+v6)", "mode of /mnt/data/nginx 0777 -> 0750". */
  readonly summary: string;
  /** Unified diff or before/after text shown with --diff and --dry-run. */
  readonly diff?: string;
  readonly actions: readonly Action[];
}

/**
 * A resource (mitamae's model): reads its current state from facts, knows its desired state,
 * and plans the difference as changes. It never talks to the host itself.
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
  /** Handlers to run once at the end of the role when this resource changed something. */
  readonly notify?: readonly string[];
  /**
   * Optional guard run on the plan before anything is applied (e.g. the firewall lockout
   * guard). Throwing aborts the role on this host with nothing changed.
   */
  guard?(changes: readonly Change[], facts: FactSet, ctx: PlanContext): void;
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

/** A role: named, builds its resources (and handlers) from the inventory for one host. */
export interface Role {
  readonly name: string;
  readonly description: string;
  build(inventory: Inventory, host: HostConfig): { resources: Resource[]; handlers?: Handler[] };
}

export type ResourceStatus = 'ok' | 'changed' | 'would-change' | 'failed' | 'skipped';

export interface ResourceReport {
  id: string;
  status: ResourceStatus;
  changes: { summary: string; diff?: string; after?: string[] }[];
  durationMs: number;
  error?: string;
}

export interface HostReport {
  host: string;
  role: string;
  mode: Mode;
  resources: ResourceReport[];
  handlers: { id: string; status: 'ran' | 'would-run' | 'failed'; error?: string }[];
  error?: string;
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
  yes: boolean;
  /** Connection overrides. */
  local: boolean;
  limit?: string;
  inventoryPaths: string[];
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  verbose: boolean;
}

export type { Transport };
