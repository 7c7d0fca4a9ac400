import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { fileFact, type FileState } from '../facts/file.js';
import { RefusedError } from '../engine/errors.js';
import { driftsWithOneAction } from './changes.js';

export interface ConfigKey {
  key: string;
  value: string;
  /** Why it is declared: written as a comment above an appended key. */
  reason: string;
}

/** `KEY VALUE` (login.defs), `KEY=VALUE` (/etc/default files, read by sh) or `KEY = VALUE` (aide.conf). */
export type KeyStyle = 'space' | 'equals' | 'spaced-equals';

export interface ConfigKeysSpec {
  path: string;
  keys: readonly ConfigKey[];
  /** Default 'space'. */
  style?: KeyStyle;
  /** Only edit the file when it exists (another package's file: ufw's sysctl.conf). */
  ifPresent?: boolean;
}

/**
 * Some `KEY VALUE` (or `KEY=VALUE`) lines of a distribution's config file (/etc/login.defs): each declared key
 * gets its value, every other line stays as the package wrote it. Each differing key is its own
 * drift (--check names it); one atomic write repairs them all, keeping the file's owner and mode.
 */
export class ConfigKeys extends BaseResource<ConfigKeysSpec> {
  protected readonly kind = 'settings of';
  private readonly fact;

  constructor(spec: ConfigKeysSpec, options?: ResourceOptions) {
    super(spec, options);
    this.fact = fileFact(spec.path);
  }

  protected override identity() {
    return this.spec.path;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const { path, keys, style, ifPresent } = this.spec;
    if (ifPresent && !facts.get(this.fact).exists) return [];
    return planConfigKeys(path, keys, facts.get(this.fact), style, ctx.host.name, this.id);
  }
}

const activeLine = (rawKey: string, style: KeyStyle) => {
  const key = rawKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (style === 'space') return new RegExp(`^\\s*${key}\\s+(\\S.*?)\\s*$`);
  return style === 'equals' ? new RegExp(`^\\s*${key}=(.*?)\\s*$`) : new RegExp(`^\\s*${key}\\s*=\\s*(.*?)\\s*$`);
};

export function planConfigKeys(
  path: string,
  keys: readonly ConfigKey[],
  cur: FileState,
  style: KeyStyle = 'space',
  host = '-',
  id = `settings of ${path}`,
): Change[] {
  if (cur.exists && cur.type !== 'file') throw new RefusedError(host, id, `${path} is a ${cur.kind}, not a regular file; it is left alone`);
  // Absent (its package comes with this run, or was purged): created with the declared keys only.
  const file = cur.exists ? cur : { content: Buffer.from(''), mode: '0644', owner: 'root', group: 'root' };
  const text = file.content.toString('utf8').replace(/\n$/, '');
  const lines = text ? text.split('\n') : [];
  const drifts: { summary: string }[] = [];
  for (const { key, value, reason } of keys) {
    const re = activeLine(key, style);
    const line = style === 'space' ? `${key}\t${value}` : style === 'equals' ? `${key}=${value}` : `${key} = ${value}`;
    const found = lines.flatMap((l, i) => (re.test(l) ? [i] : []));
    const values = found.map((i) => re.exec(lines[i] ?? '')?.[1]);
    if (found.length && values.every((v) => v === value)) continue;
    drifts.push({ summary: `${path}: ${key} is ${values.length ? values.join(', ') : 'unset'}, declared ${value} (${reason})` });
    if (found.length) for (const i of found) lines[i] = line;
    else lines.push(`# hostkit (hardening): ${reason}`, line);
  }
  if (!drifts.length) return [];
  const content = `${lines.join('\n')}\n`;
  return driftsWithOneAction(drifts, [{ kind: 'write', path, content, mode: file.mode, owner: file.owner, group: file.group }]);
}
