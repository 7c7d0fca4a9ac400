import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { sh } from '../transports/quote.js';
import { NO_DOCKER, WHEN_DOCKER } from './containers.js';
import { DOCKER_API_SOCKET, DOCKERD_RUNNING, apiGet } from './docker.js';

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

/** bash: $1 address, $2 port, $3 path, $4 Host header, $5 a CR. No single quote inside. */
const INNER = [
  'exec 3<>"/dev/tcp/$1/$2" || exit 3',
  'printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\nUser-Agent: hostkit-audit\\r\\nConnection: close\\r\\n\\r\\n" "$3" "$4" >&3',
  'n=0',
  'while [ $n -lt 50 ] && IFS= read -r l <&3; do l=${l%"$5"}; [ -z "$l" ] && break; printf "%s\\n" "$l"; n=$((n+1)); done',
].join('\n');

/**
 * The first address of a running container into $ips from the Engine API's JSON of it, in one
 * GNU sed (dash's own pattern operators are quadratic on its ~8 KB): the first non-empty
 * "IPAddress" after the top-level "NetworkSettings" (the last field, so its last occurrence) and
 * its "Networks", in the API's order (map keys sorted, as the template's range). A JSON string
 * cannot hold those keys (its quotes are escaped); Labels come before.
 */
const IPS_FROM_API = `ips=$(printf '%s\\n' "$api" | sed -n 's/.*"Running":true,.*"NetworkSettings":{.*"Networks":{//; T; s/"IPAddress":"\\([^"][^"]*\\)".*/@@\\1/; T; s/.*@@//p')`;

/** A container name the API's URL can carry as it is (Docker's own name rule). */
const PLAIN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function containerHttpFact(container: string, port: number, path: string, host: string): Fact<ContainerHttp> {
  const inspect = `ips=$(docker inspect -f '{{if .State.Running}}{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}{{end}}' ${sh([container])} 2>/dev/null) || { echo '${MARK} no-container'; exit 0; }`;
  const script = [
    WHEN_DOCKER,
    // The first address of a running container (a stopped one has none): the Engine API where the
    // CLI would ask that socket and the daemon runs (a 404 falls back too), the docker CLI otherwise.
    ...(PLAIN_NAME.test(container)
      ? [
          ...DOCKER_API_SOCKET,
          `if ${DOCKERD_RUNNING} && ${apiGet(`/containers/${container}/json`)}; then`,
          `  ${IPS_FROM_API}`,
          `else ${inspect}`,
          'fi',
        ]
      : [inspect]),
    'set -- $ips',
    `[ -n "$1" ] || { echo '${MARK} no-container'; exit 0; }`,
    `echo "${MARK} address $1"`,
    // HTTP/1.0, Connection: close; up to the blank line that ends the headers (at most 50 lines).
    // The CR comes in as an argument: the inner script is single-quoted.
    'cr=$(printf "\\r")',
    `timeout 5 bash -c '${INNER}' hostkit-http "$1" ${sh([String(port), path, host])} "$cr" 2>&1 || echo "${MARK} failed $?"`,
  ].join('\n');
  return defineFact('container.http', [container, port, path, host], script, parseContainerHttp);
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
