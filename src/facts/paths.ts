import type { FactGroup, ProbeOutput } from '../engine/types.js';
import { quote } from '../transports/quote.js';
import { tarMembers } from './tar-members.js';

/**
 * ONE probe for every path fact of a batch (path.stat, path.stat-ids, file.bytes, file.content):
 * a probe per path cost a fork, a stat and a base64 each (~100 of them in a full audit). Here each
 * path is classified by the shell's own tests (builtins, as each fact's command tests it), the
 * paths that need it go to ONE stat, the files whose bytes are needed to one base64 each, and
 * `splitPaths` gives every fact the output its own command would have printed, which its own
 * parser reads (so a bad one fails only the roles that read that fact).
 *
 * A path's class, from the tests of the facts' commands (none follows a final symlink but -f/-e):
 * a absent, l dangling symlink, L symlink to a regular file, S symlink to something else,
 * f regular file, e anything else that exists.
 */
export type PathClass = 'a' | 'l' | 'L' | 'S' | 'f' | 'e';

/** One stat for every path: the fields every kind prints, then the name (known, so never parsed). */
const STAT_FORMAT = '%F|%U|%G|%a|%u|%g|%n';
export interface StatFields {
  /** %F, %U, %G, %a, %u, %g */
  type: string;
  owner: string;
  group: string;
  mode: string;
  uid: string;
  gid: string;
}

/** A fact's part of the probe: its path, the classes for which it needs stat or the bytes, and its own output from them. */
export interface PathMember {
  path: string;
  statFor: string;
  bytesFor: string;
  /** What the fact's own command prints: stat's fields (undefined when stat failed) and the base64 of the bytes. */
  render(c: PathClass, stat: StatFields | undefined, bytes: { base64: string; exitCode: number } | undefined): ProbeOutput;
}

const MARK = '@@hostkit-paths';

/** The group of the path facts: one id, so every path fact of a batch is in it. */
export function pathGroup(member: PathMember): FactGroup<PathMember> | undefined {
  // stat prints one line per path: a path with a newline keeps its own probe.
  if (member.path.includes('\n')) return undefined;
  return { id: 'host.paths', member, command: pathsCommand, split: splitPaths };
}

/** Each distinct path once, with what any of its facts needs. */
function distinctPaths(members: readonly PathMember[]): { path: string; statFor: string; bytesFor: string }[] {
  const byPath = new Map<string, { path: string; statFor: string; bytesFor: string }>();
  for (const m of members) {
    const seen = byPath.get(m.path) ?? { path: m.path, statFor: '', bytesFor: '' };
    byPath.set(m.path, { path: m.path, statFor: seen.statFor + m.statFor, bytesFor: seen.bytesFor + m.bytesFor });
  }
  return [...byPath.values()];
}

const classes = (s: string) => [...new Set(s)].sort().join('');

export function pathsCommand(members: readonly PathMember[]): string {
  const paths = distinctPaths(members);
  const lines = [
    '__cls() { if [ -L "$1" ]; then if [ -f "$1" ]; then c=L; elif [ -e "$1" ]; then c=S; else c=l; fi; elif [ -f "$1" ]; then c=f; elif [ -e "$1" ]; then c=e; else c=a; fi; }',
    '__c=; set --',
  ];
  paths.forEach((p, i) => {
    const q = quote(p.path);
    const stat = classes(p.statFor);
    lines.push(`__cls ${q}; c${i}=$c; __c=$__c$c${stat ? `; case $c in [${stat}]) set -- "$@" ${q};; esac` : ''}`);
  });
  lines.push(`printf '%s\\n' "$__c"`, `[ $# -eq 0 ] || stat -c '${STAT_FORMAT}' -- "$@"; printf '\\n${MARK} stat %s\\n' "$?"`);
  // The files whose bytes are needed, in order, into ONE tar (a base64 per file cost a fork each).
  const files: string[] = ['__b=; set --'];
  const each: string[] = [];
  paths.forEach((p, i) => {
    const bytes = classes(p.bytesFor);
    if (!bytes) return;
    const q = quote(p.path);
    files.push(`case $c${i} in [${bytes}]) __b="$__b ${i}"; set -- "$@" ${q};; esac`);
    each.push(`case $c${i} in [${bytes}]) printf '${MARK} bytes ${i}\\n'; base64 -w0 -- ${q}; printf '\\n${MARK} rc %s\\n' "$?";; esac`);
  });
  if (each.length > 0) {
    lines.push(
      ...files,
      '__rc=1',
      'if [ $# -gt 0 ] && command -v tar >/dev/null 2>&1; then',
      // -h and --hard-dereference: every member is its file's bytes (a symlink's target, a second
      // hard link too); -P keeps the names. tar's exit code comes out on fd 4, base64's text on 3.
      `  printf '${MARK} tar%s\\n' "$__b"; exec 3>&1`,
      '  __rc=$( { { tar -chPf - --hard-dereference --no-recursion -- "$@"; echo $? >&4; } | base64 -w0 >&3; } 4>&1 )',
      `  printf '\\n${MARK} tar-rc %s\\n' "$__rc"`,
      'fi',
      // A file that could not be read, changed while read (tar pads it) or no tar: each file's own base64.
      'if [ $# -gt 0 ] && [ "$__rc" != 0 ]; then',
      ...each.map((l) => `  ${l}`),
      'fi',
    );
  }
  lines.push(`printf '${MARK} done\\n'`);
  return lines.join('\n');
}

/**
 * The bytes of the tar frame (pathsCommand): the members are the files in the frame's order, so
 * a whole archive (tar exited 0) of exactly that many members gives each file its bytes; a member
 * that is not a regular file (replaced by a directory meanwhile) reads as base64's own failure.
 */
function bytesFromTar(
  stdout: string,
  from: number,
  paths: readonly { path: string }[],
): Map<string, { base64: string; exitCode: number }> | undefined {
  const frame = new RegExp(`${MARK} tar((?: \\d+)*)\\n([A-Za-z0-9+/=]*)\\n${MARK} tar-rc (\\d+)\\n`, 'y');
  const at = stdout.indexOf(`${MARK} tar`, from);
  if (at < 0) return undefined;
  frame.lastIndex = at;
  const m = frame.exec(stdout);
  if (m?.[3] !== '0') return undefined;
  const order = (m[1] ?? '').trim().split(' ').map(Number);
  const members = tarMembers(Buffer.from(m[2] ?? '', 'base64'));
  if (members.length !== order.length) throw new Error(`the paths probe's tar has ${members.length} members for ${order.length} files`);
  const bytes = new Map<string, { base64: string; exitCode: number }>();
  order.forEach((index, k) => {
    const p = paths[index];
    const member = members[k]!;
    if (!p) throw new Error(`the paths probe's tar names no path ${index}`);
    bytes.set(
      p.path,
      member.type === '0' || member.type === '\0' ? { base64: member.data.toString('base64'), exitCode: 0 } : { base64: '', exitCode: 1 },
    );
  });
  return bytes;
}

/** Each member's own output out of the paths probe's (see pathsCommand). */
export function splitPaths(output: ProbeOutput, members: readonly PathMember[]): ProbeOutput[] {
  const paths = distinctPaths(members);
  const { stdout, stderr } = output;
  if (!stdout.endsWith(`${MARK} done\n`)) throw new Error(`the paths probe's output is cut short: ${stdout.slice(-200)}`);
  const nl = stdout.indexOf('\n');
  const cls = stdout.slice(0, nl);
  if (cls.length !== paths.length || !/^[alLSfe]*$/.test(cls))
    throw new Error(`the paths probe's classes are not ${paths.length}: ${cls.slice(0, 200)}`);
  const statEnd = stdout.indexOf(`\n${MARK} stat `, nl);
  if (statEnd < 0) throw new Error("the paths probe's output has no stat frame");
  const statLines = stdout.slice(nl + 1, statEnd).split('\n');
  // stat prints the paths that need it in order; one it could not stat (gone meanwhile) has no line.
  const fields = new Map<string, StatFields>();
  let next = 0;
  paths.forEach((p, i) => {
    if (!p.statFor.includes(cls[i]!)) return;
    const line = statLines[next] ?? '';
    const suffix = `|${p.path}`;
    if (!line.endsWith(suffix)) return;
    next++;
    const [type = '', owner = '', group = '', mode = '', uid = '', gid = '', ...rest] = line.slice(0, -suffix.length).split('|');
    if (rest.length === 0 && gid !== '') fields.set(p.path, { type, owner, group, mode, uid, gid });
  });
  let bytes = bytesFromTar(stdout, statEnd, paths);
  if (!bytes) {
    bytes = new Map();
    const frame = new RegExp(`${MARK} bytes (\\d+)\\n([A-Za-z0-9+/=]*)\\n${MARK} rc (\\d+)\\n`, 'g');
    for (const m of stdout.slice(statEnd).matchAll(frame)) {
      const p = paths[Number(m[1])];
      if (p) bytes.set(p.path, { base64: m[2] ?? '', exitCode: Number(m[3]) });
    }
  }
  return members.map((m) => {
    const c = cls[paths.findIndex((p) => p.path === m.path)] as PathClass;
    const out = m.render(c, fields.get(m.path), bytes.get(m.path));
    // A failure's words are in the probe's stderr, shared by its paths: those naming this one.
    if (out.exitCode === 0) return out;
    // tar's words are of the one archive its failure replaced by each file's own base64: not this fact's.
    const own = stderr.split('\n').filter((l) => l.includes(m.path) && !l.startsWith('tar: '));
    return { ...out, stderr: own.length > 0 ? `${own.join('\n')}\n` : stderr };
  });
}

/** A member's output when stat failed for its path: its command would have exited 1. */
export const statFailed: ProbeOutput = { stdout: '', stderr: '', exitCode: 1 };
export const printed = (stdout: string): ProbeOutput => ({ stdout, stderr: '', exitCode: 0 });

/**
 * A file fact's output from its head line and the file's base64 (then `tail`), as `stat ... &&
 * base64 ...` prints it: a read that failed keeps what base64 printed and its exit code.
 */
export function withBytes(head: string, bytes: { base64: string; exitCode: number } | undefined, tail = ''): ProbeOutput {
  if (bytes?.exitCode !== 0) return { stdout: head + (bytes?.base64 ?? ''), stderr: '', exitCode: bytes?.exitCode || 1 };
  return printed(head + bytes.base64 + tail);
}

/** A fact with its path's member in the paths group (when it can be). */
export function inPathGroup<F extends object>(fact: F, member: PathMember): F {
  const group = pathGroup(member);
  return group ? { ...fact, group } : fact;
}
