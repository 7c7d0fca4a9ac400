import { posix } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Action, Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { fileFact, type FileState } from '../facts/file.js';
import { RefusedError } from '../engine/errors.js';
import { quote } from '../transports/quote.js';
import { ownershipChanges } from './changes.js';

export interface ManagedFileSpec {
  path: string;
  content: string;
  owner: string;
  group: string;
  /** Four octal digits. */
  mode: string;
  /**
   * A command that must accept the new content before it counts as written; on failure its
   * output is reported and the previous file stays. With "%s" it checks a temp copy before the
   * file is replaced (`visudo -cf %s`). Without, it checks the whole configuration tree the
   * file belongs to (`sshd -t`: a drop-in cannot be checked alone): the new content is put in
   * place, checked, and the previous file put back on failure, all in one host-side script that
   * runs before any reload. Files that are only valid together are a configuration unit instead
   * (config-unit.ts: all staged, checked once on a copy of the tree).
   */
  validate?: string;
}

/** Counts of added and removed lines in a unified patch. */
function patchStats(patch: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of patch.split('\n').slice(4)) {
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { added, removed };
}

/**
 * The script that writes `content` to `path` through `validate`. The content travels as base64
 * inside the script (any byte, no quoting issue); temp names start with "." and end in
 * "-XXXXXX", so no include glob (`*.conf`, `*.local`) ever reads them.
 */
export function validatedWriteScript(spec: ManagedFileSpec & { validate: string }): string {
  const { path } = spec;
  if (!path.startsWith('/')) throw new Error(`path must be absolute: ${path}`);
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const p = quote(path);
  const pre = spec.validate.includes('%s');
  const check = pre ? spec.validate.split('%s').join('"$tmp"') : spec.validate;
  const label = spec.validate.replace('%s', path);
  const lines = [
    'set -e',
    `p=${p}`,
    "tmp=''; bak=''",
    `trap 'rm -f "$tmp" "$bak"' EXIT`,
    `tmp=$(mktemp ${quote(`${dir}/.${base}.hostkit-XXXXXX`)})`,
    `printf '%s' '${Buffer.from(spec.content).toString('base64')}' | base64 -d > "$tmp"`,
    `chmod ${spec.mode} "$tmp"`,
    `chown ${quote(`${spec.owner}:${spec.group}`)} "$tmp"`,
  ];
  if (pre) {
    lines.push(
      `if ! out=$( ${check} 2>&1 ); then`,
      `  printf '%s\\n' "$out" >&2`,
      `  echo ${quote(`hostkit: \`${label}\` rejected the new ${path}; the file was left as it was`)} >&2`,
      '  exit 1',
      'fi',
      'mv -f "$tmp" "$p"; tmp=\'\'',
    );
  } else {
    lines.push(
      `if [ -e "$p" ]; then bak=$(mktemp ${quote(`${dir}/.${base}.hostkit-XXXXXX`)}); cp -p "$p" "$bak"; fi`,
      'mv -f "$tmp" "$p"; tmp=\'\'',
      `if ! out=$( ${check} 2>&1 ); then`,
      '  if [ -n "$bak" ]; then mv -f "$bak" "$p"; bak=\'\'; else rm -f "$p"; fi',
      `  printf '%s\\n' "$out" >&2`,
      `  echo ${quote(`hostkit: \`${label}\` rejected the new ${path}; the previous file was put back`)} >&2`,
      '  exit 1',
      'fi',
    );
  }
  lines.push(`sync ${quote(dir)} 2>/dev/null || true`);
  return lines.join('\n');
}

/**
 * A regular file with exact content, owner, group and mode (content from a rendered template).
 * Drift in content shows as a unified diff; the write is atomic, validated when asked.
 */
export class ManagedFile<Spec extends ManagedFileSpec = ManagedFileSpec> extends BaseResource<Spec> {
  protected readonly kind: string = 'file';
  private readonly fact;

  constructor(spec: Spec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = fileFact(spec.path);
  }

  protected override identity() {
    return this.spec.path;
  }

  facts() {
    return [this.fact];
  }

  /** How new content gets in place (a kind that writes a whole configuration unit overrides it). */
  protected writeAction(): Action {
    const { path, content, mode, owner, group, validate } = this.spec;
    if (!validate) return { kind: 'write', path, content, mode, owner, group };
    return {
      kind: 'exec',
      script: validatedWriteScript({ ...this.spec, validate }),
      display: `write ${path} (${mode} ${owner}:${group}) after \`${validate.replace('%s', path)}\``,
    };
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    return planFile(this.spec, facts.get(this.fact), this.writeAction(), ctx.host.name, this.id);
  }
}

/** Pure planner: the file's current state in, changes out. */
export function planFile(spec: ManagedFileSpec, cur: FileState, write: Action, host = '-', id = `file ${spec.path}`): Change[] {
  const { path, content, owner, group, mode } = spec;
  if (cur.exists && cur.type === 'other') {
    throw new RefusedError(host, id, `${path} exists and is a ${cur.kind}, not a regular file; it is left alone`);
  }
  if (!cur.exists) {
    return [
      {
        summary: `create ${path} (${owner}:${group} ${mode})`,
        diff: createTwoFilesPatch('/dev/null', path, '', content, '', 'declared'),
        actions: [write],
      },
    ];
  }
  if (!cur.content.equals(Buffer.from(content))) {
    const diff = createTwoFilesPatch(path, path, cur.content.toString('utf8'), content, 'current', 'declared');
    const { added, removed } = patchStats(diff);
    return [{ summary: `content of ${path} differs (+${added} -${removed} lines)`, diff, actions: [write] }];
  }
  return ownershipChanges(path, cur, { owner, group, mode });
}
