import { createTwoFilesPatch } from 'diff';
import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, handler, type ResourceOptions } from '../engine/resource.js';
import { fileFact, type FileState } from '../facts/file.js';
import { renderTemplate } from '../templates.js';
import { validatedWriteScript } from './file.js';
import { sh } from '../transports/quote.js';
import { RefusedError } from '../engine/errors.js';

/**
 * /etc/docker/daemon.json from the inventory's docker.daemon map, rendered through
 * templates/docker/daemon.json.hbs, parsed back as JSON and compared STRUCTURALLY with the file
 * on the host: key order, spacing and a trailing newline never count as drift, a changed value
 * does, shown as a diff of both sides in one canonical layout. A new file is checked with
 * `dockerd --validate` before it replaces the old one; the restart handler runs once.
 */

export const DAEMON_JSON = '/etc/docker/daemon.json';
export const DAEMON_TEMPLATE = 'docker/daemon.json.hbs';
export const RESTART_DOCKER = 'restart docker';
export const restartDocker = handler(RESTART_DOCKER, [
  { kind: 'exec', script: 'systemctl restart docker.service', display: 'systemctl restart docker' },
]);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sorted keys at every level, 2-space indent, trailing newline: the form diffs are shown in. */
export function canonicalJson(value: Json): string {
  const sort = (v: Json): Json =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort(v[k]!)]),
          )
        : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Structural equality: objects by keys (any order), arrays by position. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]!));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
}

/** Dotted paths whose values differ: ["log-opts.max-size", "debug"]. */
export function jsonChangedPaths(a: Json | undefined, b: Json | undefined, prefix = ''): string[] {
  const isObj = (v: Json | undefined): v is { [key: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => jsonChangedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  if (a === undefined && b === undefined) return [];
  if (a !== undefined && b !== undefined && jsonEqual(a, b)) return [];
  return [prefix || '(whole file)'];
}

/** The file's content as the template renders it (the inventory map, canonical layout). */
export function renderDaemonJson(daemon: { [key: string]: Json }): string {
  const text = renderTemplate(DAEMON_TEMPLATE, { daemon: canonicalJson(daemon).trimEnd() });
  try {
    JSON.parse(text);
  } catch (err) {
    throw new Error(`${DAEMON_TEMPLATE} rendered invalid JSON: ${(err as Error).message}\n${text}`, { cause: err });
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Checks a candidate with the installed engine (skipped before Docker is installed). */
export const VALIDATE_DAEMON_JSON = 'if command -v dockerd >/dev/null 2>&1; then dockerd --validate --config-file %s; fi';

export function planDaemonJson(rendered: string, cur: FileState, host = '-', id = `file ${DAEMON_JSON}`): Change[] {
  const want = JSON.parse(rendered) as Json;
  const write = [
    { kind: 'exec' as const, script: sh(['install', '-d', '-m', '0755', '/etc/docker']), display: 'install -d /etc/docker' },
    {
      kind: 'exec' as const,
      script: validatedWriteScript({
        path: DAEMON_JSON,
        content: rendered,
        owner: 'root',
        group: 'root',
        mode: '0644',
        validate: VALIDATE_DAEMON_JSON,
      }),
      display: `write ${DAEMON_JSON} (0644 root:root) after \`dockerd --validate\``,
    },
  ];
  if (!cur.exists) {
    return [
      {
        summary: `create ${DAEMON_JSON} (${Object.keys(want as object).join(', ') || 'empty'})`,
        diff: createTwoFilesPatch('/dev/null', DAEMON_JSON, '', rendered, '', 'declared'),
        actions: write,
      },
    ];
  }
  if (cur.type !== 'file') throw new RefusedError(host, id, `${DAEMON_JSON} is a ${cur.kind}, not a regular file; it is left alone`);
  const text = cur.content.toString('utf8');
  let have: Json | undefined;
  try {
    have = JSON.parse(text) as Json;
  } catch (err) {
    return [
      {
        summary: `${DAEMON_JSON} is not valid JSON (${(err as Error).message}): rewrite it from docker.daemon`,
        diff: createTwoFilesPatch(DAEMON_JSON, DAEMON_JSON, text, rendered, 'current', 'declared'),
        actions: write,
      },
    ];
  }
  const changes: Change[] = [];
  if (!jsonEqual(have, want)) {
    const paths = jsonChangedPaths(have, want);
    const shown = paths.slice(0, 6).join(', ') + (paths.length > 6 ? `, +${paths.length - 6} more` : '');
    changes.push({
      summary: `${DAEMON_JSON} differs from docker.daemon (${shown})`,
      // Both sides in the same canonical layout: only real differences show.
      diff: createTwoFilesPatch(DAEMON_JSON, DAEMON_JSON, canonicalJson(have), canonicalJson(want), 'current', 'declared'),
      actions: write,
    });
    return changes;
  }
  if (cur.owner !== 'root' || cur.group !== 'root') {
    changes.push({
      summary: `owner of ${DAEMON_JSON} ${cur.owner}:${cur.group} -> root:root`,
      actions: [{ kind: 'exec', script: sh(['chown', 'root:root', DAEMON_JSON]) }],
    });
  }
  if (cur.mode !== '0644') {
    changes.push({
      summary: `mode of ${DAEMON_JSON} ${cur.mode} -> 0644`,
      actions: [{ kind: 'exec', script: sh(['chmod', '0644', DAEMON_JSON]) }],
    });
  }
  return changes;
}

export class DockerDaemonConfig extends BaseResource<{ daemon: { [key: string]: Json } }> {
  protected readonly kind = 'file';
  private readonly fact = fileFact(DAEMON_JSON);
  private readonly rendered: string;

  /** Notifies `restart docker` (restartDocker) unless told otherwise. */
  constructor(spec: { daemon: { [key: string]: Json } }, options: ResourceOptions = {}) {
    super(spec, { notify: [restartDocker], ...options });
    this.rendered = renderDaemonJson(spec.daemon);
  }

  protected override identity() {
    return DAEMON_JSON;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet, ctx: { host: { name: string } }): Change[] {
    return planDaemonJson(this.rendered, facts.get(this.fact), ctx.host.name, this.id);
  }
}
