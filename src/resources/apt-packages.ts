import type { Change, Fact, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { packagesFact, type PackageState } from '../facts/packages.js';
import { sh } from '../transports/quote.js';

/** apt-get that waits for a held dpkg lock (unattended-upgrades) instead of failing obscurely. */
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 -q';

/**
 * `apt-get update` ignores DPkg::Lock::Timeout: a lists lock held by apt-daily fails it at once
 * ("Could not get lock /var/lib/apt/lists/lock. It is held by process N (apt-get)"). Retry while
 * apt says a lock is held, for up to 5 minutes, then fail with apt's own words.
 */
export const APT_UPDATE = [
  'i=0',
  `until out=$(${APT} update 2>&1); do`,
  '  case "$out" in *"Could not get lock"*|*"Unable to lock"*) ;; *) printf "%s\\n" "$out" >&2; exit 1;; esac',
  '  i=$((i+5)); if [ $i -gt 300 ]; then printf "%s\\n" "$out" >&2; echo "apt lock still held after 300 s" >&2; exit 1; fi',
  '  sleep 5',
  'done',
].join('\n');

export interface PackagesSpec {
  /** Debian package names. */
  names: readonly string[];
  /**
   * What reports call the set ("fail2ban": "packages fail2ban"); '' for a role's one set
   * ("packages"). Default: the names themselves ("package ufw", "packages curl git").
   */
  label?: string;
}

/** Packages that must be installed (apt). Never removes anything. */
export class AptPackages extends BaseResource<PackagesSpec> {
  private readonly fact: Fact<Map<string, PackageState>>;

  constructor(spec: PackagesSpec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = packagesFact(spec.names);
  }

  protected get kind() {
    return this.spec.label === undefined && this.spec.names.length === 1 ? 'package' : 'packages';
  }

  protected override identity() {
    return this.spec.label ?? this.spec.names.join(' ');
  }

  get names(): readonly string[] {
    return this.spec.names;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    const state = facts.get(this.fact);
    const missing = this.names.filter((n) => !state.get(n)?.installed);
    if (missing.length === 0) return [];
    return [
      {
        summary: `install ${missing.join(', ')}`,
        actions: [
          {
            kind: 'exec',
            script: `${APT_UPDATE}\n${APT} install -y --no-install-recommends ${sh(missing)}`,
            display: `apt-get install ${missing.join(' ')}`,
          },
        ],
      },
    ];
  }
}
