import { basename } from 'node:path';
import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { imageOf, imagesFact } from '../facts/images.js';
import { sh } from '../transports/quote.js';
import { driftsWithOneAction } from './changes.js';

/** An image of a `docker save` tarball: the reference services use, its tag and id in the archive. */
export interface ArchiveImage {
  ref: string;
  archiveTag: string;
  id: string;
}

/**
 * Images from a tarball on the control machine (a server without a registry): transferred and
 * `docker load`ed only when an image's id on the host differs from the archive's, then tagged
 * with the reference the compose files use.
 */
export interface ImageArchiveSpec {
  /** The `docker save` tarball on the control machine. */
  archive: string;
  images: ArchiveImage[];
}

export class ImageArchive extends BaseResource<ImageArchiveSpec> {
  protected readonly kind = 'images from';
  private readonly archive: string;
  private readonly images: ArchiveImage[];
  private readonly fact;

  constructor(spec: ImageArchiveSpec, options?: ResourceOptions) {
    super(spec, options);
    this.archive = spec.archive;
    this.images = spec.images;
    this.fact = imagesFact();
  }

  protected override identity() {
    return basename(this.archive);
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    const state = facts.get(this.fact);
    const stale = this.images.filter((i) => imageOf(state, i.ref)?.id !== i.id);
    if (stale.length === 0) return [];
    const tags = stale.filter((i) => i.archiveTag !== i.ref).map((i) => sh(['docker', 'tag', i.archiveTag, i.ref]));
    return driftsWithOneAction(
      stale.map((i) => {
        const cur = imageOf(state, i.ref);
        return {
          summary: `image ${i.ref} ${cur ? `is ${short(cur.id)}, archive has ${short(i.id)}` : 'absent'}: load from ${basename(this.archive)}`,
        };
      }),
      [
        {
          kind: 'exec',
          script: ['set -e', 'docker load -q', ...tags].join('\n'),
          stdin: { file: this.archive },
          display: `docker load < ${this.archive}${tags.length ? ` && docker tag (${tags.length})` : ''}`,
        },
      ],
    );
  }
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** The label a built image carries: the hash of the build context it was built from. */
export const CONTEXT_LABEL = 'hostkit.context-hash';

/**
 * An image built on the host from a build context on the control machine (sent as a tar on
 * stdin); rebuilt only when absent or when the context changed (label hostkit.context-hash).
 */
export interface ImageBuildSpec {
  ref: string;
  /** The build context on the control machine: its directory, its tar and the hash of its content. */
  context: { dir: string; tar: string; hash: string; dockerfile?: string };
}

export class ImageBuild extends BaseResource<ImageBuildSpec> {
  protected readonly kind = 'image';
  private readonly ref: string;
  private readonly context: ImageBuildSpec['context'];
  private readonly fact;

  constructor(spec: ImageBuildSpec, options?: ResourceOptions) {
    super(spec, options);
    this.ref = spec.ref;
    this.context = spec.context;
    this.fact = imagesFact();
  }

  protected override identity() {
    return `${this.ref} (build)`;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    const cur = imageOf(facts.get(this.fact), this.ref);
    if (cur && cur.labels[CONTEXT_LABEL] === this.context.hash) return [];
    const argv = ['docker', 'build', '-q', '-t', this.ref, '--label', `${CONTEXT_LABEL}=${this.context.hash}`];
    if (this.context.dockerfile) argv.push('-f', this.context.dockerfile);
    return [
      {
        summary: `image ${this.ref} ${cur ? 'was built from another context' : 'absent'}: build from ${this.context.dir}`,
        actions: [
          {
            kind: 'exec',
            script: `${sh([...argv, '-'])} >/dev/null`,
            stdin: { file: this.context.tar },
            display: `docker build -t ${this.ref} ${this.context.dir}`,
          },
        ],
      },
    ];
  }
}

/** An image pulled from its registry when absent (tags are pinned, so presence is enough). */
export class ImagePull extends BaseResource<{ ref: string }> {
  protected readonly kind = 'image';
  private readonly ref: string;
  private readonly fact;

  constructor(spec: { ref: string }, options?: ResourceOptions) {
    super(spec, options);
    this.ref = spec.ref;
    this.fact = imagesFact();
  }

  protected override identity() {
    return this.ref;
  }

  facts() {
    return [this.fact];
  }

  plan(facts: FactSet): Change[] {
    if (imageOf(facts.get(this.fact), this.ref)) return [];
    return [{ summary: `image ${this.ref} absent: pull`, actions: [{ kind: 'exec', script: sh(['docker', 'pull', '-q', this.ref]) }] }];
  }
}
