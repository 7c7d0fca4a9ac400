import { createTwoFilesPatch } from 'diff';
import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { fileContentFact } from '../facts/file-content.js';
import { redactedEnvDiff } from '../platform/secrets.js';
import { sh } from '../transports/quote.js';
import { ownershipChanges } from './changes.js';

const OWNER = 'root';

/** The stacks' files are root's; only their mode differs (.env 0600, compose.yaml 0644). */
const metadataChanges = (path: string, cur: { mode?: string; owner?: string; group?: string }, mode: string): Change[] =>
  ownershipChanges(path, cur, { owner: OWNER, group: OWNER, mode });

/**
 * A stack's .env: the secrets its compose file references, mode 600. Its diff names the
 * variables that changed and never shows a value.
 */
/** A stack's file: the stack's name, its directory on the host and the rendered content. */
export interface StackFileSpec {
  stack: string;
  dir: string;
  content: string;
}

export class StackEnvFile extends BaseResource<StackFileSpec> {
  protected readonly kind = 'env';
  readonly stack: string;
  readonly content: string;
  readonly path: string;
  private readonly fact;

  constructor(spec: StackFileSpec, options?: ResourceOptions) {
    super(spec, options);
    this.stack = spec.stack;
    this.content = spec.content;
    this.path = `${spec.dir}/.env`;
    this.fact = fileContentFact(this.path);
  }

  protected override identity() {
    return this.stack;
  }

  facts() {
    return [this.fact];
  }

  /** The file as read from the host (the stack resource compares it to find changed secrets). */
  current(facts: FactSet): string | undefined {
    return facts.get(this.fact).content;
  }

  plan(facts: FactSet): Change[] {
    const cur = facts.get(this.fact);
    if (cur.exists && cur.content === this.content) return metadataChanges(this.path, cur, '0600');
    return [
      {
        summary: cur.exists ? `.env of ${this.stack} differs (secrets changed)` : `create .env of ${this.stack} (mode 0600)`,
        diff: redactedEnvDiff(this.path, cur.content, this.content),
        actions: [{ kind: 'write', path: this.path, content: this.content, mode: '0600', owner: OWNER, group: OWNER }],
      },
    ];
  }
}

/**
 * A stack's compose.yaml. A new version is written next to it, validated with
 * `docker compose config` on the host, and only then renamed over the old one.
 */
export class StackComposeFile extends BaseResource<StackFileSpec> {
  protected readonly kind = 'compose';
  readonly stack: string;
  readonly content: string;
  readonly path: string;
  private readonly dir: string;
  private readonly fact;

  constructor(spec: StackFileSpec, options?: ResourceOptions) {
    super(spec, options);
    this.stack = spec.stack;
    this.content = spec.content;
    this.dir = spec.dir;
    this.path = `${spec.dir}/compose.yaml`;
    this.fact = fileContentFact(this.path);
  }

  protected override identity() {
    return this.stack;
  }

  facts() {
    return [this.fact];
  }

  current(facts: FactSet): string | undefined {
    return facts.get(this.fact).content;
  }

  plan(facts: FactSet): Change[] {
    const cur = facts.get(this.fact);
    if (cur.exists && cur.content === this.content) return metadataChanges(this.path, cur, '0644');
    const staged = `${this.dir}/.compose.yaml.hostkit-new`;
    const validate = [
      `cd ${sh([this.dir])}`,
      `if ! docker compose -f .compose.yaml.hostkit-new config -q; then rm -f .compose.yaml.hostkit-new; echo 'the rendered compose file was rejected by docker compose config' >&2; exit 1; fi`,
      'mv -f .compose.yaml.hostkit-new compose.yaml',
    ].join('\n');
    return [
      {
        summary: cur.exists
          ? `compose.yaml of ${this.stack} differs from the inventory`
          : `create compose.yaml of ${this.stack} (${this.content.split('\n').length - 1} lines)`,
        // A new file's diff would be the whole file: shown only for an edit.
        ...(cur.exists
          ? {
              diff: createTwoFilesPatch(this.path, `${this.path} (desired)`, cur.content ?? '', this.content, undefined, undefined, {
                context: 2,
              }),
            }
          : {}),
        actions: [
          { kind: 'write', path: staged, content: this.content, mode: '0644', owner: OWNER, group: OWNER },
          { kind: 'exec', script: validate, display: `docker compose config -q && mv into ${this.path}` },
        ],
      },
    ];
  }
}
