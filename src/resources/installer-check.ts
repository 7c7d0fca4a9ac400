import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { containerHttpFact } from '../facts/container-http.js';

/**
 * No public installer: a web application whose code is there but which was never installed
 * (stock Drupal answers every page with a redirect to /core/install.php) passes a `curl -f`
 * healthcheck, so "healthy" says nothing. This audit asks the container itself, from the host,
 * for `path` and reports a redirect to the installer as drift, naming the container, the request
 * and the answer. It cannot install the application (that is its database and code, from the
 * backup and its repository): in apply it is a warning, in --check a drift (exit 2).
 */
export interface InstallerCheckSpec {
  /** "<stack>/<service>". */
  service: string;
  container: string;
  port: number;
  path: string;
  /** The installer's path: a redirect whose Location contains it means "not installed". */
  redirect: string;
  /** Host header (the service's first domain): what the proxy would send. */
  host: string;
}

export class InstallerCheck extends BaseResource<InstallerCheckSpec> {
  protected readonly kind = 'installer check';
  // An audit runs after the role's changes and handlers in apply, on fresh facts: no prerequisites.
  readonly audit = true;
  private readonly s: InstallerCheckSpec;
  private readonly fact;

  constructor(spec: InstallerCheckSpec, options?: ResourceOptions) {
    super(spec, options);
    this.s = spec;
    this.fact = containerHttpFact(spec.container, spec.port, spec.path, spec.host);
  }

  protected override identity() {
    return this.s.container;
  }

  facts() {
    return [this.fact];
  }

  notes(facts: FactSet): string[] {
    const r = facts.get(this.fact);
    if (r.state === 'answered') return [`GET ${this.request()}: ${r.status}${r.location ? ` -> ${r.location}` : ''}`];
    if (r.state === 'no-answer') return [`GET ${this.request()}: no answer (${r.error})`];
    return [];
  }

  plan(facts: FactSet): Change[] {
    const r = facts.get(this.fact);
    // A missing or stopped container is the stack's drift, reported there.
    if (r.state !== 'answered') return [];
    const installer = r.status >= 300 && r.status < 400 && r.location?.includes(this.s.redirect);
    if (!installer) return [];
    return [
      {
        summary: `${this.s.container} (${this.s.service}) is not installed: GET ${this.request()} answers ${r.status} to ${r.location} (a public installer); install the application (its database and code), its healthcheck passes anyway`,
        actions: [],
      },
    ];
  }

  private request(): string {
    return `${this.s.path} of ${this.s.container}:${this.s.port} (Host: ${this.s.host})`;
  }
}
