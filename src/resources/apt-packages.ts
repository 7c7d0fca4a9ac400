import type { Change, Fact, FactSet, Resource } from '../engine/types.js';
import { packagesFact, type PackageState } from '../facts/packages.js';
import { sh } from '../transports/quote.js';

/** apt-get that waits for a held dpkg lock (unattended-upgrades) instead of failing obscurely. */
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 -q';

/** Packages that must be installed. Never removes anything. */
export class AptPackages implements Resource {
  readonly id: string;
  private readonly fact: Fact<Map<string, PackageState>>;

  constructor(readonly names: readonly string[], id?: string) {
    this.id = id ?? `packages ${names.join(' ')}`;
    this.fact = packagesFact(names);
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
            script: `${APT} update && ${APT} install -y --no-install-recommends ${sh(missing)}`,
            display: `apt-get install ${missing.join(' ')}`,
          },
        ],
      },
    ];
  }
}
