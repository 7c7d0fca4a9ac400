import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote } from '../transports/quote.js';

/**
 * Docker facts: the engine's and compose's versions (JSON of the Engine API or the CLI) and the
 * distribution. Each probe is read-only POSIX sh that exits 0 and describes absence in its
 * output. Outputs recorded from a Debian 13 target: test/fixtures/facts/docker.engine/.
 */

/** Splits "\n@@MARK NAME@@\n"-framed sections; throws when the end marker is missing (cut short). */
export function splitSections(stdout: string, mark: string): Map<string, string> {
  const parts = ('\n' + stdout).split(new RegExp(`\\n${mark} ([^@\\n]+)@@\\n`));
  const sections = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) sections.set(parts[i] ?? '', parts[i + 1] ?? '');
  if (!sections.has('end')) throw new Error(`probe output is incomplete: ${stdout.slice(0, 200)}`);
  return sections;
}

// ------------------------------------------------------------------------------- engine state

export interface DockerEngineState {
  /** The docker CLI is on PATH. */
  cli: boolean;
  /** Engine (server) version, e.g. "26.1.5+dfsg1"; undefined when the daemon does not answer. */
  engineVersion?: string;
  clientVersion?: string;
  /** Compose v2 plugin version, e.g. "2.26.1-4"; undefined when `docker compose` is missing. */
  composeVersion?: string;
  /** Why the versions are missing (the command's own words). */
  versionError?: string;
  composeError?: string;
}

const MARK = '@@hostkit-docker';

/**
 * True when asking dockerd something is read-only. With systemd, a stopped docker.service behind
 * an active docker.socket would be STARTED by the first API call (socket activation): a probe must
 * never do that, so it does not ask a daemon that is not running. A live dockerd named by its pid
 * file (dockerd's default --pidfile, removed when it stops) answers that without a process: a
 * `systemctl is-active` costs a fork and a D-Bus call to PID 1 (~10 ms of CPU, and a full audit
 * asked ~10 times). No pid file, or one naming a process that is not dockerd (a crash left it,
 * another --pidfile): systemd's own answer. Builtins only (`read`, `[`), so no fork.
 */
export const DOCKERD_RUNNING =
  '{ ! [ -d /run/systemd/system ] || { __hk_dp=; __hk_dc=; { { read -r __hk_dp || [ -n "$__hk_dp" ]; } </var/run/docker.pid && read -r __hk_dc <"/proc/$__hk_dp/comm"; } 2>/dev/null && [ "$__hk_dc" = dockerd ]; } || systemctl is-active --quiet docker.service; }';

/**
 * Before a docker CLI call that needs the daemon (the fallbacks of the Engine API paths): a daemon
 * that is not running is not asked (DOCKERD_RUNNING), and the probe fails as a daemon that does
 * not answer does (exit 1, the reason on stderr): the docker CLI would wake it through docker.socket.
 */
export const DOCKERD_NOT_ASKED = `echo 'docker.service is not running (not asked: a request would start it through docker.socket)' >&2; exit 1`;

/** Go on only when dockerd runs; otherwise run `otherwise` (which ends the probe with its answer). */
export function unlessDockerdStopped(otherwise: string): string {
  return `${DOCKERD_RUNNING} || { ${otherwise}; }`;
}
export const UNLESS_DOCKERD_STOPPED = unlessDockerdStopped(DOCKERD_NOT_ASKED);

/**
 * Before `docker compose config`: compose works a file's config out without the daemon but pings
 * it first, which would start a stopped one through docker.socket; with the daemon stopped it
 * pings a socket that is not there instead (the same answer: compose goes on without a daemon).
 */
export const COMPOSE_WITHOUT_WAKING = `{ ${DOCKERD_RUNNING} || export DOCKER_HOST=unix:///run/hostkit-no-daemon.sock; }`;

/**
 * Sets `sock` to the daemon's unix socket when the docker CLI would talk to exactly that socket
 * (DOCKER_HOST unset or unix://, no DOCKER_CONTEXT, no current context in the CLI's config), and
 * empty otherwise; then `API_GET` asks the Engine API there through curl: one curl start instead
 * of a Go CLI start (or a dozen daemon round trips). Shared by every probe that reads the API.
 */
export const DOCKER_API_SOCKET = [
  'sock=/var/run/docker.sock',
  'case "${DOCKER_HOST:-}" in unix://*) sock=${DOCKER_HOST#unix://};; "") ;; *) sock=;; esac',
  '[ -z "${DOCKER_CONTEXT:-}" ] || sock=',
  'cfg=${DOCKER_CONFIG:-$HOME/.docker}',
  '[ ! -f "$cfg/config.json" ] || ! grep -q currentContext "$cfg/config.json" || sock=',
];

/** A container name the API's URL can carry as it is (Docker's own name rule). */
export const PLAIN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The part of `apiGet` that needs curl: tests put `false` in its place to force the CLI path. */
export const CURL_PRESENT = 'command -v curl >/dev/null 2>&1';

/** A shell condition: GET `path` from the Engine API on $sock into $api; false (use the CLI) when it cannot. */
export const apiGet = (path: string): string =>
  `[ -n "$sock" ] && [ -S "$sock" ] && ${CURL_PRESENT} && api=$(curl -sS --fail --max-time 20 --unix-socket "$sock" ${quote(`http://localhost${path}`)} 2>/dev/null)`;

/** The first line of a probe's output when it took the Engine API path (apiGetEach's answers follow). */
export const API_ANSWERS = '#hostkit: engine api';
/** The line apiGetEach writes after each answer: `@@hostkit-api STATUS@@`. */
export const ANSWER_MARK = '@@hostkit-api';

/**
 * A shell pipeline: the ids of the Engine API list in $api (one line of compact JSON) into stdout,
 * one a line. `element` is a BRE for the start of one list element up to its 64-hex id, e.g.
 * `{"Id":"` (Go writes the fields in declaration order); an element starts the list (`[`) or
 * follows the previous one (`},`), which no nested object or string can (a quote inside a string
 * is escaped), so a label that happens to hold an id is never taken for one.
 */
export const apiListIds = (element: string): string =>
  `printf '%s\\n' "$api" | grep -o '\\(^\\[\\|},\\)${element}[0-9a-f]\\{64\\}' | grep -o '[0-9a-f]\\{64\\}$'`;

/**
 * GETs the Engine API path `template` (its %s replaced by each word of $ids) in ONE curl on $sock:
 * the URLs come in on stdin as curl config lines (printf repeats its format per word) and go over
 * one kept-alive connection; each answer is followed by a line with its HTTP status (--write-out),
 * since an object removed after the list answers 404 while the others answer 200. -q: no ~/.curlrc.
 */
export const apiGetEach = (template: string): string =>
  `{ [ -z "$ids" ] || printf 'url = "http://localhost${template}"\\n' $ids | curl -q -sS --max-time 20 --unix-socket "$sock" -w '\\n${ANSWER_MARK} %{http_code}@@\\n' -K -; }`;

/**
 * The objects of apiGetEach's answers (after the API_ANSWERS line), in order: a 404 (removed after
 * the list, as the CLI's `docker inspect ... || true` skips it) is left out, any other status or an
 * answer cut short is an error.
 */
export function parseApiAnswers<T>(stdout: string): T[] {
  if (!stdout.startsWith(`${API_ANSWERS}\n`)) throw new Error(`not the Engine API's answers: ${stdout.slice(0, 200)}`);
  const text = stdout.slice(API_ANSWERS.length + 1);
  const parts = text.split(new RegExp(`\\n${ANSWER_MARK} (\\d{3})@@\\n`));
  if ((parts.at(-1) ?? '') !== '') throw new Error(`the Engine API's answers are cut short: ${(parts.at(-1) ?? '').slice(0, 200)}`);
  const objects: T[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const body = parts[i] ?? '';
    const status = Number(parts[i + 1]);
    if (status === 404) continue;
    if (status !== 200) throw new Error(`the Engine API answered ${status}: ${body.trim().slice(0, 200)}`);
    try {
      objects.push(JSON.parse(body) as T);
    } catch (err) {
      throw new Error(`the Engine API's answer is not JSON: ${body.slice(0, 200)}`, { cause: err });
    }
  }
  return objects;
}

/**
 * The compose plugin the docker CLI would run (docker/cli's plugin manager: the config dir's
 * cli-plugins, then the system dirs, first found wins), run directly: `docker compose version`
 * costs the CLI, the plugin's metadata call and the plugin (3 Go starts), the plugin alone 1.
 * Extra plugin dirs in the CLI's config, or no plugin found: the CLI itself, for its exact words.
 */
export const COMPOSE_PLUGIN = [
  'plugin=',
  'if ! { [ -f "$cfg/config.json" ] && grep -q cliPluginsExtraDirs "$cfg/config.json"; }; then',
  '  for d in "$cfg/cli-plugins" /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do',
  '    if [ -e "$d/docker-compose" ]; then plugin=$d/docker-compose; break; fi',
  '  done',
  'fi',
];

export const DOCKER_ENGINE_PROBE = [
  `m() { printf '\\n${MARK} %s@@\\n' "$1"; }`,
  'PATH="$PATH:/usr/sbin:/sbin"',
  'if command -v docker >/dev/null 2>&1; then',
  ...DOCKER_API_SOCKET.map((l) => `  ${l}`),
  // The API's own JSON (GET /version is what `docker version` shows as Server); the CLI's JSON otherwise.
  `  if ${DOCKERD_RUNNING}; then`,
  `    if ${apiGet('/version')}; then m api-version; printf '%s\\n' "$api";`,
  "    else m version; docker version --format '{{json .}}' 2>&1; echo; fi",
  '  else m version; echo "docker.service is not running"; fi',
  // The compose plugin answers without the daemon.
  ...COMPOSE_PLUGIN.map((l) => `  ${l}`),
  '  if [ -n "$plugin" ] && [ -x "$plugin" ]; then m compose; "$plugin" version --format json 2>&1; echo',
  '  else m compose; docker compose version --format json 2>&1; echo; fi',
  'fi',
  'm end',
].join('\n');

interface VersionJson {
  Client?: { Version?: string } | null;
  Server?: { Version?: string } | null;
}

export function parseDockerEngineProbe(out: ProbeOutput): DockerEngineState {
  const s = splitSections(out.stdout, MARK);
  const state: DockerEngineState = { cli: s.has('version') || s.has('api-version') };
  if (s.has('api-version')) {
    // The daemon answered; the client's version is only ever shown when it does not.
    const text = s.get('api-version') ?? '';
    let version: string | undefined;
    try {
      version = (JSON.parse(text) as { Version?: string }).Version;
    } catch (err) {
      throw new Error(`the Engine API's /version is not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
    if (version) state.engineVersion = version;
    else state.versionError = 'the engine did not answer';
  }
  if (s.has('version')) {
    const text = s.get('version') ?? '';
    const line = text.split('\n').find((l) => l.trim().startsWith('{'));
    if (line) {
      const v = JSON.parse(line) as VersionJson;
      if (v.Client?.Version) state.clientVersion = v.Client.Version;
      if (v.Server?.Version) state.engineVersion = v.Server.Version;
    }
    if (!state.engineVersion) {
      state.versionError =
        text
          .split('\n')
          .filter((l) => l.trim() && !l.trim().startsWith('{'))
          .join(' ')
          .trim() || 'the engine did not answer';
    }
  }
  if (s.has('compose')) {
    const text = s.get('compose') ?? '';
    const line = text.split('\n').find((l) => l.trim().startsWith('{'));
    const version = line ? (JSON.parse(line) as { version?: string }).version : undefined;
    if (version) state.composeVersion = version.replace(/^v/, '');
    else
      state.composeError =
        text
          .split('\n')
          .filter((l) => l.trim())
          .join(' ')
          .trim() || 'docker compose is not available';
  }
  return state;
}

export const dockerEngineFact: Fact<DockerEngineState> = defineFact('docker.engine', [], DOCKER_ENGINE_PROBE, parseDockerEngineProbe);

/** "26.1.5+dfsg1" -> [26, 1, 5]; "v2.26.1-4" -> [2, 26, 1]; "1:20.10.24" (epoch) -> [20, 10, 24]. */
export function versionParts(version: string): number[] {
  const core = version.replace(/^\d+:/, '').replace(/^v/, '');
  const m = /^\d+(\.\d+)*/.exec(core);
  if (!m) throw new Error(`not a version: "${version}"`);
  return m[0].split('.').map(Number);
}

/** <0 when a < b, 0 when equal on the compared parts, >0 when a > b. "26.1" == "26.1.0". */
export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ------------------------------------------------------------------------------- distribution

export interface OsRelease {
  /** "debian", "ubuntu", ... */
  id: string;
  versionId: string;
  /** "trixie", "bookworm", "noble" */
  codename: string;
  /** dpkg architecture, e.g. "amd64". */
  arch: string;
}

export const osReleaseFact: Fact<OsRelease> = defineFact(
  'os.release',
  [],
  'cat /etc/os-release 2>/dev/null; printf "\\nDPKG_ARCH=%s\\n" "$(dpkg --print-architecture 2>/dev/null)"',
  ({ stdout }) => parseOsRelease(stdout),
);

export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
  }
  const id = kv.get('ID');
  if (!id) throw new Error('/etc/os-release has no ID');
  // Debian testing/sid lack VERSION_CODENAME in older releases; Ubuntu also has UBUNTU_CODENAME.
  const codename = kv.get('VERSION_CODENAME') || kv.get('UBUNTU_CODENAME') || /\((\w+)\)/.exec(kv.get('VERSION') ?? '')?.[1] || '';
  return { id, versionId: kv.get('VERSION_ID') ?? '', codename, arch: kv.get('DPKG_ARCH') || 'amd64' };
}
