import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { COMPOSE_LABEL, NO_DOCKER, WHEN_DOCKER } from './containers.js';
import {
  COMPOSE_PLUGIN,
  COMPOSE_WITHOUT_WAKING,
  DOCKER_API_SOCKET,
  DOCKERD_NOT_ASKED,
  DOCKERD_RUNNING,
  apiGet,
  unlessDockerdStopped,
} from './docker.js';

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
    // A stopped daemon is not asked (ls would start it through docker.socket): no plugin still wins.
    unlessDockerdStopped(`docker compose version >/dev/null 2>&1 || { echo '${NO_COMPOSE}'; exit 0; }; ${DOCKERD_NOT_ASKED}`),
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
// and asks compose otherwise. The key covers:
// - the bytes of compose.yaml and .env (sha256; compose's only inputs with `-f compose.yaml`: no
//   override file is read; .env is the interpolation source) and the project directory;
// - the docker CLI and every compose plugin it could run (path, device, inode, size, mtime:
//   any upgrade or replacement of either is a new key, a stricter test than the version);
// - the environment compose reads (COMPOSE_*, DOCKER_*) and the variables the rendered files
//   interpolate (HOSTKIT_*), which would override .env.
// ONE probe reads all stacks of a host (like docker.images): one stat, env and sha256sum for all
// of them (the CLI, plugins and environment hashed once, every stack's files in the same
// sha256sum), the records read with shell builtins; compose runs only for a stack whose record
// does not hold (those in parallel). A stale or missing record only costs compose's own run; it
// is never read as an answer.
// ---------------------------------------------------------------------------------------------

export const COMPOSE_CACHE_DIR = '/var/lib/hostkit/compose-hashes';
/** v2: the key in clear (host part, file hashes, directory); a v1 record (one sha256) never matches. */
const CACHE_HEADER = 'hostkit-compose-hashes v2';
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
  return `${COMPOSE_CACHE_DIR}/${trimDir(dir).replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

const trimDir = (dir: string) => dir.replace(/\/+$/, '');

/**
 * Shell functions computing the keys (see above), shared by the probe and the apply's record:
 * `__hk_sums FILE...` hashes the host part (stdin, `-`) and the files in ONE sha256sum;
 * `__hk_key DIR` sets k to DIR's record header, empty when a file exists but was not hashed
 * (unreadable, or a name sha256sum escapes): such a stack is never answered from a record.
 */
const KEY_FUNCTIONS = [
  "set -f; nl='\n'",
  '__hk_sums() {',
  '  sums=$( {',
  `    stat -L -c '%n %d %i %s %Y' "$(command -v docker)" ${PLUGIN_DIRS.map((d) => `${d}/docker-compose`).join(' ')} 2>/dev/null`,
  "    env | grep -E '^(COMPOSE_|DOCKER_|HOSTKIT_)' | LC_ALL=C sort",
  '  } | sha256sum - "$@" 2>/dev/null)',
  '}',
  // hk_s: the sha256 of $1 from $sums ("<hash>  <name>" lines), "-" for a file that does not exist.
  '__hk_sum() {',
  "  hk_s=''; IFS=$nl",
  '  for l in $sums; do [ "${l#*  }" = "$1" ] && { hk_s=${l%%  *}; break; }; done',
  '  unset IFS; [ -n "$hk_s" ] || [ -e "$1" ] || [ "$1" = - ] || hk_s=-',
  '}',
  '__hk_key() {',
  '  k=\'\'; __hk_sum -; [ -n "$hk_s" ] || return 0; hk_h=$hk_s',
  '  __hk_sum "$1/compose.yaml"; [ -n "$hk_s" ] || return 0; hk_c=$hk_s',
  '  __hk_sum "$1/.env"; [ -n "$hk_s" ] || return 0',
  `  k="${CACHE_HEADER} $hk_h $hk_c $hk_s $1"`,
  '}',
].join('\n');

/**
 * Per stack: a frame `@@compose INDEX cached|computed RC|no-file|no-compose`, then its lines,
 * each prefixed (`o ` compose's stdout or the record, `e ` compose's stderr), so nothing a
 * compose file or an error says can pass for a frame; `@@compose end` closes a complete answer.
 */
const CHECK_FUNCTION = [
  // Is compose there at all (asked once, and only when a stack has no file or no record).
  '__hk_compose() {',
  '  [ -n "$has_compose" ] || { docker compose version >/dev/null 2>&1 && has_compose=yes || has_compose=no; }',
  '  [ "$has_compose" = yes ]',
  '}',
  // INDEX DIR RECORD: the record's answer, or compose started in the background (printed at the end).
  '__hk_check() {',
  // As composeHashesFact: no compose wins over no file.
  '  if [ ! -f "$2/compose.yaml" ]; then',
  '    if __hk_compose; then echo "@@compose $1 no-file"; else echo "@@compose $1 no-compose"; fi; return 0',
  '  fi',
  '  __hk_key "$2"',
  '  if [ -n "$k" ] && [ -f "$3" ] && IFS= read -r head <"$3" && [ "$head" = "$k" ]; then',
  '    echo "@@compose $1 cached"',
  '    { IFS= read -r head; while IFS= read -r l || [ -n "$l" ]; do printf "o %s\\n" "$l"; done; } <"$3"',
  '    return 0',
  '  fi',
  '  __hk_compose || { echo "@@compose $1 no-compose"; return 0; }',
  '  [ -n "$tmp" ] || tmp=$(mktemp -d 2>/dev/null || { mkdir -m 700 /tmp/.hostkit-compose.$$ && echo /tmp/.hostkit-compose.$$; }) || exit 1',
  `  { ( cd "$2" && ${COMPOSE_WITHOUT_WAKING} && exec docker compose -f compose.yaml config --hash '*' ) >"$tmp/$1.o" 2>"$tmp/$1.e" </dev/null; echo $? >"$tmp/$1.rc"; } &`,
  '  todo="$todo $1"',
  '}',
].join('\n');

/**
 * The config hashes of the compose files deployed in `dirs` (a host's stacks, in ONE probe), as
 * `composeHashesFact` gives them (compose's own answer), from the apply's records while their
 * keys hold (`cached` says which). Read one stack's with `configHashesOf`.
 */
export function composeConfigHashesFact(dirs: readonly string[]): Fact<Map<string, CachedComposeHashes>> {
  const list = [...new Set(dirs.map(trimDir))].sort();
  const files = list.flatMap((d) => [`${d}/compose.yaml`, `${d}/.env`]);
  return defineFact(
    'docker.compose-config-hashes',
    [list],
    [
      WHEN_DOCKER,
      KEY_FUNCTIONS,
      CHECK_FUNCTION,
      "tmp=''; todo=''; has_compose=''",
      `__hk_sums ${sh(files)}`,
      ...list.map((d, i) => `__hk_check ${i} ${sh([d, composeCacheFile(d)])}`),
      'wait',
      'for i in $todo; do',
      '  rc=1; read -r rc <"$tmp/$i.rc"',
      '  echo "@@compose $i computed $rc"',
      '  while IFS= read -r l || [ -n "$l" ]; do printf "o %s\\n" "$l"; done <"$tmp/$i.o"',
      '  while IFS= read -r l || [ -n "$l" ]; do printf "e %s\\n" "$l"; done <"$tmp/$i.e"',
      'done',
      '[ -z "$tmp" ] || rm -rf "$tmp"',
      'echo "@@compose end"',
    ].join('\n'),
    (output) => parseComposeConfigHashesProbe(list, output),
  );
}

export type CachedComposeHashes = ComposeHashes & { cached?: boolean };

/** One stack's answer out of the host's (its directory must be one the fact was made for). */
export function configHashesOf(all: ReadonlyMap<string, CachedComposeHashes>, dir: string): CachedComposeHashes {
  const got = all.get(trimDir(dir));
  if (!got) throw new Error(`docker.compose-config-hashes: ${dir} was not probed`);
  return got;
}

/** The probe's frames -> each directory's answer, parsed as compose's own output is. */
export function parseComposeConfigHashesProbe(dirs: readonly string[], output: ProbeOutput): Map<string, CachedComposeHashes> {
  const text = output.stdout.trim();
  if (text === NO_DOCKER) return new Map(dirs.map((d) => [d, { state: 'no-compose' } as const]));
  const lines = output.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (output.exitCode !== 0 || lines.at(-1) !== '@@compose end') {
    throw new Error(`compose config hashes probe: incomplete answer (exit ${output.exitCode}): ${output.stderr.trim().slice(-300)}`);
  }
  const frames = new Map<number, { kind: string; rc: number; out: string[]; err: string[] }>();
  let current: { kind: string; rc: number; out: string[]; err: string[] } | undefined;
  for (const line of lines.slice(0, -1)) {
    const frame = /^@@compose (\d+) (cached|computed (\d+)|no-file|no-compose)$/.exec(line);
    if (frame) {
      const index = Number(frame[1]);
      if (index >= dirs.length || frames.has(index)) throw new Error(`compose config hashes probe: unexpected frame "${line}"`);
      current = { kind: frame[2]!.split(' ')[0]!, rc: Number(frame[3] ?? 0), out: [], err: [] };
      frames.set(index, current);
    } else if (current && line.startsWith('o ')) current.out.push(line.slice(2));
    else if (current && line.startsWith('e ')) current.err.push(line.slice(2));
    else throw new Error(`compose config hashes probe: unexpected line "${line.slice(0, 200)}"`);
  }
  const result = new Map<string, CachedComposeHashes>();
  dirs.forEach((dir, i) => {
    const f = frames.get(i);
    if (!f) throw new Error(`compose config hashes probe: no answer for ${dir}`);
    const body = (head: string) => [head, ...f.out, ''].join('\n');
    const err = f.err.length ? `${f.err.join('\n')}\n` : '';
    if (f.kind === 'no-file') result.set(dir, { state: 'no-file' });
    else if (f.kind === 'no-compose') result.set(dir, { state: 'no-compose' });
    else result.set(dir, parseRecordedOrComputed({ stdout: body(f.kind === 'cached' ? CACHED : COMPUTED), stderr: err, exitCode: f.rc }));
  });
  return result;
}

/**
 * As parseComposeHashes, after the header line that says whether the answer was the record. A
 * record is hostkit's own: any line of it that is not "service sha256" is refused, never skipped.
 */
function parseRecordedOrComputed(output: ProbeOutput): CachedComposeHashes {
  const [first = '', ...rest] = output.stdout.split('\n');
  const parsed = parseComposeHashes({ ...output, stdout: rest.join('\n') });
  const cached = first === CACHED;
  if (cached) {
    const lines = rest.filter((l) => l.trim() !== '');
    if (parsed.state !== 'ok' || lines.length === 0 || lines.length !== parsed.byService.size)
      throw new Error(`compose config hashes: a garbled record: ${lines.join(' | ').slice(0, 200)}`);
  }
  return parsed.state === 'ok' ? { ...parsed, cached } : parsed;
}

/**
 * Apply side: asks compose for the hashes of the project in `dir` and records them with their
 * key, only when the key is the same before and after (no file changed meanwhile). Written
 * atomically, root only. Exits 0 either way: without a record the probe asks compose itself.
 */
export function recordComposeHashesScript(dir: string): string {
  const d = trimDir(dir);
  const cache = sh([composeCacheFile(d)]);
  const key = `__hk_sums ${sh([`${d}/compose.yaml`, `${d}/.env`])}; __hk_key ${sh([d])}`;
  return [
    '(',
    `cd ${sh([d])} || exit 0`,
    KEY_FUNCTIONS,
    key,
    '[ -n "$k" ] || exit 0; was=$k',
    `answer=$(docker compose -f compose.yaml config --hash '*' 2>/dev/null) && [ -n "$answer" ] || exit 0`,
    key,
    '[ "$k" = "$was" ] || exit 0',
    `umask 077; mkdir -p ${sh([COMPOSE_CACHE_DIR])} || exit 0`,
    `printf '%s\\n%s\\n' "$k" "$answer" >${cache}.tmp && mv -f ${cache}.tmp ${cache}`,
    ') || true',
  ].join('\n');
}
