import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { inPathGroup, printed, statFailed, withBytes, type PathMember } from './paths.js';

export interface FileContent {
  path: string;
  exists: boolean;
  content?: string;
  /** Four octal digits. */
  mode?: string;
  owner?: string;
  group?: string;
}

/** A regular file's content and metadata (base64 on the wire, so any byte survives the batch framing). */
export function fileContentFact(path: string): Fact<FileContent> {
  const p = sh([path]);
  const fact = defineFact(
    'file.content',
    [path],
    `if [ -f ${p} ]; then stat -c '%a %U %G' -- ${p} && base64 -w0 -- ${p}; else echo absent; fi`,
    (out) => parseFileContent(path, out),
  );
  return inPathGroup(fact, contentMember(path));
}

/** The part of the paths probe (src/facts/paths.ts) file.content reads: what its command prints ([ -f ] follows a symlink, stat does not). */
function contentMember(path: string): PathMember {
  return {
    path,
    statFor: 'fL',
    bytesFor: 'fL',
    render(c, s, bytes) {
      if (c !== 'f' && c !== 'L') return printed('absent\n');
      if (!s) return statFailed;
      return withBytes(`${s.mode} ${s.owner} ${s.group}\n`, bytes);
    },
  };
}

export function parseFileContent(path: string, { stdout, stderr, exitCode }: ProbeOutput): FileContent {
  if (exitCode !== 0) throw new Error(`reading ${path} failed: ${stderr.trim()}`);
  const [meta = '', body = ''] = stdout.split('\n');
  if (meta.trim() === 'absent') return { path, exists: false };
  const [mode, owner, group] = meta.trim().split(' ');
  if (!mode || !owner || !group) throw new Error(`unexpected stat output: ${meta}`);
  return { path, exists: true, content: Buffer.from(body.trim(), 'base64').toString('utf8'), mode: mode.padStart(4, '0'), owner, group };
}
