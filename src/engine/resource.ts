import type { Action, Change, Fact, FactSet, Handler, PlanContext, Resource } from './types.js';

/**
 * The one resource contract (mitamae's ResourceExecutor::Base, in a pure form): every kind is
 * built as `new Kind(spec, { requires, notify })` and run by the engine in one fixed order:
 * facts -> plan -> guard -> apply -> notify. A kind only says what it reads (`facts`) and how the
 * difference between its spec and those facts becomes changes (`plan`); it never talks to the host.
 *
 * Prerequisites and handlers are objects, not strings: a typo cannot name a resource that does not
 * exist, and the handlers a role runs are exactly those its resources notify.
 */
export interface ResourceOptions {
  /** Earlier resources of the same role whose changes this one depends on (re-probed after them). */
  requires?: readonly Resource[];
  /** Handlers run once at the end of the role when this resource changed something. */
  notify?: readonly Handler[];
}

/** A handler: actions run once per role, after the resources, when a resource notifying it changed. */
export function handler(id: string, actions: readonly Action[]): Handler {
  return { id, actions };
}

/** "kind identity" ("directory /mnt/data", "package ufw"); just the kind for a singleton ("ufw firewall"). */
export function resourceId(kind: string, identity: string): string {
  return identity ? `${kind} ${identity}` : kind;
}

export abstract class BaseResource<Spec> implements Resource {
  /** The kind as reports name it: "file", "directory", "service". */
  protected abstract readonly kind: string;
  /** The resources required, as given. */
  readonly prerequisites: readonly Resource[];
  /** The handlers notified, as given. */
  readonly handlers: readonly Handler[];

  constructor(
    readonly spec: Spec,
    options: ResourceOptions = {},
  ) {
    this.prerequisites = options.requires ?? [];
    this.handlers = options.notify ?? [];
  }

  /** What tells this resource apart from others of its kind (a path, a unit); '' for a singleton. */
  protected identity(): string {
    return '';
  }

  /** The one place ids are made: callers never build them by hand. */
  get id(): string {
    return resourceId(this.kind, this.identity());
  }

  /** Ids of the required resources (what the engine and reports compare). */
  get requires(): readonly string[] {
    return this.prerequisites.map((r) => r.id);
  }

  /** Ids of the notified handlers. */
  get notify(): readonly string[] {
    return this.handlers.map((h) => h.id);
  }

  abstract facts(): readonly Fact<unknown>[];
  abstract plan(facts: FactSet, ctx: PlanContext): Change[];
}

/**
 * The handlers notified by `resources`, each once, in declaration order. Two different handlers
 * under one id are an error: the notify would be ambiguous.
 */
export function handlersOf(resources: readonly Resource[], extra: readonly Handler[] = []): Handler[] {
  const byId = new Map<string, Handler>();
  for (const h of [...extra, ...resources.flatMap((r) => r.handlers ?? [])]) {
    const seen = byId.get(h.id);
    if (seen && seen !== h && JSON.stringify(seen.actions) !== JSON.stringify(h.actions)) {
      throw new Error(`two different handlers are named "${h.id}"`);
    }
    if (!seen) byId.set(h.id, h);
  }
  return [...byId.values()];
}
