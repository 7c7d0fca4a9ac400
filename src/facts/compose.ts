import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { NO_DOCKER, WHEN_DOCKER } from './containers.js';

const NO_COMPOSE = '#hostkit: docker compose not installed';
const NO_FILE = '#hostkit: no compose file';

export interface ComposeProject {
  name: string;
  /** "running(4)", "exited(1), running(3)" */
  status: string;
  configFiles: string[];
}

export interface ComposeProjects {
  available: boolean;
  projects: ComposeProject[];
}

/** Compose projects on the host, any state, from `docker compose ls -a --format json`. */
export const composeProjectsFact: Fact<ComposeProjects> = defineFact(
  'docker.compose-projects',
  [],
  `${WHEN_DOCKER}\ndocker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }\ndocker compose ls -a --format json`,
  parseComposeLs,
);

export function parseComposeLs({ stdout, stderr, exitCode }: ProbeOutput): ComposeProjects {
  const text = stdout.trim();
  if (text === NO_DOCKER || text === NO_COMPOSE) return { available: false, projects: [] };
  if (exitCode !== 0) throw new Error(`docker compose ls failed: ${stderr.trim()}`);
  const list = JSON.parse(text || '[]') as { Name: string; Status: string; ConfigFiles: string }[];
  return {
    available: true,
    projects: list.map((p) => ({ name: p.Name, status: p.Status, configFiles: p.ConfigFiles.split(',').filter(Boolean) })),
  };
}

export type ComposeHashes =
  | { state: 'no-compose' }
  | { state: 'no-file' }
  /** The file exists but compose rejects it (edited by hand?). */
  | { state: 'invalid'; error: string }
  | { state: 'ok'; byService: Map<string, string> };

/**
 * `docker compose config --hash '*'` of the compose file deployed in `dir`: per service, the hash
 * compose labels its containers with (com.docker.compose.config-hash). A container whose label
 * differs was created from another configuration.
 */
export function composeHashesFact(dir: string): Fact<ComposeHashes> {
  const file = `${dir.replace(/\/+$/, '')}/compose.yaml`;
  return defineFact(
    'docker.compose-hashes',
    [dir],
    [
      WHEN_DOCKER,
      `docker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }`,
      `[ -f ${sh([file])} ] || { echo '${NO_FILE}'; exit 0; }`,
      `cd ${sh([dir])} && docker compose -f compose.yaml config --hash '*'`,
    ].join('\n'),
    parseComposeHashes,
  );
}

export function parseComposeHashes({ stdout, stderr, exitCode }: ProbeOutput): ComposeHashes {
  const text = stdout.trim();
  if (text === NO_DOCKER || text === NO_COMPOSE) return { state: 'no-compose' };
  if (text === NO_FILE) return { state: 'no-file' };
  if (exitCode !== 0) return { state: 'invalid', error: stderr.trim().split('\n').slice(-3).join(' ') || `exit ${exitCode}` };
  const byService = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+([0-9a-f]{64})$/.exec(line.trim());
    if (m) byService.set(m[1]!, m[2]!);
  }
  return { state: 'ok', byService };
}
