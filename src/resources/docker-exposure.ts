import type { Change, FactSet } from '../engine/types.js';
import { BaseResource } from '../engine/resource.js';
import { ufwState as ufwStateFact, type UfwRule, type UfwState } from '../facts/ufw.js';
import {
  familiesOfAddress,
  isLoopback,
  listenersFact,
  publishedPortsFact,
  type ContainerPorts,
  type Listener,
  type PortBinding,
  type Proto,
  type PublishedPorts,
} from '../facts/listeners.js';
import { dockerUserFact, type ChainState, type DockerUserChains } from '../facts/docker-user.js';

/**
 * The exposure audit: what is REALLY reachable from outside, judged from the live state (every
 * listening socket, every published container port, ufw as loaded, DOCKER-USER as loaded), not
 * from `ufw status` alone. Drift is
 *   - a socket or published port that the live policy lets through and firewall.rules does not allow;
 *   - a socket or published port of a firewall.local_only port bound to a non-loopback address
 *     (even when the firewall blocks it: it should be on 127.0.0.1 and reached by an SSH tunnel).
 * It never changes anything (an audit: warnings in apply, drift in --check).
 */

type Family = 'v4' | 'v6';

export interface ExposurePolicy {
  /** The declared rules (firewall.rules, normalized): what may be reachable. */
  rules: Omit<UfwRule, 'family'>[];
  /** Ports that must only listen on loopback. */
  localOnly: { port: number; proto: Proto | 'any' }[];
}

export interface ExposureFinding {
  kind: 'exposed' | 'not-local';
  /** "container db" or "sshd (pid 12)". */
  owner: string;
  proto: Proto;
  port: number;
  /** Where it is bound: "0.0.0.0:5432", "[::]:5432". */
  bindings: string[];
  summary: string;
}

export interface ExposureInput {
  listeners: Listener[];
  published: PublishedPorts;
  ufw: UfwState;
  chains: DockerUserChains;
  policy: ExposurePolicy;
}

/** UDP ports ufw's own before*.rules accept (DHCP/DHCPv6 replies, mDNS and UPnP multicast). */
const UFW_BUILTIN_UDP = new Set([68, 546, 5353, 1900]);

export function portCovers(spec: string, port: number): boolean {
  if (spec === 'any') return true;
  return spec.split(',').some((part) => {
    const [lo, hi] = part.split(':').map(Number);
    return hi === undefined ? lo === port : port >= lo! && port <= hi;
  });
}

const protoCovers = (ruleProto: string, proto: Proto) => ruleProto === 'any' || ruleProto === proto;

/** firewall.rules allow proto/port from outside (any source or a declared one). */
export function inventoryAllows(policy: ExposurePolicy, proto: Proto, port: number): boolean {
  return policy.rules.some(
    (r) =>
      (r.action === 'allow' || r.action === 'limit') &&
      r.direction === 'in' &&
      !r.route &&
      protoCovers(r.proto, proto) &&
      portCovers(r.port, port),
  );
}

/** Does the LIVE ufw let new connections to proto/port in (from some source)? With why. */
export function ufwExposes(ufw: UfwState, family: Family, proto: Proto, port: number): string | undefined {
  if (!ufw.installed) return 'ufw is not installed';
  if (!ufw.active) return 'ufw is inactive';
  const rule = ufw.rules.find(
    (r) =>
      r.family === family &&
      r.direction === 'in' &&
      !r.route &&
      (r.action === 'allow' || r.action === 'limit') &&
      protoCovers(r.proto, proto) &&
      portCovers(r.port, port),
  );
  if (rule)
    return `ufw allows ${rule.port}${rule.proto === 'any' ? '' : `/${rule.proto}`}${rule.from === 'any' ? '' : ` from ${rule.from}`}`;
  if (ufw.defaults.incoming === 'allow') return 'ufw allows incoming by default';
  return undefined;
}

/** The bridge interface names a container's networks use (docker0, br-<id12>). */
export function bridgesOf(c: ContainerPorts): string[] {
  return Object.entries(c.networks).map(([name, id]) => (name === 'bridge' ? 'docker0' : `br-${id.slice(0, 12)}`));
}

const ifaceMatches = (pattern: string, name: string) => (pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

/**
 * What DOCKER-USER (as `iptables -S` prints it) does with a NEW connection from outside to a
 * published port: walks the rules, first match decides. Rules it cannot judge (negations,
 * other match modules, jumps to other chains) are skipped, so an unknown rule can only make
 * the audit report MORE exposure, never less.
 */
export function evaluateDockerUser(
  rules: readonly string[],
  b: PortBinding,
  bridges: readonly string[],
): { verdict: 'blocked' | 'exposed'; from?: string } {
  for (const rule of rules) {
    const t = rule.trim().split(/\s+/);
    if (t.includes('!')) continue;
    const opt = (name: string) => {
      const i = t.indexOf(name);
      return i >= 0 ? t[i + 1] : undefined;
    };
    const modules = t.flatMap((x, i) => (x === '-m' ? [t[i + 1]] : []));
    if (modules.some((m) => !['conntrack', 'tcp', 'udp', 'comment'].includes(m ?? ''))) continue;
    if (opt('-i') !== undefined || opt('-d') !== undefined) continue; // outside traffic: unknown in-interface
    const state = opt('--ctstate');
    if (state !== undefined && !state.split(',').some((s) => s === 'NEW' || s === 'DNAT')) continue;
    const p = opt('-p');
    if (p !== undefined && p !== b.proto && p !== 'all') continue;
    const orig = opt('--ctorigdstport');
    if (orig !== undefined && !portCovers(orig, b.hostPort)) continue;
    const dport = opt('--dport');
    if (dport !== undefined && !portCovers(dport, b.containerPort)) continue;
    const out = opt('-o');
    if (out !== undefined && !bridges.some((name) => ifaceMatches(out, name))) continue;
    const target = opt('-j');
    const src = opt('-s');
    if (target === 'RETURN' || target === 'ACCEPT') return { verdict: 'exposed', ...(src ? { from: src } : {}) };
    if ((target === 'DROP' || target === 'REJECT') && src === undefined) return { verdict: 'blocked' };
  }
  return { verdict: 'exposed' };
}

function bindingFamilies(hostIp: string): Family[] {
  if (hostIp === '' || hostIp === '0.0.0.0') return ['v4'];
  if (hostIp === '::') return ['v6'];
  return familiesOfAddress(hostIp);
}

const showAddr = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address === '' ? '0.0.0.0' : address}:${port}`;

/** Why a published binding is reachable from outside, or undefined when the firewall drops it. */
function publishedExposure(b: PortBinding, c: ContainerPorts, family: Family, chains: DockerUserChains, ufw: UfwState): string | undefined {
  const chain: ChainState = chains[family];
  if (!chain.forwardJump) {
    // Docker does not manage this family's iptables (ip6tables off, or "iptables": false):
    // docker-proxy accepts the connection on the host and relays it, so ufw's INPUT rules apply.
    const why = ufwExposes(ufw, family, b.proto, b.hostPort);
    return why ? `through docker-proxy: ${why}` : undefined;
  }
  if (!chain.exists || chain.rules.length === 0) return 'no DOCKER-USER filter';
  const r = evaluateDockerUser(chain.rules, b, bridgesOf(c));
  if (r.verdict === 'blocked') return undefined;
  return r.from ? `DOCKER-USER lets it through from ${r.from}` : 'DOCKER-USER does not drop it';
}

function containerLabel(c: ContainerPorts): string {
  const stack = c.project ? ` (stack ${c.project}${c.service ? `, service ${c.service}` : ''})` : '';
  return `container ${c.name}${stack}`;
}

function listenerLabel(l: Listener): string {
  const who = l.processes.length ? l.processes.join(',') : 'unknown process';
  return l.pids.length ? `${who} (pid ${[...new Set(l.pids)].join(',')})` : who;
}

export function isLocalOnly(policy: ExposurePolicy, proto: Proto, port: number): boolean {
  return policy.localOnly.some((l) => l.port === port && (l.proto === 'any' || l.proto === proto));
}

export function auditExposure(input: ExposureInput): ExposureFinding[] {
  const { policy, ufw, chains } = input;
  const findings: ExposureFinding[] = [];

  // Published container ports, one finding per container/proto/port (all its bindings named).
  const published = new Set<string>();
  for (const c of input.published.containers) {
    const groups = new Map<string, PortBinding[]>();
    for (const b of c.bindings) {
      published.add(`${b.proto}/${b.hostPort}`);
      const key = `${b.proto}/${b.hostPort}`;
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    for (const bs of groups.values()) {
      const first = bs[0]!;
      const wide = bs.filter((b) => !isLoopback(b.hostIp));
      if (wide.length === 0) continue;
      const where = wide.map((b) => showAddr(b.hostIp, b.hostPort));
      const inner = first.containerPort !== first.hostPort ? ` (container port ${first.containerPort})` : '';
      const what = `${containerLabel(c)} publishes ${first.hostPort}/${first.proto} on ${where.join(' and ')}${inner}`;
      if (isLocalOnly(policy, first.proto, first.hostPort)) {
        findings.push({
          kind: 'not-local',
          owner: containerLabel(c),
          proto: first.proto,
          port: first.hostPort,
          bindings: where,
          summary: `${what}: ${first.hostPort}/${first.proto} is declared local-only (firewall.local_only): publish it on 127.0.0.1:${first.hostPort}`,
        });
        continue;
      }
      if (inventoryAllows(policy, first.proto, first.hostPort)) continue;
      const reasons = [
        ...new Set(wide.flatMap((b) => bindingFamilies(b.hostIp).flatMap((f) => publishedExposure(b, c, f, chains, ufw) ?? []))),
      ];
      if (reasons.length === 0) continue;
      findings.push({
        kind: 'exposed',
        owner: containerLabel(c),
        proto: first.proto,
        port: first.hostPort,
        bindings: where,
        summary: `${what}: reachable from outside (${reasons.join('; ')}), firewall.rules does not allow ${first.hostPort}/${first.proto}`,
      });
    }
  }

  // Host sockets (docker-proxy sockets of published ports are judged above, as the ports).
  const groups = new Map<string, Listener[]>();
  for (const l of input.listeners) {
    if (isLoopback(l.address)) continue;
    if (l.processes.includes('docker-proxy') && published.has(`${l.proto}/${l.port}`)) continue;
    const key = `${listenerLabel(l)} ${l.proto}/${l.port}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  for (const ls of groups.values()) {
    const first = ls[0]!;
    const where = ls.map((l) => showAddr(l.address === '*' ? '0.0.0.0' : l.address, l.port) + (l.address === '*' ? ' (and [::])' : ''));
    const what = `${listenerLabel(first)} listens on ${where.join(' and ')}/${first.proto}`;
    if (isLocalOnly(policy, first.proto, first.port)) {
      findings.push({
        kind: 'not-local',
        owner: listenerLabel(first),
        proto: first.proto,
        port: first.port,
        bindings: where,
        summary: `${what}: ${first.port}/${first.proto} is declared local-only (firewall.local_only): bind it to 127.0.0.1`,
      });
      continue;
    }
    if (inventoryAllows(policy, first.proto, first.port)) continue;
    if (first.proto === 'udp' && UFW_BUILTIN_UDP.has(first.port)) continue;
    const reasons = [...new Set(ls.flatMap((l) => familiesOfAddress(l.address).flatMap((f) => ufwExposes(ufw, f, l.proto, l.port) ?? [])))];
    if (reasons.length === 0) continue;
    findings.push({
      kind: 'exposed',
      owner: listenerLabel(first),
      proto: first.proto,
      port: first.port,
      bindings: where,
      summary: `${what}: reachable from outside (${reasons.join('; ')}), firewall.rules does not allow ${first.port}/${first.proto}`,
    });
  }
  return findings;
}

/** The exposure audit resource (firewall role, last): drift in --check, warnings in apply. */
export class ExposureAudit extends BaseResource<{ policy: ExposurePolicy }> {
  protected readonly kind = 'exposure audit';
  // An audit runs after the role's changes and handlers in apply, on fresh facts: no prerequisites.
  readonly audit = true;

  facts() {
    return [listenersFact, publishedPortsFact, ufwStateFact, dockerUserFact];
  }

  private findings(facts: FactSet): ExposureFinding[] {
    return auditExposure({
      listeners: facts.get(listenersFact),
      published: facts.get(publishedPortsFact),
      ufw: facts.get(ufwStateFact),
      chains: facts.get(dockerUserFact),
      policy: this.spec.policy,
    });
  }

  plan(facts: FactSet): Change[] {
    return this.findings(facts).map((f) => ({ summary: f.summary, actions: [] }));
  }

  notes(facts: FactSet): string[] {
    const listeners = facts.get(listenersFact);
    const published = facts.get(publishedPortsFact);
    const wide = listeners.filter((l) => !isLoopback(l.address)).length;
    const ports = published.containers.reduce((n, c) => n + c.bindings.length, 0);
    const docker = !published.docker
      ? 'no docker'
      : !published.running
        ? `docker not answering${published.error ? ` (${published.error.split('\n')[0]})` : ''}`
        : `${published.containers.length} running container(s), ${ports} published port binding(s)`;
    return [`audited ${listeners.length} listening socket(s) (${wide} not on loopback); ${docker}`];
  }
}
