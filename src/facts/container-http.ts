import type { Fact, FactGroup, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { quote, sh } from '../transports/quote.js';
import { NO_DOCKER, WHEN_DOCKER } from './containers.js';
import {
  ANSWER_MARK,
  CURL_PRESENT,
  DOCKER_API_SOCKET,
  DOCKERD_RUNNING,
  PLAIN_NAME,
  apiGet,
  apiGetEach,
  unlessDockerdStopped,
} from './docker.js';

/**
 * The head of one HTTP answer of a container, asked from the host to the container's address on
 * its Docker network (what the proxy would get), with nothing installed on either side: bash's
 * /dev/tcp speaks HTTP/1.0 and only the status line and headers are read. Read-only (a GET),
 * so it runs in every mode; the answer is the protocol itself, not prose.
 */
export type ContainerHttp =
  | { state: 'no-docker' }
  | { state: 'no-container' }
  | { state: 'no-answer'; address: string; error: string }
  | { state: 'answered'; address: string; status: number; location?: string };

const MARK = '#hostkit-http';

/** The connection, on line 1 of bash's script: its error names `hostkit-http: line 1:` ($0 is hostkit-http). */
const CONNECT = 'exec 3<>"/dev/tcp/$1/$2"';

/**
 * bash, after the connection on fd 3: $3 path, $4 Host header, $5 a CR. HTTP/1.0, Connection:
 * close; up to the blank line that ends the headers (at most 50 lines). No single quote inside.
 */
const REQUEST = [
  'printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\nUser-Agent: hostkit-audit\\r\\nConnection: close\\r\\n\\r\\n" "$3" "$4" >&3',
  'n=0',
  'while [ $n -lt 50 ] && IFS= read -r l <&3; do l=${l%"$5"}; [ -z "$l" ] && break; printf "%s\\n" "$l"; n=$((n+1)); done',
];

/** bash: $1 address, $2 port, $3 path, $4 Host header, $5 a CR. */
const INNER = [`${CONNECT} || exit 3`, ...REQUEST].join('\n');

/**
 * The first address of a running container from the Engine API's JSON of it (one line), in GNU
 * sed (dash's own pattern operators are quadratic on its ~8 KB): the first non-empty "IPAddress"
 * after the top-level "NetworkSettings" (the last field, so its last occurrence) and its
 * "Networks", in the API's order (map keys sorted, as the template's range). A JSON string cannot
 * hold those keys (its quotes are escaped); Labels come before. Prints nothing for another line.
 */
const IP_FROM_JSON = `s/.*"Running":true,.*"NetworkSettings":{.*"Networks":{//; T; s/"IPAddress":"\\([^"][^"]*\\)".*/@@\\1/; T; s/.*@@//p`;
const IPS_FROM_API = `ips=$(printf '%s\\n' "$api" | sed -n '${IP_FROM_JSON}')`;

/** The docker CLI's addresses of a running container (none for a stopped one), space-separated. */
const INSPECT_IPS = `docker inspect -f '{{if .State.Running}}{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}{{end}}'`;

/**
 * The daemon not running: no container answers, and asking it (the API or the CLI) would START a
 * stopped docker.service behind an active docker.socket (socket activation), which a probe must
 * never do.
 */
const WHEN_DOCKERD = unlessDockerdStopped(`echo '${MARK} no-container'; exit 0`);

export function containerHttpFact(container: string, port: number, path: string, host: string): Fact<ContainerHttp> {
  const inspect = `ips=$(${INSPECT_IPS} ${sh([container])} 2>/dev/null) || { echo '${MARK} no-container'; exit 0; }`;
  const script = [
    WHEN_DOCKER,
    WHEN_DOCKERD,
    // The first address of a running container (a stopped one has none): the Engine API where the
    // CLI would ask that socket (a 404 falls back too), the docker CLI otherwise.
    ...(PLAIN_NAME.test(container)
      ? [...DOCKER_API_SOCKET, `if ${apiGet(`/containers/${container}/json`)}; then`, `  ${IPS_FROM_API}`, `else ${inspect}`, 'fi']
      : [inspect]),
    'set -- $ips',
    `[ -n "$1" ] || { echo '${MARK} no-container'; exit 0; }`,
    `echo "${MARK} address $1"`,
    // The CR comes in as an argument: the inner script is single-quoted.
    'cr=$(printf "\\r")',
    `timeout 5 bash -c '${INNER}' hostkit-http "$1" ${sh([String(port), path, host])} "$cr" 2>&1 || echo "${MARK} failed $?"`,
  ].join('\n');
  const fact = defineFact('container.http', [container, port, path, host], script, parseContainerHttp);
  return { ...fact, group: containerHttpGroup({ container, port, path, host }) };
}

export function parseContainerHttp({ stdout }: ProbeOutput): ContainerHttp {
  const lines = stdout.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[0]?.trim() === NO_DOCKER) return { state: 'no-docker' };
  if (lines[0] === `${MARK} no-container`) return { state: 'no-container' };
  const address = /^#hostkit-http address (\S+)$/.exec(lines[0] ?? '')?.[1];
  if (!address) throw new Error(`unexpected probe output: ${stdout.slice(0, 200)}`);
  const rest = lines.slice(1).filter((l) => l !== '');
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(rest[0] ?? '');
  if (!status) return { state: 'no-answer', address, error: rest.join(' ').replace(`${MARK} failed`, 'exit').trim() || 'no answer' };
  const location = rest.slice(1).find((l) => /^location:/i.test(l));
  return {
    state: 'answered',
    address,
    status: Number(status[1]),
    ...(location ? { location: location.replace(/^location:\s*/i, '').trim() } : {}),
  };
}

// ------------------------------------------------------------------------------- the group

/**
 * ONE probe for every container.http fact of a batch: each one alone starts a curl, a sed, a
 * $(printf), a timeout and a bash (~7 in a full audit, on a CPU-bound batch). Here the containers'
 * JSON comes from ONE curl, their addresses from ONE sed, and ONE `timeout 5 bash` asks every
 * member concurrently (a background subshell each, its output to its own file, the same request
 * as INNER); `splitContainerHttp` gives every fact the output its own command would have printed.
 */
export interface HttpMember {
  container: string;
  port: number;
  path: string;
  host: string;
}

const GROUP_MARK = '@@hostkit-http';

export function containerHttpGroup(member: HttpMember): FactGroup<HttpMember> {
  return { id: 'host.container-http', member, command: containerHttpCommand, split: splitContainerHttp };
}

/**
 * bash: $1 the output directory, then `index address port path host` per member. Each member's
 * subshell writes its output (stdout and stderr, as INNER's 2>&1) to DIR/INDEX and its exit code,
 * framed, to DIR/INDEX.rc; one killed by the timeout writes no code. The connection stays on line
 * 1 so bash's words are INNER's; $5 is set to the CR (printf -v: no fork).
 */
const GROUP_INNER = [
  `d=$1; printf -v cr "\\r"; shift; while [ $# -gt 0 ]; do ( i=$1; set -- "$2" "$3" "$4" "$5" "$cr"; ${CONNECT} || { printf "\\n${GROUP_MARK} %s rc %s@@\\n" "$i" 3 >"$d/$i.rc"; exit 3; }`,
  ...REQUEST,
  `printf "\\n${GROUP_MARK} %s rc %s@@\\n" "$i" "$?" >"$d/$i.rc" ) >"$d/$1" 2>&1 & shift 5; done`,
  'wait',
].join('\n');

/**
 * The group's command. Its output: one line per member, `@@hostkit-http I address A@@` or
 * `@@hostkit-http I no-container@@`; then, for each member with an address, its request's output
 * followed by `\n@@hostkit-http I rc CODE@@\n`; then `@@hostkit-http end@@`. NO_DOCKER alone when
 * docker is not installed.
 */
export function containerHttpCommand(members: readonly HttpMember[]): string {
  const containers = [...new Set(members.map((m) => m.container))];
  const plain = containers.filter((c) => PLAIN_NAME.test(c));
  const ip = (container: string) => `$ip${containers.indexOf(container)}`;
  const lines = [
    WHEN_DOCKER,
    // No globbing of the words split below (answers, addresses).
    'set -f',
    // The first address of a container from the CLI: empty when it is stopped or absent.
    `__insp() { ip=$(${INSPECT_IPS} "$1" 2>/dev/null) || ip=; set -- $ip; ip=\${1-}; }`,
    containers.map((_c, k) => `ip${k}=`).join(' '),
    // The daemon not running: every container is "no-container", without asking (see WHEN_DOCKERD).
    `if ${DOCKERD_RUNNING}; then`,
    '  set --',
  ];
  if (plain.length > 0) {
    // Every container's JSON in one curl, each answer's address (none: stopped) and status in one
    // sed, paired into "$@" as STATUS ADDRESS per container, in the URLs' order.
    const sed = `/^${ANSWER_MARK} [0-9]*@@$/{s/^${ANSWER_MARK} \\([0-9]*\\)@@$/@\\1/p;d;}; ${IP_FROM_JSON}`;
    lines.push(
      ...DOCKER_API_SOCKET.map((l) => `  ${l}`),
      `  if [ -n "$sock" ] && [ -S "$sock" ] && ${CURL_PRESENT}; then`,
      `    ids=${quote(plain.join(' '))}; ans=$(${apiGetEach('/containers/%s/json')} 2>/dev/null | sed -n '${sed}')`,
      '    a=; for l in $ans; do case $l in @*) set -- "$@" "${l#@}" "$a"; a=;; *) a=$l;; esac; done',
      '  fi',
    );
  }
  for (const [k, c] of containers.entries()) {
    const j = plain.indexOf(c);
    // A 404 is an absent container (what the CLI would conclude); any other answer, or none: the CLI.
    if (j >= 0) lines.push(`  case \${${2 * j + 1}-} in 200) ip${k}=\${${2 * j + 2}-};; 404) ;; *) __insp ${quote(c)}; ip${k}=$ip;; esac`);
    else lines.push(`  __insp ${quote(c)}; ip${k}=$ip`);
  }
  lines.push('fi', 'set --');
  for (const [i, m] of members.entries()) {
    lines.push(
      `if [ -n "${ip(m.container)}" ]; then printf '${GROUP_MARK} ${i} address %s@@\\n' "${ip(m.container)}"; set -- "$@" ${i} "${ip(m.container)}" ${sh([String(m.port), m.path, m.host])}; else echo '${GROUP_MARK} ${i} no-container@@'; fi`,
    );
  }
  lines.push(
    'if [ $# -gt 0 ]; then',
    '  d=$(mktemp -d) || exit 1',
    // bash's own words (not its members') and timeout's go to stderr.
    `  timeout 5 bash -c '${GROUP_INNER}' hostkit-http "$d" "$@" >&2; g=$?`,
    // A member still running when the timeout killed the group has no code: the group's (124), as its own timeout's.
    '  set --',
    ...members.map(
      (m, i) =>
        `  [ -z "${ip(m.container)}" ] || { [ -s "$d/${i}.rc" ] || printf '\\n${GROUP_MARK} ${i} rc %s@@\\n' "$g" >"$d/${i}.rc"; set -- "$@" "$d/${i}" "$d/${i}.rc"; }`,
    ),
    '  cat "$@"; rm -rf "$d"',
    'fi',
    `echo '${GROUP_MARK} end@@'`,
  );
  return lines.join('\n');
}

/** Each member's own output (as containerHttpFact's command prints it) out of the group's (see containerHttpCommand). */
export function splitContainerHttp(output: ProbeOutput, members: readonly HttpMember[]): ProbeOutput[] {
  const { stdout, stderr } = output;
  const own = (text: string): ProbeOutput => ({ stdout: text, stderr, exitCode: 0 });
  if (stdout === `${NO_DOCKER}\n`) return members.map(() => own(`${NO_DOCKER}\n`));
  const end = `${GROUP_MARK} end@@\n`;
  if (output.exitCode !== 0 || !stdout.endsWith(end))
    throw new Error(`the container.http probe's output is cut short (exit ${output.exitCode}): ${stdout.slice(-200)}`);
  const heads = stdout.split('\n', members.length);
  let cursor = 0;
  const addresses = heads.map((line, i) => {
    cursor += line.length + 1;
    if (line === `${GROUP_MARK} ${i} no-container@@`) return undefined;
    const address = new RegExp(`^${GROUP_MARK} ${i} address (\\S+)@@$`).exec(line)?.[1];
    if (!address) throw new Error(`the container.http probe's line for member ${i} is not its own: ${line.slice(0, 200)}`);
    return address;
  });
  if (addresses.length !== members.length)
    throw new Error(`the container.http probe has ${addresses.length} lines for ${members.length} members`);
  const body = stdout.slice(0, -end.length);
  const outputs = addresses.map((address, i) => {
    if (address === undefined) return own(`${MARK} no-container\n`);
    const frame = new RegExp(`\\n${GROUP_MARK} ${i} rc (\\d+)@@\\n`, 'y');
    const at = body.indexOf(`\n${GROUP_MARK} ${i} rc `, cursor);
    frame.lastIndex = at;
    const rc = at < 0 ? null : frame.exec(body);
    if (!rc) throw new Error(`the container.http probe has no end for member ${i}`);
    const answer = body.slice(cursor, at);
    // A line of ours inside an answer: the frames cannot be trusted.
    if (answer.split('\n').some((l) => l.startsWith(GROUP_MARK)))
      throw new Error(`the container.http probe's answer of member ${i} holds a frame`);
    cursor = frame.lastIndex;
    return own(`${MARK} address ${address}\n${answer}${rc[1] === '0' ? '' : `${MARK} failed ${rc[1]}\n`}`);
  });
  if (cursor !== body.length)
    throw new Error(`the container.http probe has more than its members' answers: ${body.slice(cursor, cursor + 200)}`);
  return outputs;
}
