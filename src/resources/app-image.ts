import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { imageOf, imagesFact } from '../facts/images.js';
import { sh } from '../transports/quote.js';

/** The OCI labels a built application image carries: the commit it was built from and its repository. */
export const REVISION_LABEL = 'org.opencontainers.image.revision';
export const SOURCE_LABEL = 'org.opencontainers.image.source';

/**
 * A service's application image, built on the host from its repository at one commit: the
 * control machine resolved the ref and sends `git archive` of that commit as the build context
 * (stdin of `docker build -`), so the server needs no route to the remote. Rebuilt only when
 * the image is absent or labelled with another commit; --check names both commits. The stack's
 * containers then see a newer image and only that service is recreated.
 */
export interface AppImageSpec {
  /** The tag compose runs (hostkit-app/<container>:git). */
  tag: string;
  /** "<stack>/<service>", for the messages. */
  service: string;
  git: string;
  ref: string;
  commit: string;
  /** `git archive` of the commit, on the control machine. */
  tar: string;
  dockerfile: string;
}

const short = (commit: string | undefined) => (commit ? commit.slice(0, 12) : 'no commit label');

export class AppImage extends BaseResource<AppImageSpec> {
  protected readonly kind = 'app image';
  private readonly s: AppImageSpec;
  private readonly fact;

  constructor(spec: AppImageSpec, options?: ResourceOptions) {
    super(spec, options);
    this.s = spec;
    this.fact = imagesFact();
  }

  protected override identity() {
    return this.s.tag;
  }

  facts() {
    return [this.fact];
  }

  /** Which commit the host's image was built from, in every mode. */
  notes(facts: FactSet): string[] {
    const cur = imageOf(facts.get(this.fact), this.s.tag);
    return [
      `${this.s.service}: ${this.s.git}#${this.s.ref} is ${short(this.s.commit)}; deployed: ${cur ? short(cur.labels[REVISION_LABEL]) : 'none'}`,
    ];
  }

  plan(facts: FactSet): Change[] {
    const { tag, git, ref, commit, dockerfile } = this.s;
    const cur = imageOf(facts.get(this.fact), tag);
    const deployed = cur?.labels[REVISION_LABEL];
    if (deployed === commit) return [];
    const argv = [
      'docker',
      'build',
      '-q',
      '-t',
      tag,
      '-f',
      dockerfile,
      '--label',
      `${REVISION_LABEL}=${commit}`,
      '--label',
      `${SOURCE_LABEL}=${git}`,
      '-',
    ];
    return [
      {
        summary: cur
          ? `image ${tag} of ${this.s.service} was built from commit ${short(deployed)}, ${git}#${ref} is ${short(commit)}: rebuild`
          : `image ${tag} of ${this.s.service} absent: build ${git}#${ref} (${short(commit)})`,
        actions: [
          {
            kind: 'exec',
            script: `${sh(argv)} >/dev/null`,
            stdin: { file: this.s.tar },
            display: `docker build -t ${tag} ${git}#${ref} (${short(commit)}, sent as a context)`,
          },
        ],
      },
    ];
  }
}
