import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import {
  API_ANSWERS,
  DOCKER_API_SOCKET,
  DOCKERD_RUNNING,
  UNLESS_DOCKERD_STOPPED,
  apiGet,
  apiGetEach,
  apiListIds,
  parseApiAnswers,
} from './docker.js';

/** The compose labels every container of a compose project carries (docker/compose api/labels.go). */
export const COMPOSE_LABEL = {
  project: 'com.docker.compose.project',
  configFiles: 'com.docker.compose.project.config_files',
  service: 'com.docker.compose.service',
  configHash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  network: 'com.docker.compose.network',
  image: 'com.docker.compose.image',
} as const;

/** Printed instead of JSON when the docker CLI is not installed (a bare server, --dry-run). */
export const NO_DOCKER = '#hostkit: docker not installed';
export const WHEN_DOCKER = `command -v docker >/dev/null 2>&1 || { echo '${NO_DOCKER}'; exit 0; }`;

export interface ContainerInfo {
  id: string;
  /** Without Docker's leading "/". */
  name: string;
  /** Image id the container was created from ("sha256:..."). */
  imageId: string;
  /** Image reference as given at creation ("postgres:16.6"). */
  imageRef: string;
  labels: Record<string, string>;
  /** created, running, paused, restarting, removing, exited, dead */
  status: string;
  exitCode: number;
  /** starting, healthy, unhealthy; absent without a healthcheck. */
  health?: string;
  /** Attached networks: name and id. */
  networks: { name: string; id: string }[];
}

export interface ContainersState {
  dockerInstalled: boolean;
  containers: ContainerInfo[];
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Image: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string } | null };
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string }> | null };
}

/**
 * Every container on the host (any state), from `docker inspect` JSON: labels, state, health and
 * networks. One probe shared by the stacks and networks roles. Where the docker CLI would ask the
 * daemon's socket and the daemon runs (src/facts/docker.ts), the Engine API itself through curl:
 * the list (`docker ps -a`'s request), then every container's JSON (what `docker inspect` prints)
 * in one more curl: two curl starts instead of two Go CLI starts and a round trip per container.
 */
export const containersFact: Fact<ContainersState> = defineFact(
  'docker.containers',
  [],
  [
    WHEN_DOCKER,
    ...DOCKER_API_SOCKET,
    `if ${DOCKERD_RUNNING} && ${apiGet('/containers/json?all=1')}; then`,
    `  echo '${API_ANSWERS}'; ids=$(${apiListIds('{"Id":"')}); ${apiGetEach('/containers/%s/json')}; exit`,
    'fi',
    UNLESS_DOCKERD_STOPPED,
    'ids=$(docker ps -aq --no-trunc) || exit 1',
    '[ -n "$ids" ] || { echo "[]"; exit 0; }',
    '# a container removed meanwhile makes inspect exit 1 with the others printed',
    'docker inspect $ids || true',
  ].join('\n'),
  parseContainers,
);

export function parseContainers({ stdout, stderr, exitCode }: ProbeOutput): ContainersState {
  if (stdout.trim() === NO_DOCKER) return { dockerInstalled: false, containers: [] };
  if (stdout.startsWith(API_ANSWERS)) {
    if (exitCode !== 0) throw new Error(`the Engine API's container inspects failed (exit ${exitCode}): ${stderr.trim()}`);
    return { dockerInstalled: true, containers: parseApiAnswers<InspectedContainer>(stdout).map(containerInfo) };
  }
  if (exitCode !== 0) throw new Error(`docker ps failed: ${stderr.trim()}`);
  const list = JSON.parse(stdout.trim() || '[]') as InspectedContainer[];
  return { dockerInstalled: true, containers: list.map(containerInfo) };
}

function containerInfo(c: InspectedContainer): ContainerInfo {
  const health = c.State?.Health?.Status;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    imageId: c.Image,
    imageRef: c.Config?.Image ?? '',
    labels: c.Config?.Labels ?? {},
    status: c.State?.Status ?? 'unknown',
    exitCode: c.State?.ExitCode ?? 0,
    ...(health ? { health } : {}),
    networks: Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({ name, id: n.NetworkID ?? '' })),
  };
}

/** Containers of a compose project (one-off `compose run` containers excluded). */
export function projectContainers(state: ContainersState, project: string): ContainerInfo[] {
  return state.containers.filter((c) => c.labels[COMPOSE_LABEL.project] === project && c.labels[COMPOSE_LABEL.oneoff] !== 'True');
}

/** The container of a compose service, found by its labels. */
export function serviceContainer(state: ContainersState, project: string, service: string): ContainerInfo | undefined {
  return projectContainers(state, project).find((c) => c.labels[COMPOSE_LABEL.service] === service);
}

/** "running", "running, unhealthy", "exited (137)": a container's state in one phrase. */
export function describeState(c: ContainerInfo): string {
  if (c.status === 'exited') return `exited (${c.exitCode})`;
  return c.health ? `${c.status}, ${c.health}` : c.status;
}
