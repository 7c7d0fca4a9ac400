import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { DOCKER_API_SOCKET, DOCKERD_RUNNING, apiGet, splitSections } from './docker.js';

/**
 * What a host really exposes: every listening socket (`ss -Htulnp`) and every published
 * container port (`docker inspect`, one JSON object per container). Read-only, exit 0, batched
 * with the firewall's other probes. Outputs recorded from a target: test/fixtures/facts/host.listeners/, docker.published/.
 */

export type Proto = 'tcp' | 'udp';

export interface Listener {
  proto: Proto;
  /** "0.0.0.0", "::", "*" (dual-stack any), "127.0.0.1", "10.0.0.5", "fe80::1"... */
  address: string;
  /** Interface scope ("%lo", "%eth0") when ss shows one. */
  iface?: string;
  port: number;
  /** Process names holding the socket ("sshd", "docker-proxy"); empty when ss could not tell. */
  processes: string[];
  pids: number[];
}

/** One `ss -Htulnp` line: Netid State Recv-Q Send-Q Local:Port Peer:Port [Process]. */
export function parseSsLine(line: string): Listener | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 6) return undefined;
  const [netid = '', , , , local = ''] = f;
  if (netid !== 'tcp' && netid !== 'udp') return undefined;
  const m = /^(.*):(\d+|\*)$/.exec(local);
  if (!m || m[2] === '*') return undefined;
  let address = m[1]!;
  let iface: string | undefined;
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const pct = address.indexOf('%');
  if (pct >= 0) {
    iface = address.slice(pct + 1);
    address = address.slice(0, pct);
  }
  const processText = f.slice(6).join(' ');
  const processes: string[] = [];
  const pids: number[] = [];
  for (const p of processText.matchAll(/\("([^"]*)",pid=(\d+)/g)) {
    if (!processes.includes(p[1]!)) processes.push(p[1]!);
    pids.push(Number(p[2]));
  }
  return { proto: netid, address, ...(iface ? { iface } : {}), port: Number(m[2]), processes, pids };
}

export function parseSs(stdout: string): Listener[] {
  return stdout.split('\n').flatMap((l) => {
    const parsed = parseSsLine(l);
    return parsed ? [parsed] : [];
  });
}

export const listenersFact: Fact<Listener[]> = defineFact(
  'host.listeners',
  [],
  // -H no header, -t -u tcp+udp, -l listening, -n numeric, -p processes (root).
  'PATH="$PATH:/usr/sbin:/sbin"; if command -v ss >/dev/null 2>&1; then ss -Htulnp; else echo "@@hostkit no-ss@@"; fi',
  ({ stdout, exitCode, stderr }) => {
    if (stdout.includes('@@hostkit no-ss@@')) throw new Error('ss (iproute2) is not installed: the exposure audit needs it');
    if (exitCode !== 0) throw new Error(`ss failed: ${stderr.trim()}`);
    return parseSs(stdout);
  },
);

/** True for loopback addresses: nothing outside the host can reach them. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.') || a === 'localhost';
}

/** "0.0.0.0" -> v4, "::" -> v6, "*" -> both (a dual-stack socket), else by the address' shape. */
export function familiesOfAddress(address: string): ('v4' | 'v6')[] {
  if (address === '*' || address === '') return ['v4', 'v6'];
  return address.includes(':') ? ['v6'] : ['v4'];
}

// ------------------------------------------------------------------- published container ports

export interface PortBinding {
  /** Container side: "5432/tcp". */
  containerPort: number;
  proto: Proto;
  /** "0.0.0.0", "::", "127.0.0.1", or "" (Docker's "all addresses"). */
  hostIp: string;
  hostPort: number;
}

export interface ContainerPorts {
  name: string;
  id: string;
  /** Compose project/service labels, when the container belongs to a stack. */
  project?: string;
  service?: string;
  networkMode: string;
  /** Networks the container is on: name -> network id (for the bridge name br-<id12>). */
  networks: Record<string, string>;
  bindings: PortBinding[];
}

export interface PublishedPorts {
  /** The docker CLI exists. */
  docker: boolean;
  /** The daemon answered (`docker ps` worked). */
  running: boolean;
  error?: string;
  containers: ContainerPorts[];
}

const MARK = '@@hostkit-published';
/** One line of JSON per running container; Go templates print JSON through `json`. */
export const INSPECT_FORMAT =
  '{"name":{{json .Name}},"id":{{json .Id}},"networkMode":{{json .HostConfig.NetworkMode}},' +
  '"project":{{json (index .Config.Labels "com.docker.compose.project")}},' +
  '"service":{{json (index .Config.Labels "com.docker.compose.service")}},' +
  '"networks":{ {{- range $k, $v := .NetworkSettings.Networks}}{{json $k}}:{{json $v.NetworkID}},{{end -}} "":""},' +
  '"ports":{{json .NetworkSettings.Ports}}}';

/**
 * The running containers in ONE request to the Engine API (GET /containers/json, the list that
 * `docker ps` shows, with ports, labels and networks as structured JSON) through curl on the
 * daemon's unix socket: `docker inspect` asks the daemon once per container, in turn (~100 ms for
 * 35 containers, the critical path of `firewall --check`). Only where the docker CLI would talk
 * to that same socket (no DOCKER_HOST other than it, no DOCKER_CONTEXT or current context);
 * otherwise, or when curl is missing or the request fails, the docker CLI as before.
 */
const API_LIST = [
  ...DOCKER_API_SOCKET,
  `if ${apiGet('/containers/json')}; then`,
  '  m ps; m api; printf \'%s\\n\' "$api"; m end; exit 0',
  'fi',
];

export const PUBLISHED_PROBE = [
  `m() { printf '\\n${MARK} %s@@\\n' "$1"; }`,
  'if command -v docker >/dev/null 2>&1; then',
  // Never wake a socket-activated dockerd from a probe (see DOCKERD_RUNNING): not running, no containers.
  `  if ! ${DOCKERD_RUNNING}; then m ps; echo "docker.service is not running"; m ps-failed; m end; exit 0; fi`,
  ...API_LIST.map((l) => `  ${l}`),
  '  m ps; ids=$(docker ps -q 2>&1); rc=$?',
  '  if [ $rc -ne 0 ]; then echo "$ids"; m ps-failed',
  // A container removed meanwhile makes inspect exit 1 with the others printed: stderr apart.
  `  elif [ -n "$ids" ]; then m inspect; docker inspect --format '${INSPECT_FORMAT}' $ids || true; fi`,
  'fi',
  'm end',
].join('\n');

interface InspectLine {
  name: string;
  id: string;
  networkMode: string;
  project: string | null;
  service: string | null;
  networks: Record<string, string>;
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
}

export function parsePublishedProbe(out: ProbeOutput): PublishedPorts {
  const s = splitSections(out.stdout, MARK);
  if (!s.has('ps')) return { docker: false, running: false, containers: [] };
  if (s.has('ps-failed')) {
    return { docker: true, running: false, error: (s.get('ps') ?? '').trim(), containers: [] };
  }
  if (s.has('api')) return { docker: true, running: true, containers: parseContainerList(s.get('api') ?? '') };
  const containers = (s.get('inspect') ?? '')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((line) => parseInspectLine(line));
  return { docker: true, running: true, containers };
}

/** One entry of the Engine API's GET /containers/json. */
interface ListedContainer {
  Id: string;
  Names?: string[] | null;
  Labels?: Record<string, string> | null;
  HostConfig?: { NetworkMode?: string } | null;
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string }> | null } | null;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | null;
}

/** The API's container list as the inspect lines say it (a port without PublicPort is not published). */
export function parseContainerList(text: string): ContainerPorts[] {
  let list: ListedContainer[];
  try {
    list = JSON.parse(text) as ListedContainer[];
  } catch (err) {
    throw new Error(`the Engine API's container list is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  return list.map((c) => {
    const labels = c.Labels ?? {};
    const project = labels['com.docker.compose.project'];
    const service = labels['com.docker.compose.service'];
    const bindings: PortBinding[] = [];
    for (const p of c.Ports ?? []) {
      if (p.PublicPort === undefined || (p.Type !== 'tcp' && p.Type !== 'udp')) continue;
      bindings.push({ containerPort: p.PrivatePort, proto: p.Type, hostIp: p.IP ?? '', hostPort: p.PublicPort });
    }
    return {
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      ...(project ? { project } : {}),
      ...(service ? { service } : {}),
      networkMode: c.HostConfig?.NetworkMode ?? '',
      networks: Object.fromEntries(Object.entries(c.NetworkSettings?.Networks ?? {}).map(([k, v]) => [k, v.NetworkID ?? ''])),
      bindings,
    };
  });
}

export function parseInspectLine(line: string): ContainerPorts {
  let c: InspectLine;
  try {
    c = JSON.parse(line) as InspectLine;
  } catch (err) {
    throw new Error(`docker inspect printed something else than JSON: ${line.slice(0, 200)}`, { cause: err });
  }
  const bindings: PortBinding[] = [];
  for (const [key, list] of Object.entries(c.ports ?? {})) {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (proto !== 'tcp' && proto !== 'udp') continue; // sctp: not filtered by the firewall here
    for (const b of list ?? []) {
      bindings.push({ containerPort: Number(port), proto, hostIp: b.HostIp, hostPort: Number(b.HostPort) });
    }
  }
  const networks = Object.fromEntries(Object.entries(c.networks ?? {}).filter(([k]) => k !== ''));
  return {
    name: c.name.replace(/^\//, ''),
    id: c.id,
    ...(c.project ? { project: c.project } : {}),
    ...(c.service ? { service: c.service } : {}),
    networkMode: c.networkMode,
    networks,
    bindings,
  };
}

export const publishedPortsFact: Fact<PublishedPorts> = defineFact('docker.published', [], PUBLISHED_PROBE, parsePublishedProbe);
