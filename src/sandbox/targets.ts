import { randomBytes } from 'node:crypto';
import { docker, dockerOk, type RunResult } from './docker.js';
import { DEFAULT_SUITE, ensureImage } from './image.js';
import { ensureSandboxState, readPublicKey, removeKnownHost, setKnownHost } from './keys.js';
import { sandboxPaths } from './paths.js';
import { logsTail, waitForSsh } from './wait.js';

/** Every sandbox container carries this label; `ls`/`down --all` find them by it. */
export const SANDBOX_LABEL = 'hostkit.sandbox';
/** Label naming the run (test run, CLI) that started a target, so a run removes only its own. */
export const RUN_LABEL = 'hostkit.run';
/** Environment variable holding the current run id (set by the integration globalSetup). */
export const RUN_ENV = 'HOSTKIT_SANDBOX_RUN';

export interface Target {
  name: string;
  /** Full container id. */
  container: string;
  address: '127.0.0.1';
  /** Published host port of sshd. Docker picks a new one on restart() unless startTarget got `port`. */
  port: number;
  /** Management private key (root and admin accept it). */
  keyFile: string;
  knownHosts: string;
  /** Address on the Docker network (the one given to startTarget, else the default bridge). */
  containerIp: string;
  /** The target's ed25519 host public key, "ssh-ed25519 AAAA...". */
  hostKey: string;
  remove(): Promise<void>;
  /** `docker exec NAME sh -c cmd` as root: for test assertions only, never for provisioning. */
  exec(cmd: string): Promise<RunResult>;
  /** docker restart, then wait for sshd again (port and known_hosts updated in place). */
  restart(): Promise<void>;
}

export interface StartTargetOptions {
  /** Container and host name; default hostkit-t-<random>. */
  name?: string;
  /** Debian suite of the image (DEBIAN_SUITES: bookworm, trixie); default trixie. */
  suite?: string;
  /** Docker network to join (e.g. a shared one for an attacker container). */
  network?: string;
  /** Fixed host port for sshd (survives restarts); default: Docker chooses. */
  port?: number;
  /** Run id label; default $HOSTKIT_SANDBOX_RUN, else "manual". */
  runId?: string;
  /** Seconds to wait for sshd; default 30. */
  timeoutS?: number;
}

export interface TargetInfo {
  name: string;
  container: string;
  state: string;
  port?: number;
  runId: string;
  image: string;
}

const ADDRESS = '127.0.0.1' as const;
const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key.pub';

export function currentRunId(): string {
  return process.env[RUN_ENV] || 'manual';
}

/** Flags from the verified recipe: systemd as PID 1 needs the host cgroup tree and no seccomp. */
function runArgs(name: string, image: string, o: StartTargetOptions): string[] {
  return [
    'run',
    '-d',
    '--name',
    name,
    '--hostname',
    name,
    '--label',
    `${SANDBOX_LABEL}=1`,
    '--label',
    `${RUN_LABEL}=${o.runId ?? currentRunId()}`,
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '--device-cgroup-rule',
    'a *:* rwm',
    '--cgroupns=host',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
    '-v',
    '/var/lib/docker', // anonymous volume: removed with `rm -v`
    '--stop-signal',
    'SIGRTMIN+3', // systemd's "halt" signal
    '-p',
    `${ADDRESS}:${o.port ?? ''}:22`,
    ...(o.network ? ['--network', o.network] : []),
    image,
  ];
}

interface Inspected {
  id: string;
  port: number;
  ip: string;
}

async function inspect(name: string, network?: string): Promise<Inspected> {
  const [c] = JSON.parse(await dockerOk(['inspect', '--type', 'container', name])) as Array<{
    Id: string;
    NetworkSettings: {
      Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
      Networks: Record<string, { IPAddress: string }>;
    };
  }>;
  if (!c) throw new Error(`docker inspect ${name}: no such container`);
  const binding = (c.NetworkSettings.Ports['22/tcp'] ?? []).find((b) => b.HostIp === ADDRESS);
  if (!binding) throw new Error(`sandbox target ${name}: port 22 is not published on ${ADDRESS} (stopped?)`);
  const nets = c.NetworkSettings.Networks;
  const ip = (network ? nets[network]?.IPAddress : undefined) ?? Object.values(nets)[0]?.IPAddress ?? '';
  return { id: c.Id, port: Number(binding.HostPort), ip };
}

/** Authorise the management key for root and admin; works before sshd is up (plain files). */
async function installKey(name: string, publicKey: string): Promise<void> {
  const script = [
    'set -e; k=$(cat)',
    'install -d -m 700 /root/.ssh && printf "%s\\n" "$k" > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys',
    'install -d -m 700 -o admin -g admin /home/admin/.ssh',
    'printf "%s\\n" "$k" > /home/admin/.ssh/authorized_keys',
    'chown admin:admin /home/admin/.ssh/authorized_keys && chmod 600 /home/admin/.ssh/authorized_keys',
  ].join('\n');
  await dockerOk(['exec', '-i', name, 'sh', '-c', script], { input: publicKey });
}

async function readHostKey(name: string): Promise<string> {
  const line = await dockerOk(['exec', name, 'cat', HOST_KEY]);
  return line.trim().split(/\s+/).slice(0, 2).join(' '); // drop the "root@host" comment
}

class SandboxTarget implements Target {
  readonly address = ADDRESS;
  constructor(
    readonly name: string,
    public container: string,
    public port: number,
    readonly keyFile: string,
    readonly knownHosts: string,
    public containerIp: string,
    public hostKey: string,
    private readonly network: string | undefined,
    private readonly timeoutS: number,
  ) {}

  async remove(): Promise<void> {
    await removeContainer(this.name);
    await removeKnownHost(this.knownHosts, this.address, this.port, this.hostKey);
  }

  exec(cmd: string): Promise<RunResult> {
    return docker(['exec', this.name, 'sh', '-c', cmd]);
  }

  async restart(): Promise<void> {
    const oldPort = this.port;
    await dockerOk(['restart', '--time', '10', this.name]);
    const info = await inspect(this.name, this.network);
    await waitForSsh(this.name, this.address, info.port, this.timeoutS * 1000);
    // Host keys live on the container's filesystem and survive; re-read anyway, cheap and exact.
    this.hostKey = await readHostKey(this.name);
    if (info.port !== oldPort) await removeKnownHost(this.knownHosts, this.address, oldPort, this.hostKey);
    await setKnownHost(this.knownHosts, this.address, info.port, this.hostKey);
    this.port = info.port;
    this.containerIp = info.ip;
    this.container = info.id;
  }
}

/**
 * Start a disposable Debian server: systemd as PID 1, sshd on 127.0.0.1:<port>, the management
 * key authorised for root and admin, its host key pinned in the sandbox known_hosts. Resolves
 * once sshd sends its banner. On failure the container is removed and the error carries its log.
 */
export async function startTarget(opts: StartTargetOptions = {}): Promise<Target> {
  const name = opts.name ?? `hostkit-t-${randomBytes(4).toString('hex')}`;
  const timeoutS = opts.timeoutS ?? 30;
  const [image, paths] = await Promise.all([ensureImage(opts.suite ?? DEFAULT_SUITE), ensureSandboxState(sandboxPaths())]);
  const publicKey = await readPublicKey(paths);
  await dockerOk(runArgs(name, image, opts));
  try {
    const [info] = await Promise.all([inspect(name, opts.network), installKey(name, publicKey)]);
    await waitForSsh(name, ADDRESS, info.port, timeoutS * 1000);
    const hostKey = await readHostKey(name);
    await setKnownHost(paths.knownHosts, ADDRESS, info.port, hostKey);
    return new SandboxTarget(name, info.id, info.port, paths.keyFile, paths.knownHosts, info.ip, hostKey, opts.network, timeoutS);
  } catch (e) {
    const log = e instanceof Error && e.message.includes('docker logs') ? '' : `\ndocker logs --tail 30 ${name}:\n${await logsTail(name)}`;
    await removeContainer(name).catch(() => undefined);
    throw new Error(`${(e as Error).message}${log}`, { cause: e });
  }
}

/**
 * Starts a stopped sandbox container again (after a reboot or a dockerd restart, Docker leaves
 * it exited) and waits for its sshd; its state on disk is kept, its SSH port may be a new one.
 */
export async function resumeTarget(name: string, opts: { network?: string; timeoutS?: number } = {}): Promise<Target> {
  await dockerOk(['start', name]);
  const info = await inspect(name, opts.network);
  await waitForSsh(name, ADDRESS, info.port, (opts.timeoutS ?? 30) * 1000);
  return attachTarget(name, opts);
}

/** A Target handle for an existing sandbox container (e.g. one started by `sandbox up`). */
export async function attachTarget(name: string, opts: { network?: string; timeoutS?: number } = {}): Promise<Target> {
  const paths = await ensureSandboxState(sandboxPaths());
  const info = await inspect(name, opts.network);
  const hostKey = await readHostKey(name);
  await setKnownHost(paths.knownHosts, ADDRESS, info.port, hostKey);
  return new SandboxTarget(name, info.id, info.port, paths.keyFile, paths.knownHosts, info.ip, hostKey, opts.network, opts.timeoutS ?? 30);
}

/** Remove a container with its anonymous volumes; false when it did not exist. */
async function removeContainer(name: string): Promise<boolean> {
  const r = await docker(['rm', '-f', '-v', name]);
  // `rm -f` exits 0 for a missing container (Docker 28) but still says so on stderr.
  if (/no such container/i.test(r.stderr)) return false;
  if (r.exitCode !== 0) throw new Error(`docker rm -f -v ${name} failed: ${r.stderr.trim()}`);
  return true;
}

/**
 * Remove a sandbox container with its anonymous volumes, and its known_hosts line when the
 * container still runs (its host key is read first); false when it did not exist.
 */
export async function removeTarget(name: string): Promise<boolean> {
  const pinned = await Promise.all([inspect(name), readHostKey(name)]).catch(() => undefined);
  const removed = await removeContainer(name);
  if (pinned) await removeKnownHost(sandboxPaths().knownHosts, ADDRESS, pinned[0].port, pinned[1]);
  return removed;
}

/** Sandbox containers (any state), optionally only those of one run. */
export async function listTargets(opts: { runId?: string } = {}): Promise<TargetInfo[]> {
  const filters = ['--filter', `label=${SANDBOX_LABEL}=1`, ...(opts.runId ? ['--filter', `label=${RUN_LABEL}=${opts.runId}`] : [])];
  const fmt = `{{.Names}}\t{{.ID}}\t{{.State}}\t{{.Ports}}\t{{.Label "${RUN_LABEL}"}}\t{{.Image}}`;
  const out = await dockerOk(['ps', '-a', '--no-trunc', ...filters, '--format', fmt]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', container = '', state = '', ports = '', runId = '', image = ''] = line.split('\t');
      const port = /127\.0\.0\.1:(\d+)->22\/tcp/.exec(ports)?.[1];
      return { name, container, state, ...(port ? { port: Number(port) } : {}), runId, image };
    });
}

/** Remove all sandbox containers, or only one run's; returns the names removed. */
export async function removeAllTargets(opts: { runId?: string } = {}): Promise<string[]> {
  const targets = await listTargets(opts);
  await Promise.all(targets.map((t) => removeTarget(t.name)));
  return targets.map((t) => t.name);
}
