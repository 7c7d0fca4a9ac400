import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { NO_DOCKER, WHEN_DOCKER } from './containers.js';

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
}

export interface ImagesState {
  dockerInstalled: boolean;
  /** Reference ("postgres:16.6") -> the local image it names; absent refs are missing. */
  byRef: Map<string, ImageInfo>;
}

interface InspectedImage {
  Id: string;
  RepoTags?: string[] | null;
  Config?: { Labels?: Record<string, string> | null } | null;
}

/** Docker Hub references as Docker shows them in RepoTags ("docker.io/library/x" -> "x"). */
export function shortRef(ref: string): string {
  return ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** Local images named by these references, from `docker image inspect` JSON. */
export function imagesFact(refs: readonly string[]): Fact<ImagesState> {
  const sorted = [...new Set(refs)].sort();
  return defineFact(
    'docker.images',
    [sorted],
    // inspect prints the images that exist and exits 1 naming the others on stderr.
    `${WHEN_DOCKER}\ndocker image inspect ${sh(sorted)} 2>/dev/null || true`,
    (out) => parseImages(out, sorted),
  );
}

export function parseImages({ stdout }: ProbeOutput, refs: readonly string[]): ImagesState {
  if (stdout.trim() === NO_DOCKER) return { dockerInstalled: false, byRef: new Map() };
  const list = JSON.parse(stdout.trim() || '[]') as InspectedImage[];
  const byRef = new Map<string, ImageInfo>();
  for (const ref of refs) {
    const img = list.find((i) => (i.RepoTags ?? []).some((t) => shortRef(t) === shortRef(ref)));
    if (img) byRef.set(ref, { id: img.Id, labels: img.Config?.Labels ?? {} });
  }
  return { dockerInstalled: true, byRef };
}
