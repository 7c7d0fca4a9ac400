// The cheap probes on a real target (issue 11): one exec per host for a whole --check, compose's
// config hashes from the apply's record equal to compose's own answer (clean, drifted, stale
// record), and drift made by hand between two audits always reported (exit 2), whatever is cached.
import { execa } from 'execa';
import { dataRootFact } from '../../src/backup/facts.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatherFacts, probesOf } from '../../src/engine/gather.js';
import { runPlaybook } from '../../src/engine/run.js';
import type { HostReport, Mode, Role } from '../../src/engine/types.js';
import {
  composeCacheFile,
  composeConfigHashesFact,
  composeHashesFact,
  composeProjectsFact,
  configHashesOf,
  parseComposeLs,
  recordComposeHashesScript,
} from '../../src/facts/compose.js';
import { containerHttpFact, parseContainerHttp } from '../../src/facts/container-http.js';
import { databaseObjectsFact } from '../../src/facts/databases.js';
import { containersFact, parseContainers } from '../../src/facts/containers.js';
import { fileContentFact } from '../../src/facts/file-content.js';
import { fileFact } from '../../src/facts/file.js';
import { pathFact, pathIdsFact } from '../../src/facts/stat.js';
import { imagesFact, parseImages } from '../../src/facts/images.js';
import { networksFact, parseNetworks } from '../../src/facts/networks.js';
import { CURL_PRESENT, DOCKER_ENGINE_PROBE, DOCKERD_RUNNING, parseDockerEngineProbe } from '../../src/facts/docker.js';
import { fail2banFact, parseFail2banProbe } from '../../src/facts/fail2ban.js';
import { parseUfwStatusVerbose, ufwState } from '../../src/facts/ufw.js';
import { PUBLISHED_PROBE, parsePublishedProbe } from '../../src/facts/listeners.js';
import { loadInventory } from '../../src/inventory/index.js';
import type { Inventory } from '../../src/inventory/types.js';
import { renderCompose } from '../../src/platform/compose.js';
import type { ServiceModel, StackModel } from '../../src/platform/model.js';
import { renderEnvFile } from '../../src/platform/secrets.js';
import { Directory } from '../../src/resources/directory.js';
import { StackComposeFile, StackEnvFile } from '../../src/resources/stack-files.js';
import { StackUp } from '../../src/resources/stack-up.js';
import { ROLES } from '../../src/roles/index.js';
import { openTransport } from '../../src/transports/connect.js';
import { useTarget } from './harness.js';

/** The 2 MB busybox base the sandbox builds locally for its stand-ins (no registry): loaded into the target's Docker. */
const LOCAL_BUSYBOX = 'hostkit-standin-base/scratch';
const IMAGE = 'hostkit-probe/busybox:1';
const DIR = '/opt/hostkit/stacks/probe-stack';
const LONG_NAME = `long-${'n'.repeat(115)}`;

const service = (key: string): ServiceModel => ({
  stack: 'probe-stack',
  key,
  containerName: `probe-${key}`,
  image: IMAGE,
  description: `probe service ${key}`,
  command: ['sleep', '86400'],
  ports: [],
  expose: [],
  environment: [{ name: 'GREETING', secret: 'probe_greeting' }],
  volumes: [],
  networks: ['net'],
  dependsOn: [],
  restart: 'unless-stopped',
  domains: [],
});
const stack: StackModel = {
  name: 'probe-stack',
  layer: 'production',
  description: 'two busybox services',
  networks: [{ key: 'net', name: 'probe-stack_net' }],
  services: [service('a'), service('b')],
  dir: DIR,
};

/** The stacks role's resources for one stack, as src/roles/stacks.ts builds them. */
const stackRole: Role = {
  name: 'probe-stack',
  description: 'one compose stack through the stacks role resources',
  build: () => {
    const dir = new Directory({ path: DIR, owner: 'root', group: 'root', mode: '0750' });
    const secrets = new Map([['probe_greeting', 'hello']]);
    const env = new StackEnvFile({ stack: stack.name, dir: DIR, content: renderEnvFile(stack, secrets) }, { requires: [dir] });
    const compose = new StackComposeFile({ stack: stack.name, dir: DIR, content: renderCompose(stack) }, { requires: [dir, env] });
    const up = new StackUp({ stack, waitTimeoutS: 60, files: { env, compose } }, { requires: [dir, env, compose] });
    return { resources: [dir, env, compose, up] };
  },
};

/** `probe` with one path of it switched off; a probe that no longer has that text fails loudly (both "paths" would be one). */
function replaced(probe: string, text: string, by: string): string {
  expect(probe, `the probe no longer contains ${text}`).toContain(text);
  return probe.replace(text, by);
}

const PLATFORM = `firewall:
  defaults: { incoming: deny, outgoing: allow }
  rules:
    - { port: 22, proto: tcp, comment: ssh }
fail2ban:
  bantime: 600
  findtime: 10m
  maxretry: 5
`;

describe('probes on a real target: one exec per --check, cached compose hashes, drift between audits', () => {
  const sb = useTarget({ platformYaml: PLATFORM });
  let inventory: Inventory;
  const roles = () => [...ROLES.filter((r) => r.name === 'firewall' || r.name === 'fail2ban'), stackRole];
  const run = (mode: Mode) => runPlaybook(inventory, roles(), { mode });
  const sh = async (cmd: string) => {
    const r = await sb.target.exec(cmd);
    if (r.exitCode !== 0) throw new Error(`${cmd}: exit ${r.exitCode}: ${r.stderr}`);
    return r.stdout;
  };
  const drift = (reports: HostReport[]) =>
    reports.flatMap((h) =>
      h.resources.filter((r) => r.status === 'would-change').flatMap((r) => r.changes.map((c) => `${r.id}: ${c.summary}`)),
    );
  const changed = (reports: HostReport[]) => reports.flatMap((h) => h.resources.filter((r) => r.status === 'changed').map((r) => r.id));
  /** compose's own answer and the cached fact's, over the run's kind of connection. */
  const bothHashes = async () => {
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      const facts = await gatherFacts(t, [composeHashesFact(DIR), composeConfigHashesFact([DIR])]);
      return { compose: facts.get(composeHashesFact(DIR)), cached: configHashesOf(facts.get(composeConfigHashesFact([DIR])), DIR) };
    } finally {
      await t.close();
    }
  };

  beforeAll(async () => {
    await sh('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose curl >/dev/null 2>&1');
    const local = (await execa('docker', ['images', '-q', LOCAL_BUSYBOX])).stdout.split('\n')[0];
    if (!local) throw new Error(`no local image ${LOCAL_BUSYBOX}: run npm run demo once (it builds the stand-ins)`);
    await execa('sh', ['-c', `docker save ${local} | docker exec -i ${sb.target.name} docker load -q`]);
    // Busybox itself as the entrypoint (the stand-in's script wants its spec file): a commit, no build, no registry.
    await sh(
      `c=$(docker create ${local}) && docker commit -c 'ENTRYPOINT ["/bin/busybox"]' "$c" ${IMAGE} >/dev/null && docker rm "$c" >/dev/null`,
    );
    inventory = await loadInventory([sb.inventory]);
  }, 600_000);

  it('apply converges, a second apply changes nothing, and the check is ONE exec on one connection', async () => {
    const first = await run('apply');
    expect(first.reports.map((r) => r.error).filter(Boolean)).toEqual([]);
    expect(first.exitCode).toBe(0);
    expect(changed(first.reports)).toContain('stack probe-stack');
    const second = await run('apply');
    expect(changed(second.reports)).toEqual([]);
    expect(second.exitCode).toBe(0);
    const check = await run('check');
    expect(drift(check.reports)).toEqual([]);
    expect(check.exitCode).toBe(0);
    const last = check.reports[check.reports.length - 1]!;
    expect(last.stats).toEqual({ connections: 1, execs: 1 });
    expect(check.reports.map((r) => r.role)).toEqual(['firewall', 'fail2ban', 'probe-stack']);
  }, 600_000);

  it('fail2ban in ONE client start says what one client call per jail and command says: as applied, a jail added by hand, the server stopped', async () => {
    // The earlier probe: `ufw status` and two client calls per jail.
    const perJail = [
      'printf "@@ufw %s\\n" "$(ufw status 2>/dev/null | head -n1)"',
      'echo "@@installed yes"',
      'printf "@@active %s\\n" "$(systemctl is-active fail2ban 2>/dev/null)"',
      'if out=$(fail2ban-client status 2>&1); then',
      '  echo "@@status"; printf "%s\\n" "$out"',
      '  for j in $(printf "%s\\n" "$out" | sed -n "s/.*Jail list:[[:space:]]*//p" | tr "," " "); do',
      '    echo "@@jail $j"; fail2ban-client status "$j" 2>&1; echo "@@actions $j"; fail2ban-client get "$j" actions 2>&1',
      '  done',
      'else echo "@@down"; printf "%s\\n" "$out"; fi',
    ].join('\n');
    const EXTRA = '/etc/fail2ban/jail.d/zz-probe-by-hand.local';
    const t = await openTransport(inventory.hosts[0]!, {});
    const both = async () => ({
      ours: (await gatherFacts(t, [fail2banFact])).get(fail2banFact),
      theirs: parseFail2banProbe((await t.exec(perJail)).stdout),
    });
    try {
      const applied = await both();
      expect(applied.ours.jails).toEqual(['recidive', 'sshd']);
      expect(applied.ours.ufwActive).toBe(true);
      expect(applied.ours).toEqual(applied.theirs);

      // A jail no inventory declares, started by hand: seen and described by the same session.
      await sh(
        `printf '[probe-by-hand]\\nenabled = true\\nfilter = sshd\\nbackend = systemd\\n' >${EXTRA} && fail2ban-client reload >/dev/null`,
      );
      const byHand = await both();
      expect(byHand.ours.jails).toEqual(['probe-by-hand', 'recidive', 'sshd']);
      expect(byHand.ours.status.get('probe-by-hand')).toMatchObject({ journalMatches: expect.any(String), actions: ['ufw'] });
      expect(byHand.ours).toEqual(byHand.theirs);

      // The server stopped: down, in the client's own words (its log line's time and pid aside).
      await sh('systemctl stop fail2ban');
      const down = await both();
      const words = (s: typeof down.ours) => ({ ...s, error: s.error?.replace(/^.*?\[\d+\]:\s*/, '') });
      expect(down.ours).toMatchObject({ running: false, active: 'inactive', error: expect.stringContaining('fail2ban.sock') });
      expect(words(down.ours)).toEqual(words(down.theirs));
    } finally {
      await t.close();
      await sh(
        `rm -f ${EXTRA}; systemctl start fail2ban; for i in $(seq 100); do fail2ban-client ping >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1`,
      );
    }
  }, 180_000);

  it("published ports from the Engine API's container list say what docker inspect says, a published port included", async () => {
    await sh(`docker run -d --name probe-published -p 127.0.0.1:18080:80 -p 18081:81/udp ${IMAGE} sleep 600 >/dev/null`);
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      const viaCli = replaced(PUBLISHED_PROBE, CURL_PRESENT, 'false');
      const api = await t.exec(PUBLISHED_PROBE);
      const cli = await t.exec(viaCli);
      expect(api.stdout).toContain('@@hostkit-published api@@');
      expect(cli.stdout).toContain('@@hostkit-published inspect@@');
      const norm = (r: ReturnType<typeof parsePublishedProbe>) =>
        r.containers
          .map((c) => ({
            ...c,
            bindings: [...c.bindings].sort((a, b) => `${a.hostIp}${a.hostPort}`.localeCompare(`${b.hostIp}${b.hostPort}`)),
          }))
          .sort((a, b) => a.name.localeCompare(b.name));
      const fromApi = norm(parsePublishedProbe(api));
      expect(fromApi).toEqual(norm(parsePublishedProbe(cli)));
      expect(fromApi.find((c) => c.name === 'probe-published')?.bindings).toEqual(
        expect.arrayContaining([
          { containerPort: 80, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 18080 },
          expect.objectContaining({ containerPort: 81, proto: 'udp', hostPort: 18081 }),
        ]),
      );
    } finally {
      await t.close();
      await sh('docker rm -f probe-published >/dev/null');
    }
  }, 120_000);

  it('docker.engine from the Engine API and the compose plugin run directly says what the docker CLI says', async () => {
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      const viaCli = replaced(replaced(DOCKER_ENGINE_PROBE, CURL_PRESENT, 'false'), '[ -x "$plugin" ]', 'false');
      const api = await t.exec(DOCKER_ENGINE_PROBE);
      const cli = await t.exec(viaCli);
      expect(api.stdout).toContain('@@hostkit-docker api-version@@');
      expect(cli.stdout).toContain('@@hostkit-docker version@@');
      const fromCli = parseDockerEngineProbe(cli);
      expect(fromCli).toMatchObject({ cli: true, engineVersion: expect.any(String), composeVersion: expect.any(String) });
      // The client's version is only shown when the daemon does not answer: the API path has none.
      const { clientVersion: _client, ...rest } = fromCli;
      expect(parseDockerEngineProbe(api)).toEqual(rest);
    } finally {
      await t.close();
    }
  }, 120_000);

  it("the daemon's liveness from its pid file says what systemctl says: running, a pid file naming another process, none", async () => {
    // Which path answered: systemd's answer replaced by `false`, so only the pid file can say yes.
    const pidFileOnly = `if ${replaced(DOCKERD_RUNNING, 'systemctl is-active --quiet docker.service', 'false')}; then echo yes; else echo no; fi`;
    const both = `if ${DOCKERD_RUNNING}; then echo yes; else echo no; fi`;
    expect((await sh('systemctl is-active docker.service')).trim()).toBe('active');
    expect((await sh(pidFileOnly)).trim()).toBe('yes');
    expect((await sh(both)).trim()).toBe('yes');
    const pid = (await sh('cat /var/run/docker.pid')).trim();
    try {
      // A pid file left by a crash whose number now names another process (PID 1, systemd): systemd decides.
      await sh('printf 1 >/var/run/docker.pid');
      expect((await sh(pidFileOnly)).trim()).toBe('no');
      expect((await sh(both)).trim()).toBe('yes');
      await sh('rm /var/run/docker.pid');
      expect((await sh(pidFileOnly)).trim()).toBe('no');
      expect((await sh(both)).trim()).toBe('yes');
    } finally {
      await sh(`printf %s ${pid} >/var/run/docker.pid`);
    }
    expect((await sh(pidFileOnly)).trim()).toBe('yes');
  }, 120_000);

  it("container.http from the Engine API's JSON of the container says what docker inspect says: running on two networks, stopped, absent", async () => {
    await sh(`docker network create probe-http-b >/dev/null`);
    await sh(`docker run -d --name probe-http --network probe-http-b ${IMAGE} sleep 600 >/dev/null`);
    await sh(`docker network connect bridge probe-http && docker run -d --name probe-http-stopped ${IMAGE} true >/dev/null`);
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      for (const name of ['probe-http', 'probe-http-stopped', 'probe-http-absent']) {
        const probe = containerHttpFact(name, 1, '/', 'x').command;
        // The API path alone (no docker inspect to fall back on), then the CLI path alone.
        const api = await t.exec(replaced(probe, 'else ips=$(docker inspect', 'else ips=$(false'));
        const cli = await t.exec(replaced(probe, CURL_PRESENT, 'false'));
        expect(parseContainerHttp(api)).toEqual(parseContainerHttp(cli));
      }
      expect(parseContainerHttp(await t.exec(containerHttpFact('probe-http', 1, '/', 'x').command))).toMatchObject({ state: 'no-answer' });
      expect(parseContainerHttp(await t.exec(containerHttpFact('probe-http-stopped', 1, '/', 'x').command))).toEqual({
        state: 'no-container',
      });
    } finally {
      await t.close();
      await sh('docker rm -f probe-http probe-http-stopped >/dev/null; docker network rm probe-http-b >/dev/null');
    }
  }, 120_000);

  it("the container.http facts merged into ONE probe print what each one's own probe prints: running on two networks, stopped, absent, a refused port", async () => {
    await sh('docker network create probe-httpg-b >/dev/null');
    // Port 80: an nc that reads the request to its blank line (a server closing on unread bytes sends
    // a reset, which can beat its answer: busybox httpd's 404 does) and answers 302; nothing on 81.
    const server = Buffer.from(
      `cr=$(printf '\\r')\nwhile read -r l; do case $l in ''|"$cr") break;; esac; done\nprintf 'HTTP/1.1 302 Found\\r\\nLocation: /core/install.php\\r\\n\\r\\n'\n`,
    ).toString('base64');
    await sh(
      `docker run -d --name probe-httpg --network probe-httpg-b ${IMAGE} sh -c 'echo ${server} | base64 -d >/s.sh && exec nc -ll -p 80 -e sh /s.sh' >/dev/null`,
    );
    await sh(`docker network connect bridge probe-httpg && docker run --name probe-httpg-stopped ${IMAGE} true >/dev/null`);
    const facts = [
      containerHttpFact('probe-httpg', 80, '/', 'probe.example.org'),
      containerHttpFact('probe-httpg', 81, '/', 'probe.example.org'),
      containerHttpFact('probe-httpg-stopped', 80, '/', 'x'),
      containerHttpFact('probe-httpg-absent', 80, '/', 'x'),
    ];
    const [probe, ...more] = probesOf(facts);
    expect(more).toEqual([]);
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      // The server listens before the first request.
      await sh(
        `ip=$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' probe-httpg); for i in $(seq 50); do bash -c "exec 3<>/dev/tcp/$ip/80" 2>/dev/null && exit 0; sleep 0.2; done; exit 1`,
      );
      const merged = probe!.split(await t.exec(probe!.command));
      const own = await Promise.all(facts.map((f) => t.exec(f.command)));
      expect(merged.map((o) => o.stdout)).toEqual(own.map((o) => o.stdout));
      expect(merged.map((o) => parseContainerHttp(o).state)).toEqual(['answered', 'no-answer', 'no-container', 'no-container']);
      expect(merged[1]!.stdout).toMatch(/^hostkit-http: line 1: \/dev\/tcp\/[\d.]+\/81: Connection refused$/m);
      // And through the engine, in one batch with another fact.
      const gathered = await gatherFacts(t, [...facts, containersFact]);
      for (const [i, f] of facts.entries()) expect(gathered.get(f), f.key).toEqual(parseContainerHttp(own[i]!));
    } finally {
      await t.close();
      await sh('docker rm -f probe-httpg probe-httpg-stopped >/dev/null; docker network rm probe-httpg-b >/dev/null');
    }
  }, 120_000);

  it('with docker.service stopped behind an active docker.socket, no Docker probe starts the daemon (container.http alone or merged, db.objects, containers, networks, images, compose ls, the engine, published ports, the recovery)', async () => {
    expect((await sh('systemctl is-active docker.socket')).trim()).toBe('active');
    const http = [containerHttpFact('probe-a', 80, '/', 'x'), containerHttpFact('probe-b', 80, '/', 'x')];
    const db = databaseObjectsFact('probe-db', 'postgres', 'postgres');
    const isActive = async () => (await sb.target.exec('systemctl is-active docker.service')).stdout.trim();
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      await sh('systemctl stop docker.service');
      expect(await isActive()).toBe('inactive');
      const merged = await gatherFacts(t, [...http, db]);
      expect(http.map((f) => merged.get(f))).toEqual([{ state: 'no-container' }, { state: 'no-container' }]);
      expect(merged.get(db)).toEqual({ state: 'not-ready', detail: 'docker.service is not running' });
      expect(parseContainerHttp(await t.exec(http[0]!.command))).toEqual({ state: 'no-container' });
      expect(db.parse(await t.exec(db.command))).toEqual({ state: 'not-ready', detail: 'docker.service is not running' });
      // The others, on their Engine API path and on their CLI fallback (curl taken away): they fail
      // as a daemon that does not answer, without asking it.
      for (const fact of [containersFact, networksFact, imagesFact(), composeProjectsFact]) {
        for (const command of [fact.command, replaced(fact.command, CURL_PRESENT, 'false')]) {
          const out = await t.exec(command);
          expect(out.exitCode, fact.key).toBe(1);
          expect(out.stderr, fact.key).toMatch(/docker\.service is not running \(not asked/);
        }
      }
      expect(parseDockerEngineProbe(await t.exec(DOCKER_ENGINE_PROBE))).toMatchObject({ versionError: 'docker.service is not running' });
      expect(parsePublishedProbe(await t.exec(PUBLISHED_PROBE))).toMatchObject({ running: false });
      // compose's config hashes of a stack with no record: compose runs, and pings no daemon.
      await sh(`mkdir -p /root/probe-wake && printf 'services:\\n  a:\\n    image: ${IMAGE}\\n' >/root/probe-wake/compose.yaml`);
      const hashes = composeConfigHashesFact(['/root/probe-wake']);
      expect(configHashesOf(hashes.parse(await t.exec(hashes.command)), '/root/probe-wake')).toMatchObject({ state: 'ok', cached: false });
      const dataRoot = dataRootFact('/mnt/data', ['probe-db']);
      expect(dataRoot.parse(await t.exec(dataRoot.command))).toMatchObject({ running: [] });
      // Still stopped: nothing asked the socket.
      expect(await isActive()).toBe('inactive');
      // The control: the CLI asking the socket does start the service here (socket activation).
      await sb.target.exec('docker inspect probe-a >/dev/null 2>&1');
      await sh('for i in $(seq 50); do systemctl is-active --quiet docker.service && exit 0; sleep 0.2; done; exit 1');
    } finally {
      await t.close();
      await sh('rm -rf /root/probe-wake');
      await sh('systemctl start docker.service && for i in $(seq 100); do docker info >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1');
    }
    expect(await isActive()).toBe('active');
  }, 120_000);

  it('containers, networks and images from the Engine API say what docker inspect says: running, exited, removed meanwhile', async () => {
    await sh(`docker network create probe-objects >/dev/null && docker tag ${IMAGE} hostkit-probe/second:tag`);
    await sh(
      `docker run -d --name probe-objects-up --network probe-objects --label 'probe=a "quoted" label' ${IMAGE} sleep 600 >/dev/null`,
    );
    await sh(`docker run --name probe-objects-exited ${IMAGE} sh -c 'exit 3' || true`);
    const t = await openTransport(inventory.hosts[0]!, {});
    const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
    try {
      const both = async (command: string) => {
        const api = await t.exec(command);
        const cli = await t.exec(replaced(command, CURL_PRESENT, 'false'));
        expect(api.stdout).toMatch(/^#hostkit: engine api/);
        expect(cli.stdout).toMatch(/^\[/);
        return { api, cli };
      };
      const containers = await both(containersFact.command);
      const fromApi = parseContainers(containers.api);
      expect(fromApi).toEqual(parseContainers(containers.cli));
      expect(fromApi.containers.find((c) => c.name === 'probe-objects-exited')).toMatchObject({ status: 'exited', exitCode: 3 });
      expect(fromApi.containers.find((c) => c.name === 'probe-objects-up')?.labels.probe).toBe('a "quoted" label');
      // `docker network ls` sorts by name, the API does not: the same networks, each the same.
      const networks = await both(networksFact.command);
      const nets = parseNetworks(networks.api);
      expect(byName(nets.networks)).toEqual(byName(parseNetworks(networks.cli).networks));
      expect(nets.networks.find((n) => n.name === 'probe-objects')?.containers.map((c) => c.name)).toEqual(['probe-objects-up']);
      const images = await both(imagesFact().command);
      const tags = parseImages(images.api);
      expect(tags).toEqual(parseImages(images.cli));
      expect(tags.byTag.get('hostkit-probe/second:tag')?.id).toBe(tags.byTag.get(IMAGE)?.id);

      // A container removed between the list and the inspects: left out, the others kept, on both paths.
      const gone = () => sh(`docker run -d --name probe-gone ${IMAGE} sleep 600 >/dev/null`);
      await gone();
      const api = await t.exec(
        replaced(containersFact.command, '); { [ -z "$ids" ]', '); docker rm -f probe-gone >/dev/null; { [ -z "$ids" ]'),
      );
      await gone();
      const cli = await t.exec(
        replaced(
          replaced(containersFact.command, CURL_PRESENT, 'false'),
          'docker inspect $ids',
          'docker rm -f probe-gone >/dev/null; docker inspect $ids',
        ),
      );
      expect(api.stdout).toContain('@@hostkit-api 404@@');
      const left = parseContainers(api);
      expect(left.containers.map((c) => c.name)).toEqual(expect.arrayContaining(['probe-objects-up', 'probe-objects-exited']));
      expect(left.containers.map((c) => c.name)).not.toContain('probe-gone');
      expect(left).toEqual(parseContainers(cli));
    } finally {
      await t.close();
      await sh(
        'docker rm -f probe-objects-up probe-objects-exited probe-gone >/dev/null 2>&1; docker network rm probe-objects >/dev/null; docker rmi hostkit-probe/second:tag >/dev/null',
      );
    }
  }, 120_000);

  it('compose projects from the Engine API say what `docker compose ls -a` says: states, several and missing config files, foreign labels', async () => {
    const labels = (project: string, files?: string, hash = 'h') =>
      [`--label com.docker.compose.project=${project}`, hash ? `--label com.docker.compose.config-hash=${hash}` : '']
        .concat(files === undefined ? [] : [`--label com.docker.compose.project.config_files=${files}`])
        .join(' ');
    const names = ['probe-ls-up', 'probe-ls-exited', 'probe-ls-created', 'probe-ls-na', 'probe-ls-f1', 'probe-ls-f2', 'probe-ls-nohash'];
    await sh(`docker run -d --name probe-ls-up ${labels('probe-ls', '/srv/ls/compose.yaml')} ${IMAGE} sleep 600 >/dev/null`);
    await sh(`docker run --name probe-ls-exited ${labels('probe-ls', '/srv/ls/compose.yaml')} ${IMAGE} sh -c 'exit 2' || true`);
    await sh(`docker create --name probe-ls-created ${labels('probe-ls', '/srv/ls/compose.yaml')} ${IMAGE} true >/dev/null`);
    // A container without config_files: compose warns and says N/A for its project.
    await sh(`docker run -d --name probe-ls-na ${labels('Probe-NA')} ${IMAGE} sleep 600 >/dev/null`);
    await sh(`docker run -d --name probe-ls-f1 ${labels('probe-files', '/x/a.yaml,/x/b.yaml')} ${IMAGE} sleep 600 >/dev/null`);
    await sh(`docker run -d --name probe-ls-f2 ${labels('probe-files', '/x/b.yaml,/x/c.yaml')} ${IMAGE} sleep 600 >/dev/null`);
    // No config hash: not compose's, left out by both.
    await sh(`docker run -d --name probe-ls-nohash ${labels('probe-nohash', '/x/n.yaml', '')} ${IMAGE} sleep 600 >/dev/null`);
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      const api = await t.exec(composeProjectsFact.command);
      const cli = await t.exec(replaced(composeProjectsFact.command, CURL_PRESENT, 'false'));
      expect(api.stdout).toMatch(/^#hostkit: engine api compose containers\n/);
      expect(cli.stdout).toMatch(/^\[\{"Name"/);
      const fromApi = parseComposeLs(api);
      expect(fromApi).toEqual(parseComposeLs(cli));
      const project = (name: string) => fromApi.projects.find((p) => p.name === name);
      expect(project('probe-ls')?.status).toBe('created(1), exited(1), running(1)');
      expect(project('Probe-NA')?.configFiles).toEqual(['N/A']);
      expect(project('probe-files')?.configFiles).toEqual(expect.arrayContaining(['/x/a.yaml', '/x/b.yaml', '/x/c.yaml']));
      expect(project('probe-nohash')).toBeUndefined();
      expect(project('probe-stack')).toMatchObject({ status: 'running(2)', configFiles: [`${DIR}/compose.yaml`] });
    } finally {
      await t.close();
      await sh(`docker rm -f ${names.join(' ')} >/dev/null`);
    }
  }, 120_000);

  it("the path facts merged into ONE probe say what each one's own probe says", async () => {
    const root = '/root/probe-paths';
    await sh(
      [
        `rm -rf ${root} && mkdir -p ${root}/dir && cd ${root}`,
        "printf 'hello\\n' > file && : > empty && chown 12345:54321 empty && printf '\\000\\001bin' > bin && chmod 4755 bin",
        'ln -s file link-file && ln -s dir link-dir && ln -s nowhere dangling && mkfifo fifo',
        `printf x > 'with space' && printf y > "it's \\"q\\"" && printf z > 'a|b'`,
        // A second name of `file` and a name past tar's 100 characters: its hard-link and long-name headers.
        `ln file hard-link && printf 'long\\n' > ${LONG_NAME}`,
      ].join('\n'),
    );
    const names = [
      'file',
      'empty',
      'bin',
      'link-file',
      'link-dir',
      'dangling',
      'fifo',
      'with space',
      `it's "q"`,
      'dir',
      'absent',
      'a|b',
      'hard-link',
      LONG_NAME,
    ];
    const facts = names.flatMap((n) => [
      pathFact(`${root}/${n}`),
      pathIdsFact(`${root}/${n}`),
      fileFact(`${root}/${n}`),
      fileContentFact(`${root}/${n}`),
    ]);
    expect(probesOf(facts)).toHaveLength(1);
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      // Every file's bytes came from the one tar (the per-file base64 is only its fallback).
      expect((await t.exec(probesOf(facts)[0]!.command)).stdout).toContain('@@hostkit-paths tar-rc 0\n');
      const merged = await gatherFacts(t, facts);
      for (const f of facts) expect(merged.get(f), f.key).toEqual((await gatherFacts(t, [f])).get(f));
      expect(merged.get(pathIdsFact(`${root}/empty`))).toMatchObject({ owner: '12345', group: '54321' });
      expect(merged.get(fileContentFact(`${root}/hard-link`))).toMatchObject({ content: 'hello\n' });
      expect(merged.get(fileContentFact(`${root}/${LONG_NAME}`))).toMatchObject({ content: 'long\n' });
      expect(merged.get(fileFact(`${root}/bin`))).toMatchObject({
        type: 'file',
        mode: '4755',
        content: Buffer.from('\x00\x01bin', 'latin1'),
      });
    } finally {
      await t.close();
      await sh(`rm -rf ${root}`);
    }
  }, 120_000);

  it("the cached config hashes equal compose's own: clean, compose.yaml edited, .env edited, compose replaced", async () => {
    const clean = await bothHashes();
    expect(clean.compose.state).toBe('ok');
    expect(clean.cached).toMatchObject({ state: 'ok', cached: true });
    expect(clean.cached.state === 'ok' && clean.cached.byService).toEqual(clean.compose.state === 'ok' && clean.compose.byService);
    const saved = await sh(`cat ${DIR}/compose.yaml; echo; cat ${DIR}/.env`);
    expect(saved).toContain('probe-a');

    // compose.yaml edited by hand: the record no longer applies, compose is asked.
    await sh(`cp ${DIR}/compose.yaml /root/compose.bak && sed -i 's/"86400"/"86401"/' ${DIR}/compose.yaml`);
    const edited = await bothHashes();
    expect(edited.cached).toMatchObject({ state: 'ok', cached: false });
    expect(edited.cached.state === 'ok' && edited.cached.byService).toEqual(edited.compose.state === 'ok' && edited.compose.byService);
    expect(edited.compose.state === 'ok' && edited.compose.byService.get('a')).not.toBe(
      clean.compose.state === 'ok' && clean.compose.byService.get('a'),
    );
    await sh(`cp /root/compose.bak ${DIR}/compose.yaml`);
    expect((await bothHashes()).cached).toMatchObject({ cached: true }); // the same bytes: the record holds again

    // .env edited (compose interpolates it): the same.
    await sh(`cp ${DIR}/.env /root/env.bak && sed -i "s/'hello'/'changed'/" ${DIR}/.env`);
    const env = await bothHashes();
    expect(env.cached).toMatchObject({ state: 'ok', cached: false });
    expect(env.cached.state === 'ok' && env.cached.byService).toEqual(env.compose.state === 'ok' && env.compose.byService);
    await sh(`cp /root/env.bak ${DIR}/.env`);

    // compose replaced (an upgrade is a new file): the record is not trusted.
    await sh(
      'touch "$(ls /usr/libexec/docker/cli-plugins/docker-compose /usr/lib/docker/cli-plugins/docker-compose 2>/dev/null | head -n 1)"',
    );
    const upgraded = await bothHashes();
    expect(upgraded.cached).toMatchObject({ state: 'ok', cached: false });
    expect(upgraded.cached.state === 'ok' && upgraded.cached.byService).toEqual(
      upgraded.compose.state === 'ok' && upgraded.compose.byService,
    );

    // A record that lies (a key that matches, hashes that do not) is the only way to fool it:
    // the record is root's, 0600, in hostkit's state directory.
    expect(await sh(`stat -c '%a %U' ${composeCacheFile(DIR)}`)).toMatch(/^600 root/);
    // apply records again (a converged stack whose record is stale), then the check reads it.
    const apply = await run('apply');
    expect(changed(apply.reports)).toEqual(['stack probe-stack']);
    expect((await bothHashes()).cached).toMatchObject({ cached: true });
    expect(changed((await run('apply')).reports)).toEqual([]);
  }, 600_000);

  it("ONE probe for a host's stacks says what compose says of each: recorded, edited by hand, invalid, without a file", async () => {
    const copies = ['edited', 'invalid', 'no-file', 'recorded'].map((s) => `/opt/hostkit/stacks/probe-copy-${s}`);
    const [edited, invalid, noFile, recorded] = copies as [string, string, string, string];
    try {
      for (const dir of copies) {
        await sh(`mkdir -p ${dir} && cp ${DIR}/compose.yaml ${DIR}/.env ${dir}/ && rm -f ${composeCacheFile(dir)}`);
        await sh(recordComposeHashesScript(dir));
      }
      await sh(`sed -i 's/"86400"/"86403"/' ${edited}/compose.yaml`);
      await sh(`printf 'services:\\n  a: [oops\\n' >${invalid}/compose.yaml`);
      await sh(`rm ${noFile}/compose.yaml`);
      const all = [DIR, ...copies];
      const t = await openTransport(inventory.hosts[0]!, {});
      try {
        const facts = await gatherFacts(t, [composeConfigHashesFact(all), ...all.map((d) => composeHashesFact(d))]);
        const host = facts.get(composeConfigHashesFact(all));
        for (const dir of all) {
          const own = facts.get(composeHashesFact(dir));
          const { cached: _cached, ...answer } = configHashesOf(host, dir);
          expect(answer, dir).toEqual(own);
        }
        expect(configHashesOf(host, recorded)).toMatchObject({ state: 'ok', cached: true });
        expect(configHashesOf(host, DIR)).toMatchObject({ state: 'ok', cached: true });
        expect(configHashesOf(host, edited)).toMatchObject({ state: 'ok', cached: false });
        expect(configHashesOf(host, invalid)).toMatchObject({ state: 'invalid' });
        expect(configHashesOf(host, noFile)).toEqual({ state: 'no-file' });
      } finally {
        await t.close();
      }
    } finally {
      await sh(`rm -rf ${copies.flatMap((d) => [d, composeCacheFile(d)]).join(' ')}`);
    }
  }, 300_000);

  it('drift made by hand between two audits is reported (exit 2), then apply repairs it', async () => {
    expect((await run('check')).exitCode).toBe(0);
    await sh(`sed -i 's/"86400"/"86402"/' ${DIR}/compose.yaml`); // compose file edited
    await sh('docker stop -t 1 probe-b >/dev/null'); // a container stopped
    await sh('ufw allow 9999/tcp >/dev/null'); // a ufw rule added
    await sh('fail2ban-client stop recidive >/dev/null'); // a jail stopped
    await sh("sed -i 's/^maxretry = 5$/maxretry = 7/' /etc/fail2ban/jail.local"); // a jail setting changed
    // The ufw state without ufw says what `ufw status verbose` says, here with the added rule.
    const t0 = await openTransport(inventory.hosts[0]!, {});
    try {
      const state = (await gatherFacts(t0, [ufwState])).get(ufwState);
      const verbose = parseUfwStatusVerbose((await t0.exec('LC_ALL=C ufw status verbose')).stdout);
      expect(verbose.active).toBe(true);
      expect({ active: state.active, defaults: state.defaults, logging: state.logging }).toEqual({
        active: verbose.active,
        defaults: verbose.defaults,
        logging: verbose.logging,
      });
      const key = (r: { port: string; proto: string; family: string; action: string; from: string }) =>
        `${r.action} ${r.port}/${r.proto} ${r.from} ${r.family}`;
      expect(state.rules.map(key).sort()).toEqual(verbose.rules.map(key).sort());
      expect(state.rules.map(key)).toContain('allow 9999/tcp any v4');
    } finally {
      await t0.close();
    }
    const check = await run('check');
    expect(check.exitCode).toBe(2);
    const found = drift(check.reports).join('\n');
    expect(found).toMatch(/compose probe-stack: .*compose\.yaml/);
    expect(found).toMatch(/stack probe-stack: container probe-b exited/);
    expect(found).toMatch(/ufw firewall: .*9999/);
    expect(found).toMatch(/fail2ban jails .*: jail recidive should be active/);
    expect(found).toMatch(/file \/etc\/fail2ban\/jail\.local: /);
    expect(check.reports.at(-1)!.stats).toEqual({ connections: 1, execs: 1 });

    const fix = await run('apply');
    expect(fix.exitCode).toBe(0);
    const after = await run('check');
    expect(drift(after.reports)).toEqual([]);
    expect(after.exitCode).toBe(0);
    // The facts read by the drifts above, on the repaired host.
    const t = await openTransport(inventory.hosts[0]!, {});
    try {
      const facts = await gatherFacts(t, [ufwState, fail2banFact]);
      expect(facts.get(ufwState).rules.some((r) => r.port === '9999')).toBe(false);
      expect(facts.get(fail2banFact).jails).toContain('recidive');
    } finally {
      await t.close();
    }
  }, 600_000);
});
