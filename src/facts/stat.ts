import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { inPathGroup, printed, statFailed, type StatFields } from './paths.js';

/** The part of the paths probe (src/facts/paths.ts) a stat fact reads: its command's one line. */
const statMember = (path: string, line: (s: StatFields) => string) => ({
  path,
  statFor: 'lLSfe',
  bytesFor: '',
  render: (c: string, s: StatFields | undefined) => (c === 'a' ? printed('absent\n') : s ? printed(`${line(s)}\n`) : statFailed),
});

export interface PathState {
  path: string;
  exists: boolean;
  type?: 'directory' | 'file' | 'symlink' | 'other';
  owner?: string;
  group?: string;
  /** Four octal digits, e.g. "0750". */
  mode?: string;
}

/** stat(1) of one path, without following a final symlink (a symlink is never a directory). */
export function pathFact(path: string): Fact<PathState> {
  const fact = defineFact(
    'path.stat',
    [path],
    `if [ -e ${sh([path])} ] || [ -L ${sh([path])} ]; then stat -c '%F|%U|%G|%a' -- ${sh([path])}; else echo absent; fi`,
    ({ stdout, exitCode, stderr }) => {
      if (exitCode !== 0) throw new Error(`stat failed: ${stderr.trim()}`);
      return parseStat(path, stdout.trim());
    },
  );
  return inPathGroup(
    fact,
    statMember(path, (s) => `${s.type}|${s.owner}|${s.group}|${s.mode}`),
  );
}

/**
 * The same with numeric owner and group (`1000|100`): for directories owned by the uid:gid an
 * image runs as, which need not have a name on the host (stat prints UNKNOWN for those).
 */
export function pathIdsFact(path: string): Fact<PathState> {
  const fact = defineFact(
    'path.stat-ids',
    [path],
    `if [ -e ${sh([path])} ] || [ -L ${sh([path])} ]; then stat -c '%F|%u|%g|%a' -- ${sh([path])}; else echo absent; fi`,
    ({ stdout, exitCode, stderr }) => {
      if (exitCode !== 0) throw new Error(`stat failed: ${stderr.trim()}`);
      return parseStat(path, stdout.trim());
    },
  );
  return inPathGroup(
    fact,
    statMember(path, (s) => `${s.type}|${s.uid}|${s.gid}|${s.mode}`),
  );
}

export function parseStat(path: string, line: string): PathState {
  if (line === 'absent') return { path, exists: false };
  const [kind, owner, group, mode] = line.split('|');
  if (!kind || !owner || !group || !mode) throw new Error(`unexpected stat output: ${line}`);
  const type =
    kind === 'directory'
      ? 'directory'
      : kind === 'regular file' || kind === 'regular empty file'
        ? 'file'
        : kind === 'symbolic link'
          ? 'symlink'
          : 'other';
  return { path, exists: true, type, owner, group, mode: mode.padStart(4, '0') };
}
