import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';

export interface PackageState {
  name: string;
  installed: boolean;
  version?: string;
}

/**
 * Installed state of packages from dpkg-query (machine-readable fields, no scraping of apt's
 * prose). A package dpkg has never heard of is simply "not installed".
 */
export function packagesFact(names: readonly string[]): Fact<Map<string, PackageState>> {
  const sorted = [...new Set(names)].sort();
  return defineFact(
    'apt.packages',
    [sorted],
    `${sh(['dpkg-query', '-W', '-f=${Package}\\t${db:Status-Abbrev}\\t${Version}\\n', ...sorted])} 2>/dev/null; true`,
    ({ stdout }) => parseDpkgQuery(stdout, sorted),
  );
}

export function parseDpkgQuery(stdout: string, names: readonly string[]): Map<string, PackageState> {
  const found = new Map<string, PackageState>();
  for (const line of stdout.split('\n')) {
    const [pkg, abbrev, version] = line.split('\t');
    if (!pkg || abbrev === undefined) continue;
    const name = pkg.split(':')[0]!; // strip ":amd64"
    // "ii " = desired install, status installed. Anything else (rc, un, iU) is not usable.
    const installed = abbrev.startsWith('ii');
    found.set(name, { name, installed, ...(installed && version ? { version } : {}) });
  }
  return new Map(names.map((n) => [n, found.get(n) ?? { name: n, installed: false }]));
}
