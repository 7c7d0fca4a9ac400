import { posix } from 'node:path';
import type { Action } from '../engine/types.js';
import type { ResourceOptions } from '../engine/resource.js';
import { quote } from '../transports/quote.js';
import { ManagedFile, type ManagedFileSpec } from './file.js';

/** One file of a configuration unit: exact content, owner, group, mode. */
export interface UnitFile {
  path: string;
  content: string;
  owner: string;
  group: string;
  /** Four octal digits. */
  mode: string;
}

/**
 * A service's configuration as ONE unit: every file the role manages in a tree (/etc/fail2ban),
 * written to a staging copy of the tree, checked there together by one run of the service's own
 * checker, and only then renamed into the live tree. The order of the files never matters: a
 * drop-in that only works next to another (fail2ban's filter.d/sshd.local beside jail.local on
 * Debian 12, whose stock sshd jail fails the check alone) is never checked without it.
 */
export interface ConfigUnitSpec {
  /** The configuration tree, e.g. "/etc/fail2ban". */
  root: string;
  /** The checker of the whole tree as run on the live one, e.g. "fail2ban-client -t" ... */
  validate: string;
  /** ... and its option that points it at another copy of the tree ("-c"): it runs as `validate dirOption <copy>`. */
  dirOption: string;
  /** Every managed file of the unit, absolute paths under root. */
  files: UnitFile[];
}

export interface ConfigUnitFileSpec extends ManagedFileSpec {
  /** The unit the file belongs to: any of its files that differs writes them all, checked together. */
  unit: ConfigUnitSpec;
}

const relativeTo = (root: string, path: string): string => {
  const rel = posix.relative(root, path);
  if (!posix.isAbsolute(path) || rel === '' || rel.startsWith('..') || posix.isAbsolute(rel)) {
    throw new Error(`configuration unit ${root}: ${path} is not a file under it`);
  }
  return rel;
};

/**
 * The host-side script that installs a unit. The staging copy lies beside the live tree (same
 * filesystem: each final rename is atomic; a hidden name no include glob reads) and is removed
 * on exit. When every file already has its content it only exits (a second member of the unit
 * planned before the first one wrote them all). On rejection the checker's output and the new
 * files are named and the live tree is untouched.
 */
export function stagedUnitScript(unit: ConfigUnitSpec): string {
  const root = posix.normalize(unit.root).replace(/\/$/, '');
  if (!root.startsWith('/') || root === '/') throw new Error(`configuration unit root must be an absolute directory: ${unit.root}`);
  const files = unit.files.map((f) => ({ ...f, rel: relativeTo(root, f.path) }));
  const lines = [
    'set -e',
    `root=${quote(root)}`,
    "stage=''",
    `trap 'rm -rf "$stage"' EXIT`,
    `[ -d "$root" ] || { echo "hostkit: $root does not exist (is its package installed?)" >&2; exit 1; }`,
    `stage=$(mktemp -d ${quote(`${posix.dirname(root)}/.${posix.basename(root)}.hostkit-XXXXXX`)})`,
    'cp -a "$root/." "$stage/"',
    "changed=''; n=0",
  ];
  for (const f of files) {
    lines.push(
      `f=${quote(f.rel)}`,
      'mkdir -p "$stage/$(dirname "$f")"',
      `printf '%s' '${Buffer.from(f.content).toString('base64')}' | base64 -d > "$stage/$f"`,
      `chmod ${f.mode} "$stage/$f"`,
      `chown ${quote(`${f.owner}:${f.group}`)} "$stage/$f"`,
      'if ! cmp -s "$stage/$f" "$root/$f"; then changed="${changed:+$changed, }$root/$f"; n=$((n+1)); fi',
    );
  }
  const label = `${unit.validate} ${unit.dirOption} <staging copy of ${root}>`;
  lines.push(
    '[ "$n" -gt 0 ] || exit 0',
    `if ! out=$( ${unit.validate} ${unit.dirOption} "$stage" 2>&1 ); then`,
    `  printf '%s\\n' "$out" | sed "s|$stage|$root|g" >&2`,
    '  if [ "$n" -gt 1 ]; then was="files were"; else was="file was"; fi',
    `  echo "hostkit: \\\`${unit.validate}\\\` rejected the new $changed; the previous $was put back (all ${files.length} managed files were checked together on a staging copy: $root is unchanged)" >&2`,
    '  exit 1',
    'fi',
    `# ${label} accepted the unit: rename each file into the live tree.`,
  );
  for (const f of files) lines.push(`f=${quote(f.rel)}`, 'mkdir -p "$root/$(dirname "$f")"', 'mv -f "$stage/$f" "$root/$f"');
  lines.push('sync "$root" 2>/dev/null || true');
  return lines.join('\n');
}

/**
 * A file of a configuration unit: its drift (content as a diff, owner, mode) is its own, so
 * --check names each file; its content is written by installing the whole unit.
 */
export class ConfigUnitFile extends ManagedFile<ConfigUnitFileSpec> {
  constructor(spec: ConfigUnitFileSpec, options?: ResourceOptions) {
    super(spec, options);
    if (!spec.unit.files.some((f) => f.path === spec.path))
      throw new Error(`${spec.path} is not one of the files of its unit ${spec.unit.root}`);
    relativeTo(spec.unit.root, spec.path);
  }

  protected override writeAction(): Action {
    const { unit } = this.spec;
    const names = unit.files.map((f) => relativeTo(unit.root, f.path)).join(', ');
    return {
      kind: 'exec',
      script: stagedUnitScript(unit),
      display: `write ${unit.root}/{${names}} as one unit after \`${unit.validate} ${unit.dirOption} <staging copy>\``,
    };
  }
}

/** The unit's files as resources, in the order given (which does not matter for the check). */
export function configUnitFiles(unit: Omit<ConfigUnitSpec, 'files'>, files: UnitFile[], options?: ResourceOptions): ConfigUnitFile[] {
  const spec: ConfigUnitSpec = { ...unit, files };
  return files.map((f) => new ConfigUnitFile({ ...f, validate: unit.validate, unit: spec }, options));
}
