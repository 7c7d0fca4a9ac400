import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { COMPOSE_LABEL, NO_DOCKER, WHEN_DOCKER } from './containers.js';
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

export interface NetworkInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Attached containers (running ones: Docker lists only those with an endpoint). */
  containers: { id: string; name: string }[];
}

export interface NetworksState {
  dockerInstalled: boolean;
  networks: NetworkInfo[];
}

interface InspectedNetwork {
  Id: string;
  Name: string;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string }> | null;
}

/**
 * Every Docker network with its labels and attached containers, from `docker network inspect` JSON;
 * through the Engine API where the CLI would ask the daemon's socket (as docker.containers): the
 * list (elements start with Name, then Id), then every network's JSON in one curl. The list alone
 * has no Containers.
 */
export const networksFact: Fact<NetworksState> = defineFact(
  'docker.networks',
  [],
  [
    WHEN_DOCKER,
    ...DOCKER_API_SOCKET,
    `if ${DOCKERD_RUNNING} && ${apiGet('/networks')}; then`,
    `  echo '${API_ANSWERS}'; ids=$(${apiListIds('{"Name":"\\([^"\\\\]\\|\\\\.\\)*","Id":"')}); ${apiGetEach('/networks/%s')}; exit`,
    'fi',
    UNLESS_DOCKERD_STOPPED,
    'ids=$(docker network ls -q --no-trunc) || exit 1',
    '[ -n "$ids" ] || { echo "[]"; exit 0; }',
    'docker network inspect $ids || true',
  ].join('\n'),
  parseNetworks,
);

export function parseNetworks({ stdout, stderr, exitCode }: ProbeOutput): NetworksState {
  if (stdout.trim() === NO_DOCKER) return { dockerInstalled: false, networks: [] };
  const api = stdout.startsWith(API_ANSWERS);
  if (exitCode !== 0) throw new Error(`${api ? "the Engine API's network inspects" : 'docker network ls'} failed: ${stderr.trim()}`);
  const list = api ? parseApiAnswers<InspectedNetwork>(stdout) : (JSON.parse(stdout.trim() || '[]') as InspectedNetwork[]);
  return {
    dockerInstalled: true,
    networks: list.map((n) => ({
      id: n.Id,
      name: n.Name,
      labels: n.Labels ?? {},
      containers: Object.entries(n.Containers ?? {}).map(([id, c]) => ({ id, name: c.Name ?? '' })),
    })),
  };
}

/** A compose network, found by its project and network-key labels (never by name). */
export function composeNetwork(state: NetworksState, project: string, key: string): NetworkInfo | undefined {
  return state.networks.find((n) => n.labels[COMPOSE_LABEL.project] === project && n.labels[COMPOSE_LABEL.network] === key);
}
