import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { COMPOSE_LABEL, NO_DOCKER, WHEN_DOCKER } from './containers.js';
import { COMPOSE_PLUGIN, DOCKER_API_SOCKET, DOCKERD_RUNNING, apiGet } from './docker.js';

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

/** The first line of the probe's output when the Engine API's list of compose's containers follows. */
const API_COMPOSE_LIST = '#hostkit: engine api compose containers';
/** compose's own request (pkg/compose/ls.go): every container with both labels, any state; Go's filter JSON. */
const COMPOSE_LIST_PATH = `/containers/json?all=1&filters=${encodeURIComponent(
  JSON.stringify({ label: { [COMPOSE_LABEL.configHash]: true, [COMPOSE_LABEL.project]: true } }),
)}`;

/**
 * Compose projects on the host, any state, as `docker compose ls -a --format json` says them.
 * compose ls is the Engine API's container list filtered on two labels, grouped by project
 * (docker/compose pkg/compose/ls.go, the same since 2.17): so where the docker CLI would ask the
 * daemon's socket, the daemon runs and the compose plugin the CLI would run is there
 * (src/facts/docker.ts), that list through curl and ls's grouping in the parser (composeStacks),
 * instead of a CLI start and a compose start (~65 ms of CPU). Otherwise compose itself.
 */
export const composeProjectsFact: Fact<ComposeProjects> = defineFact(
  'docker.compose-projects',
  [],
  [
    WHEN_DOCKER,
    ...DOCKER_API_SOCKET,
    ...COMPOSE_PLUGIN,
    `if [ -n "$plugin" ] && [ -x "$plugin" ] && ${DOCKERD_RUNNING} && ${apiGet(COMPOSE_LIST_PATH)}; then`,
    `  echo '${API_COMPOSE_LIST}'; printf '%s\\n' "$api"; exit 0`,
    'fi',
    // `compose version` only when ls failed (a second compose start on every audit otherwise):
    // it tells "no compose plugin" from ls failing, whose exit code and stderr then stand.
    'docker compose ls -a --format json && exit 0',
    'rc=$?',
    `docker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }`,
    'exit $rc',
  ].join('\n'),
  parseComposeLs,
);

/** One entry of the Engine API's container list, as compose ls reads it. */
interface ListedComposeContainer {
  Id: string;
  State: string;
  Labels?: Record<string, string> | null;
}

/** Go's sort.Strings: byte order of the UTF-8 text (not JavaScript's UTF-16 order). */
const goLess = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * compose ls's own grouping (pkg/compose/ls.go containersToStacks): projects sorted by name; the
 * status is each container state's count, states sorted ("exited(1), running(3)"); the config
 * files are every container's config_files label split at commas, each once in first-seen
 * order, or "N/A" when a container has none (compose then warns).
 */
export function composeStacks(containers: ListedComposeContainer[]): ComposeProject[] {
  const byProject = new Map<string, ListedComposeContainer[]>();
  for (const c of containers) {
    const project = c.Labels?.[COMPOSE_LABEL.project];
    if (project === undefined) throw new Error(`container ${c.Id} has no ${COMPOSE_LABEL.project} label`);
    byProject.set(project, [...(byProject.get(project) ?? []), c]);
  }
  return [...byProject.keys()].sort(goLess).map((name) => {
    const members = byProject.get(name) ?? [];
    const counts = new Map<string, number>();
    for (const c of members) counts.set(c.State, (counts.get(c.State) ?? 0) + 1);
    const status = [...counts.keys()]
      .sort(goLess)
      .map((state) => `${state}(${counts.get(state)})`)
      .join(', ');
    const files: string[] = [];
    let missing = false;
    for (const c of members) {
      const label = c.Labels?.[COMPOSE_LABEL.configFiles];
      if (label === undefined) missing = true;
      else for (const f of label.split(',')) if (!files.includes(f)) files.push(f);
    }
    const configFiles = missing ? 'N/A' : files.join(',');
    return { name, status, configFiles: configFiles.split(',').filter(Boolean) };
  });
}

export function parseComposeLs({ stdout, stderr, exitCode }: ProbeOutput): ComposeProjects {
  const text = stdout.trim();
  if (text === NO_DOCKER || text === NO_COMPOSE) return { available: false, projects: [] };
  if (stdout.startsWith(`${API_COMPOSE_LIST}\n`)) {
    const body = stdout.slice(API_COMPOSE_LIST.length + 1);
    let list: ListedComposeContainer[];
    try {
      list = JSON.parse(body) as ListedComposeContainer[];
    } catch (err) {
      throw new Error(`the Engine API's container list is not JSON: ${body.slice(0, 200)}`, { cause: err });
    }
    return { available: true, projects: composeStacks(list) };
  }
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

// ---------------------------------------------------------------------------------------------
// compose's config hashes, cached. `docker compose config --hash '*'` starts the docker CLI and
// the compose plugin and loads the whole project (~0.1 s of CPU per stack): too much for every
// stack on every audit. The apply records compose's answer together with a KEY of everything
// that answer depends on; the probe gives the recorded answer only while the key is unchanged,
// and asks compose otherwise. The key (sha256) covers:
// - the bytes of compose.yaml and .env (compose's only inputs with `-f compose.yaml`: no
//   override file is read; .env is the interpolation source) and the project directory;
// - the docker CLI and every compose plugin it could run (path, device, inode, size, mtime:
//   any upgrade or replacement of either is a new key, a stricter test than the version);
// - the environment compose reads (COMPOSE_*, DOCKER_*) and the variables the rendered files
//   interpolate (HOSTKIT_*), which would override .env.
// A stale or missing record only costs compose's own run; it is never read as an answer.
// ---------------------------------------------------------------------------------------------

export const COMPOSE_CACHE_DIR = '/var/lib/hostkit/compose-hashes';
const CACHE_HEADER = 'hostkit-compose-hashes v1';
const CACHED = '#hostkit: cached';
const COMPUTED = '#hostkit: computed';
/** Where the docker CLI looks for plugins (cli-plugins/manager), user config dir first. */
const PLUGIN_DIRS = [
  '"${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"',
  '/usr/local/lib/docker/cli-plugins',
  '/usr/local/libexec/docker/cli-plugins',
  '/usr/lib/docker/cli-plugins',
  '/usr/libexec/docker/cli-plugins',
];

/** The record of a stack directory (one file per directory, a name safe in any shell). */
export function composeCacheFile(dir: string): string {
  return `${COMPOSE_CACHE_DIR}/${dir.replace(/\/+$/, '').replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** Shell function printing the key of the compose project in the current directory (see above). */
const KEY_FUNCTION = [
  '__hostkit_compose_key() {',
  '  { pwd',
  `    stat -L -c '%n %d %i %s %Y' "$(command -v docker)" ${PLUGIN_DIRS.map((d) => `${d}/docker-compose`).join(' ')} 2>/dev/null`,
  "    env | grep -E '^(COMPOSE_|DOCKER_|HOSTKIT_)' | LC_ALL=C sort",
  '    sha256sum compose.yaml .env 2>&1',
  '  } | sha256sum | cut -c1-64',
  '}',
].join('\n');

/**
 * The config hashes of the compose file deployed in `dir`, as `composeHashesFact` gives them
 * (compose's own answer), from the apply's record while its key holds (`cached` says which).
 */
export function composeConfigHashesFact(dir: string): Fact<ComposeHashes & { cached?: boolean }> {
  const file = `${dir.replace(/\/+$/, '')}/compose.yaml`;
  const cache = sh([composeCacheFile(dir)]);
  return defineFact(
    'docker.compose-config-hashes',
    [dir],
    [
      WHEN_DOCKER,
      // As composeHashesFact: no compose wins over no file (the version check only then).
      `[ -f ${sh([file])} ] || { docker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }; echo '${NO_FILE}'; exit 0; }`,
      `cd ${sh([dir])} || exit 1`,
      KEY_FUNCTION,
      'k=$(__hostkit_compose_key)',
      `if [ -f ${cache} ] && [ "$(head -n 1 ${cache})" = "${CACHE_HEADER} $k" ]; then echo "${CACHED}"; tail -n +2 ${cache}; exit 0; fi`,
      `docker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }`,
      `echo "${COMPUTED}"`,
      `docker compose -f compose.yaml config --hash '*'`,
    ].join('\n'),
    parseComposeConfigHashes,
  );
}

/** As parseComposeHashes, after the header line that says whether the answer was the record. */
export function parseComposeConfigHashes(output: ProbeOutput): ComposeHashes & { cached?: boolean } {
  const [first = '', ...rest] = output.stdout.split('\n');
  const head = first.trim();
  if (head !== CACHED && head !== COMPUTED) return parseComposeHashes(output);
  const parsed = parseComposeHashes({ ...output, stdout: rest.join('\n') });
  return parsed.state === 'ok' ? { ...parsed, cached: head === CACHED } : parsed;
}

/**
 * Apply side: asks compose for the hashes of the project in `dir` and records them with their
 * key, only when the key is the same before and after (no file changed meanwhile). Written
 * atomically, root only. Exits 0 either way: without a record the probe asks compose itself.
 */
export function recordComposeHashesScript(dir: string): string {
  const cache = sh([composeCacheFile(dir)]);
  return [
    '(',
    `cd ${sh([dir])} || exit 0`,
    KEY_FUNCTION,
    'k=$(__hostkit_compose_key)',
    `h=$(docker compose -f compose.yaml config --hash '*' 2>/dev/null) || exit 0`,
    '[ "$k" = "$(__hostkit_compose_key)" ] || exit 0',
    `umask 077; mkdir -p ${sh([COMPOSE_CACHE_DIR])} || exit 0`,
    `printf '%s\\n%s\\n' "${CACHE_HEADER} $k" "$h" >${cache}.tmp && mv -f ${cache}.tmp ${cache}`,
    ') || true',
  ].join('\n');
}
