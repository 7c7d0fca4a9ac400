import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';
import { inPathGroup, printed, statFailed, withBytes, type PathClass, type PathMember, type StatFields } from './paths.js';

export type FileState =
  | { path: string; exists: false }
  /** Something that is not a regular file (directory, symlink, device): never overwritten. */
  | { path: string; exists: true; type: 'other'; kind: string }
  | { path: string; exists: true; type: 'file'; owner: string; group: string; mode: string; content: Buffer };

/**
 * A regular file's exact bytes (base64, so any byte survives the text channel) plus owner, group
 * and mode. A symlink is reported as "other" and never followed.
 */
export function fileFact(path: string): Fact<FileState> {
  const p = quote(path);
  const fact = defineFact(
    'file.bytes',
    [path],
    `if [ -L ${p} ]; then echo 'other|symbolic link'; ` +
      `elif [ -f ${p} ]; then stat -c 'file|%U|%G|%a' -- ${p} && base64 -w0 -- ${p} && echo; ` +
      `elif [ -e ${p} ]; then stat -c 'other|%F' -- ${p}; ` +
      `else echo absent; fi`,
    ({ stdout, exitCode, stderr }) => {
      if (exitCode !== 0) throw new Error(`reading ${path} failed: ${stderr.trim()}`);
      return parseFileProbe(path, stdout);
    },
  );
  return inPathGroup(fact, fileMember(path));
}

/** The part of the paths probe (src/facts/paths.ts) file.bytes reads: what its command prints. */
function fileMember(path: string): PathMember {
  return {
    path,
    statFor: 'fe',
    bytesFor: 'f',
    render(c: PathClass, s: StatFields | undefined, bytes) {
      if (c === 'l' || c === 'L' || c === 'S') return printed('other|symbolic link\n');
      if (c === 'a') return printed('absent\n');
      if (!s) return statFailed;
      if (c === 'e') return printed(`other|${s.type}\n`);
      return withBytes(`file|${s.owner}|${s.group}|${s.mode}\n`, bytes, '\n');
    },
  };
}

export function parseFileProbe(path: string, stdout: string): FileState {
  const [head = '', body = ''] = stdout.split('\n');
  if (head === 'absent') return { path, exists: false };
  const [type, ...rest] = head.split('|');
  if (type === 'other') return { path, exists: true, type: 'other', kind: rest.join('|') };
  const [owner, group, mode] = rest;
  if (type !== 'file' || !owner || !group || !mode) throw new Error(`unexpected file probe output: ${head}`);
  if (!/^[A-Za-z0-9+/=]*$/.test(body)) throw new Error(`file probe: content of ${path} is not base64`);
  return { path, exists: true, type: 'file', owner, group, mode: mode.padStart(4, '0'), content: Buffer.from(body, 'base64') };
}
