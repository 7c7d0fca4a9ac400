import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { NO_DOCKER, WHEN_DOCKER } from './containers.js';
import { DOCKER_API_SOCKET, DOCKERD_RUNNING, UNLESS_DOCKERD_STOPPED, apiGet } from './docker.js';

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
}

export interface ImagesState {
  dockerInstalled: boolean;
  /** Every local image by each of its tags, in shortRef form ("postgres:16.6"); read with imageOf. */
  byTag: Map<string, ImageInfo>;
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

/** A reference as it appears in RepoTags: short, with Docker's implicit ":latest". */
function tagOf(ref: string): string {
  const short = shortRef(ref);
  return /:[^/]*$/.test(short) || short.includes('@') ? short : `${short}:latest`;
}

/** The local image a reference names, or undefined when it is missing. */
export function imageOf(state: ImagesState, ref: string): ImageInfo | undefined {
  return state.byTag.get(tagOf(ref));
}

/** The first line of the probe's output when the Engine API's image list follows. */
const API_LIST = '#hostkit: engine api image list';

/** One entry of the Engine API's GET /images/json (`docker image ls`'s own request). */
interface ListedImage {
  Id: string;
  RepoTags?: string[] | null;
  Labels?: Record<string, string> | null;
}

/**
 * Every local image, from `docker image inspect` JSON: ONE host-wide probe that every stack,
 * pull and build resource reads (one per resource cost a docker CLI start each, ~20 ms of the
 * host's CPU, 16 of them in a full audit). An image with several tags is listed once per tag.
 * Where the docker CLI would ask the daemon's socket and the daemon runs (src/facts/docker.ts),
 * the Engine API's image list alone, through curl: it carries each image's id, tags and labels
 * (the config's, as inspect shows them), so one curl start replaces two Go CLI starts.
 */
export function imagesFact(): Fact<ImagesState> {
  return defineFact(
    'docker.images',
    [],
    [
      WHEN_DOCKER,
      ...DOCKER_API_SOCKET,
      `if ${DOCKERD_RUNNING} && ${apiGet('/images/json')}; then echo '${API_LIST}'; printf '%s\n' "$api"; exit 0; fi`,
      UNLESS_DOCKERD_STOPPED,
      'ids=$(docker image ls -q --no-trunc) || exit 1',
      '[ -z "$ids" ] || docker image inspect $ids',
    ].join('\n'),
    parseImages,
  );
}

export function parseImages({ stdout, stderr, exitCode }: ProbeOutput): ImagesState {
  if (stdout.trim() === NO_DOCKER) return { dockerInstalled: false, byTag: new Map() };
  if (stdout.startsWith(`${API_LIST}\n`)) return { dockerInstalled: true, byTag: imageList(stdout.slice(API_LIST.length + 1)) };
  // An image removed between the ls and the inspect makes inspect exit 1 with the others printed.
  if (exitCode !== 0 && !stdout.trim().startsWith('[')) throw new Error(`docker image inspect failed (exit ${exitCode}): ${stderr.trim()}`);
  const list = JSON.parse(stdout.trim() || '[]') as InspectedImage[];
  const byTag = new Map<string, ImageInfo>();
  for (const img of list) {
    for (const t of img.RepoTags ?? []) byTag.set(tagOf(t), { id: img.Id, labels: img.Config?.Labels ?? {} });
  }
  return { dockerInstalled: true, byTag };
}

function imageList(text: string): Map<string, ImageInfo> {
  let list: ListedImage[];
  try {
    list = JSON.parse(text) as ListedImage[];
  } catch (err) {
    throw new Error(`the Engine API's image list is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  const byTag = new Map<string, ImageInfo>();
  for (const img of list) {
    for (const t of img.RepoTags ?? []) byTag.set(tagOf(t), { id: img.Id, labels: img.Labels ?? {} });
  }
  return byTag;
}
