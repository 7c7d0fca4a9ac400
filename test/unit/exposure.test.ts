import { describe, expect, it } from 'vitest';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { factSetFrom } from '../../src/engine/gather.js';
import type { PlanContext } from '../../src/engine/types.js';
import { parseSs, parseSsLine, parsePublishedProbe, parseInspectLine } from '../../src/facts/listeners.js';
import { parseDockerUserProbe, dockerUserFact } from '../../src/facts/docker-user.js';
import { parseUfwProbe, ufwState, type UfwState } from '../../src/facts/ufw.js';
import { fileFact, type FileState } from '../../src/facts/file.js';
import { auditExposure, evaluateDockerUser, type ExposurePolicy } from '../../src/resources/docker-exposure.js';
import {
  AFTER_RULES,
  dockerUserBlock,
  dockerUserRules,
  extractBlock,
  replaceBlock,
  UfwDockerFilter,
} from '../../src/resources/ufw-docker.js';
import { desiredFirewall } from '../../src/roles/firewall.js';
import { AptPackages } from '../../src/resources/apt-packages.js';
import { dockerFilterOf, exposurePolicyOf } from '../../src/roles/firewall.js';
import type { HostConfig } from '../../src/inventory/types.js';
import type { FirewallConfig } from '../../src/inventory/schema.js';

/** The recorded outputs (test/fixtures/facts/README.md, exposure host), as fact fixtures. */
const MOVED: Record<string, [string, string]> = {
  'ss.txt': ['host.listeners', 'exposure-host'],
  'ss-rich.txt': ['host.listeners', 'exposure-host-rich'],
  'published.txt': ['docker.published', 'exposure-host'],
  'published-rich.txt': ['docker.published', 'exposure-host-rich'],
  'published-daemon-down.txt': ['docker.published', 'daemon-down'],
  'chains-filtered.txt': ['docker.user-chains', 'filtered'],
  'chains-docker-default.txt': ['docker.user-chains', 'docker-default'],
  'ufw-active.txt': ['ufw.state', 'exposure-host'],
};
const fixture = (name: string) => factOutput(...MOVED[name]!).stdout;
const out = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });

const config: FirewallConfig = {
  defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
  rules: [{ port: 22, proto: 'tcp', action: 'allow', from: 'any', comment: 'ssh' }, '80/tcp', '443/tcp'],
  docker: true,
  deadman_timeout: 60,
  local_only: [],
};
const desired = desiredFirewall(config);
const filter = dockerFilterOf(desired);
const policy: ExposurePolicy = exposurePolicyOf(config, desired);

const listeners = parseSs(fixture('ss-rich.txt'));
const published = parsePublishedProbe(out(fixture('published-rich.txt')));
const ufwActive = parseUfwProbe(out(fixture('ufw-active.txt')));
const filtered = parseDockerUserProbe(out(fixture('chains-filtered.txt')));
const dockerDefault = parseDockerUserProbe(out(fixture('chains-docker-default.txt')));

describe('ss -Htulnp', () => {
  it('parses every listening socket with its process', () => {
    expect(listeners).toHaveLength(12);
    expect(listeners).toContainEqual({
      proto: 'tcp',
      address: '0.0.0.0',
      port: 5432,
      processes: ['docker-proxy'],
      pids: [expect.any(Number)],
    });
    expect(listeners).toContainEqual({ proto: 'tcp', address: '::', port: 22, processes: ['sshd'], pids: [expect.any(Number)] });
    expect(listeners).toContainEqual({ proto: 'tcp', address: '*', port: 8081, processes: ['python3'], pids: [expect.any(Number)] });
    expect(listeners).toContainEqual({ proto: 'udp', address: '0.0.0.0', port: 9999, processes: ['python3'], pids: [expect.any(Number)] });
  });
  it('scoped addresses and several processes', () => {
    expect(
      parseSsLine('udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=301,fd=14))'),
    ).toEqual({
      proto: 'udp',
      address: '127.0.0.53',
      iface: 'lo',
      port: 53,
      processes: ['systemd-resolve'],
      pids: [301],
    });
    expect(parseSsLine('tcp LISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:(("nginx",pid=12,fd=7),("nginx",pid=11,fd=7))')).toMatchObject({
      processes: ['nginx'],
      pids: [12, 11],
    });
    expect(parseSsLine('tcp LISTEN 0 4096 [fe80::1%eth0]:8080 [::]:*')).toMatchObject({ address: 'fe80::1', iface: 'eth0', processes: [] });
  });
});

describe('published container ports (docker inspect JSON)', () => {
  it('parses containers, compose labels, networks and bindings', () => {
    expect(published.running).toBe(true);
    const byName = Object.fromEntries(published.containers.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['app-redis-1', 'db', 'npm', 'web']);
    expect(byName['app-redis-1']).toMatchObject({ project: 'app', service: 'redis', networkMode: 'app' });
    expect(byName.web!.bindings).toEqual([{ containerPort: 8080, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80 }]);
    expect(byName.npm!.bindings).toContainEqual({ containerPort: 443, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8443 });
  });
  it('daemon down and no docker', () => {
    expect(parsePublishedProbe(out(fixture('published-daemon-down.txt')))).toMatchObject({ docker: true, running: false, containers: [] });
    expect(parsePublishedProbe(out('\n@@hostkit-published end@@\n'))).toEqual({ docker: false, running: false, containers: [] });
  });
  it('IPv6 bindings and unpublished exposed ports (Docker 27+ style)', () => {
    const c = parseInspectLine(
      '{"name":"/x","id":"1","networkMode":"bridge","project":null,"service":null,"networks":{"bridge":"abc","":""},' +
        '"ports":{"5432/tcp":[{"HostIp":"0.0.0.0","HostPort":"5432"},{"HostIp":"::","HostPort":"5432"}],"6379/tcp":null}}',
    );
    expect(c.bindings).toEqual([
      { containerPort: 5432, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 5432 },
      { containerPort: 5432, proto: 'tcp', hostIp: '::', hostPort: 5432 },
    ]);
  });
});

describe('DOCKER-USER chains (iptables -S)', () => {
  it('reads the loaded rules and the FORWARD jump per family', () => {
    expect(filtered.v4).toMatchObject({ available: true, forwardJump: true, exists: true });
    expect(filtered.v4.rules).toEqual(dockerUserRules(filter, 'v4'));
    // Docker 26 does not manage ip6tables: the chain exists (ufw declared it), nothing jumps to it.
    expect(filtered.v6).toMatchObject({ available: true, forwardJump: false, exists: true });
    expect(dockerDefault.v4.rules).toEqual(['-A DOCKER-USER -j RETURN']);
  });
});

describe('the filter block in ufw after.rules', () => {
  it('renders the rules iptables -S prints back (verified on a target)', () => {
    expect(dockerUserRules(filter, 'v4')).toEqual([
      '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
      '-A DOCKER-USER -i docker0 -j RETURN',
      '-A DOCKER-USER -i br-+ -j RETURN',
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 22 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 80 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 443 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -m conntrack --ctstate DNAT -j DROP',
      '-A DOCKER-USER -o docker0 -j DROP',
      '-A DOCKER-USER -o br-+ -j DROP',
      '-A DOCKER-USER -j RETURN',
    ]);
  });
  it('sources, ranges and any-proto rules; a source keeps its family', () => {
    const f = dockerFilterOf(
      desiredFirewall({
        ...config,
        rules: [
          { port: 5432, proto: 'tcp', action: 'allow', from: '10.8.0.0/24' },
          '6000:6007',
          { port: 9, proto: 'udp', action: 'allow', from: '2001:db8::1' },
          { port: 23, proto: 'tcp', action: 'deny', from: 'any' },
        ],
      }),
    );
    expect(dockerUserRules(f, 'v4').slice(3, -4)).toEqual([
      '-A DOCKER-USER -s 10.8.0.0/24 -p tcp -m conntrack --ctorigdstport 5432 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 6000:6007 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -p udp -m conntrack --ctorigdstport 6000:6007 --ctdir ORIGINAL -j RETURN',
    ]);
    expect(dockerUserRules(f, 'v6').slice(3, -4)).toEqual([
      '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 6000:6007 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -p udp -m conntrack --ctorigdstport 6000:6007 --ctdir ORIGINAL -j RETURN',
      '-A DOCKER-USER -s 2001:db8::1/128 -p udp -m conntrack --ctorigdstport 9 --ctdir ORIGINAL -j RETURN',
    ]);
  });
  it('adds, replaces and removes the block without touching the rest', () => {
    const stock = '*filter\n:ufw-after-input - [0:0]\nCOMMIT\n';
    const block = dockerUserBlock(filter, 'v4');
    const added = replaceBlock(stock, block);
    expect(added).toBe(`${stock}\n${block}`);
    expect(extractBlock(added)).toBe(block);
    const other = dockerUserBlock({ allow: [] }, 'v4');
    expect(replaceBlock(added, other)).toBe(`${stock}\n${other}`);
    expect(replaceBlock(added, undefined)).toBe(stock);
    expect(replaceBlock(`${added}# site rules after\n`, undefined)).toBe(`${stock}# site rules after\n`);
  });
});

describe('UfwDockerFilter plan', () => {
  const hostCtx = (pending: string[] = []): PlanContext => ({
    host: { name: 'web1' } as HostConfig,
    mode: 'check',
    pendingPrerequisites: pending,
  });
  const stock = (path: string): FileState => ({
    path,
    exists: true,
    type: 'file',
    owner: 'root',
    group: 'root',
    mode: '0640',
    content: Buffer.from('*filter\nCOMMIT\n'),
  });
  const withBlock = (path: string, family: 'v4' | 'v6'): FileState => ({
    ...(stock(path) as Extract<FileState, { type: 'file' }>),
    content: Buffer.from(replaceBlock('*filter\nCOMMIT\n', dockerUserBlock(filter, family))),
  });
  const facts = (v4: FileState, v6: FileState, ufw: UfwState, chains = filtered) =>
    factSetFrom([
      [fileFact(AFTER_RULES.v4), { value: v4 }],
      [fileFact(AFTER_RULES.v6), { value: v6 }],
      [dockerUserFact, { value: chains }],
      [ufwState, { value: ufw }],
    ]);
  const r = new UfwDockerFilter({ filter }, { requires: [new AptPackages({ names: ['ufw'] })] });

  it('before ufw is installed: would add it once ufw is there', () => {
    const none = { path: '', exists: false } as const;
    const changes = r.plan(
      facts({ ...none, path: AFTER_RULES.v4 }, { ...none, path: AFTER_RULES.v6 }, { ...ufwActive, installed: false, active: false }),
      hostCtx(['package ufw']),
    );
    expect(changes.map((c) => c.summary)).toEqual([
      'add the DOCKER-USER filter to /etc/ufw/after.rules (once ufw is installed)',
      'add the DOCKER-USER filter to /etc/ufw/after6.rules (once ufw is installed)',
    ]);
  });
  it('stock files: writes both (0640 root), the reload handler does the rest', () => {
    const changes = r.plan(facts(stock(AFTER_RULES.v4), stock(AFTER_RULES.v6), ufwActive), hostCtx());
    expect(changes.map((c) => c.summary)).toEqual([
      'add the DOCKER-USER filter to /etc/ufw/after.rules: published container ports allowed only on 22/tcp, 80/tcp, 443/tcp',
      'add the DOCKER-USER filter to /etc/ufw/after6.rules: published container ports allowed only on 22/tcp, 80/tcp, 443/tcp',
    ]);
    expect(changes[0]!.actions[0]).toMatchObject({ kind: 'write', path: AFTER_RULES.v4, mode: '0640', owner: 'root' });
    expect(r.notify).toEqual(['ufw reload']);
  });
  it('converged files and kernel: nothing', () => {
    expect(r.plan(facts(withBlock(AFTER_RULES.v4, 'v4'), withBlock(AFTER_RULES.v6, 'v6'), ufwActive), hostCtx())).toEqual([]);
  });
  it('the kernel lost the rules (flushed by hand): reload', () => {
    const changes = r.plan(facts(withBlock(AFTER_RULES.v4, 'v4'), withBlock(AFTER_RULES.v6, 'v6'), ufwActive, dockerDefault), hostCtx());
    expect(changes.map((c) => c.summary)).toEqual([
      'DOCKER-USER rules loaded in the kernel (iptables) differ from /etc/ufw/after.rules: reload ufw',
    ]);
    expect(changes[0]!.actions).toEqual([]);
  });
  it('firewall.docker false: the block is removed and the chain reset', () => {
    const off = new UfwDockerFilter({ filter: undefined });
    const changes = off.plan(facts(withBlock(AFTER_RULES.v4, 'v4'), stock(AFTER_RULES.v6), ufwActive), hostCtx());
    expect(changes.map((c) => c.summary)).toEqual(['remove the DOCKER-USER filter from /etc/ufw/after.rules (firewall.docker is false)']);
    expect(changes[0]!.actions.map((a) => a.kind)).toEqual(['write', 'exec']);
    expect(off.plan(facts(stock(AFTER_RULES.v4), stock(AFTER_RULES.v6), ufwActive), hostCtx())).toEqual([]);
  });
});

describe('evaluating DOCKER-USER for a new outside connection', () => {
  const b = (hostPort: number, containerPort = hostPort) => ({ containerPort, proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort });
  const rules = dockerUserRules(filter, 'v4');
  it('allowed published ports pass by the port the client dialled, the rest is dropped', () => {
    expect(evaluateDockerUser(rules, b(80, 8080), ['br-487ebf834d16'])).toEqual({ verdict: 'exposed' });
    expect(evaluateDockerUser(rules, b(5432), ['br-487ebf834d16'])).toEqual({ verdict: 'blocked' });
    expect(evaluateDockerUser(rules, b(8080, 80), ['docker0'])).toEqual({ verdict: 'blocked' });
  });
  it("Docker's default chain lets everything through", () => {
    expect(evaluateDockerUser(['-A DOCKER-USER -j RETURN'], b(5432), ['docker0'])).toEqual({ verdict: 'exposed' });
    expect(evaluateDockerUser([], b(5432), ['docker0'])).toEqual({ verdict: 'exposed' });
  });
  it('a ufw-docker style per-port drop, source allowances, unknown rules skipped', () => {
    expect(evaluateDockerUser(['-A DOCKER-USER -p tcp -m tcp --dport 5432 -j DROP'], b(15432, 5432), ['docker0'])).toEqual({
      verdict: 'blocked',
    });
    expect(evaluateDockerUser(['-A DOCKER-USER -s 10.0.0.0/8 -j RETURN', '-A DOCKER-USER -j DROP'], b(5432), ['docker0'])).toEqual({
      verdict: 'exposed',
      from: '10.0.0.0/8',
    });
    expect(evaluateDockerUser(['-A DOCKER-USER -m recent --rcheck -j DROP', '-A DOCKER-USER -j RETURN'], b(5432), ['docker0'])).toEqual({
      verdict: 'exposed',
    });
  });
});

describe('exposure audit (recorded host: db 5432, npm 81, redis 6379 published; python on 8080, *:8081, udp 9999)', () => {
  const audit = (chains = filtered, ufw = ufwActive, p: ExposurePolicy = policy) =>
    auditExposure({ listeners, published, ufw, chains, policy: p });

  it('with the filter loaded and ufw active: nothing exposed beyond firewall.rules', () => {
    expect(audit()).toEqual([]);
  });

  it("with Docker's default DOCKER-USER: every published port not allowed is named, with container, port and binding", () => {
    expect(audit(dockerDefault).map((f) => f.summary)).toEqual([
      'container app-redis-1 (stack app, service redis) publishes 6379/tcp on 0.0.0.0:6379: reachable from outside (DOCKER-USER does not drop it), firewall.rules does not allow 6379/tcp',
      'container npm publishes 81/tcp on 0.0.0.0:81: reachable from outside (DOCKER-USER does not drop it), firewall.rules does not allow 81/tcp',
      'container db publishes 5432/tcp on 0.0.0.0:5432: reachable from outside (DOCKER-USER does not drop it), firewall.rules does not allow 5432/tcp',
    ]);
  });

  it('ufw inactive: host listeners not in firewall.rules are exposed too (dual-stack named once)', () => {
    const summaries = audit(filtered, { ...ufwActive, active: false }).map((f) => f.summary);
    expect(summaries).toContainEqual(
      expect.stringMatching(/^python3 \(pid \d+\) listens on 0\.0\.0\.0:8080\/tcp: reachable from outside \(ufw is inactive\)/),
    );
    expect(summaries).toContainEqual(expect.stringMatching(/^python3 \(pid \d+\) listens on 0\.0\.0\.0:8081 \(and \[::\]\)\/tcp/));
    expect(summaries).toContainEqual(expect.stringMatching(/listens on 0\.0\.0\.0:9999\/udp/));
    expect(summaries.some((s) => s.includes(':22'))).toBe(false); // sshd: allowed
    expect(summaries.some((s) => s.includes('127.0.0.1'))).toBe(false); // loopback never
  });

  it('a hand-added ufw rule exposes a listener the inventory does not allow', () => {
    const ufw = {
      ...ufwActive,
      rules: [
        ...ufwActive.rules,
        {
          action: 'allow' as const,
          direction: 'in' as const,
          proto: 'tcp' as const,
          port: '8080',
          from: 'any',
          to: 'any',
          family: 'v4' as const,
        },
      ],
    };
    expect(audit(filtered, ufw).map((f) => f.summary)).toEqual([
      expect.stringMatching(
        /listens on 0\.0\.0\.0:8080\/tcp: reachable from outside \(ufw allows 8080\/tcp\), firewall\.rules does not allow 8080\/tcp$/,
      ),
    ]);
  });

  it('local-only ports bound beyond loopback are drift even when the firewall drops them', () => {
    const p = exposurePolicyOf({ ...config, local_only: [81, '8082/tcp', 5432] }, desired);
    expect(audit(filtered, ufwActive, p).map((f) => f.summary)).toEqual([
      'container npm publishes 81/tcp on 0.0.0.0:81: 81/tcp is declared local-only (firewall.local_only): publish it on 127.0.0.1:81',
      'container db publishes 5432/tcp on 0.0.0.0:5432: 5432/tcp is declared local-only (firewall.local_only): publish it on 127.0.0.1:5432',
    ]);
  });

  it('the audit resource: drift in --check, notes with what it audited', async () => {
    const { ExposureAudit } = await import('../../src/resources/docker-exposure.js');
    const { listenersFact, publishedPortsFact } = await import('../../src/facts/listeners.js');
    const a = new ExposureAudit({ policy });
    const facts = factSetFrom([
      [listenersFact, { value: listeners }],
      [publishedPortsFact, { value: published }],
      [ufwState, { value: ufwActive }],
      [dockerUserFact, { value: dockerDefault }],
    ]);
    expect(a.audit).toBe(true);
    expect(a.plan(facts)).toHaveLength(3);
    expect(a.notes(facts)).toEqual([
      'audited 12 listening socket(s) (9 not on loopback); 4 running container(s), 5 published port binding(s)',
    ]);
  });
});
