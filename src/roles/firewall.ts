import type { Resource, Role } from '../engine/types.js';
import type { FirewallConfig, FirewallRuleInput } from './firewall.schema.js';
import { ruleObjectOf } from './firewall-rule.js';
import { AptPackages } from '../resources/apt-packages.js';
import {
  SABOTAGE_ENV,
  SshSabotageForTests,
  UFW_FILES,
  UFW_RESTORE_COMMAND,
  UFW_STATE_COMMAND,
  UfwFirewall,
  type DesiredFirewall,
} from '../resources/ufw-firewall.js';
import { UfwDockerFilter, type DockerFilter } from '../resources/ufw-docker.js';
import { handlersOf } from '../engine/resource.js';
import { ExposureAudit, type ExposurePolicy } from '../resources/docker-exposure.js';
import { rollbackSafeguard } from '../engine/safeguard.js';
import { normalizeUfwAddress } from '../resources/ufw-rules.js';

/**
 * "22/tcp", "80", "6000:6007/udp" or the map form -> one declared rule. The one place a rule is
 * normalised: the schema only validates and fills the map form's defaults (ruleObjectOf gives the
 * short form the same ones).
 */
export function normalizeRule(input: FirewallRuleInput): DesiredFirewall['rules'][number] {
  const rule = ruleObjectOf(input);
  return {
    action: rule.action,
    direction: 'in',
    proto: rule.proto,
    port: String(rule.port),
    // Compared with what ufw stored, which it normalizes (host bits cleared, /32 dropped).
    from: rule.from === 'any' ? 'any' : normalizeUfwAddress(rule.from),
    to: 'any',
    ...(rule.comment ? { comment: rule.comment } : {}),
  };
}

export function desiredFirewall(config: Pick<FirewallConfig, 'defaults' | 'logging' | 'rules'>): DesiredFirewall {
  return {
    defaults: config.defaults,
    ...(config.logging ? { logging: config.logging } : {}),
    rules: config.rules.map(normalizeRule),
  };
}

/** Published container ports may be reached on exactly the allowed ports of firewall.rules. */
export function dockerFilterOf(desired: DesiredFirewall): DockerFilter {
  return {
    allow: desired.rules
      .filter((r) => (r.action === 'allow' || r.action === 'limit') && r.direction === 'in')
      .flatMap((r) =>
        (r.proto === 'any' ? (['tcp', 'udp'] as const) : r.proto === 'tcp' || r.proto === 'udp' ? [r.proto] : []).map((proto) => ({
          proto,
          port: r.port,
          from: r.from,
        })),
      ),
  };
}

export function exposurePolicyOf(config: FirewallConfig, desired: DesiredFirewall): ExposurePolicy {
  return {
    rules: desired.rules,
    localOnly: config.local_only.map((p) => {
      if (typeof p === 'number') return { port: p, proto: 'any' as const };
      const [port, proto] = p.split('/');
      return { port: Number(port), proto: (proto as 'tcp' | 'udp' | undefined) ?? 'any' };
    }),
  };
}

export const firewallRole: Role<FirewallConfig> = {
  name: 'firewall',
  description:
    'UFW: exactly the declared rules and policies, published container ports filtered alike (firewall.docker), ' +
    'an exposure audit of every listening socket and published port, never locking out the SSH session ' +
    '(lockout guard before, dead-man switch after).',
  config: (inventory) => inventory.doc.firewall,
  build(config) {
    const desired = desiredFirewall(config);
    const pkg = new AptPackages({ names: ['ufw'] });
    // after.rules first: `ufw enable` on a fresh host then loads the filter with everything else.
    const dockerFilter = new UfwDockerFilter({ filter: config.docker ? dockerFilterOf(desired) : undefined }, { requires: [pkg] });
    const ufw = new UfwFirewall(desired, { requires: [pkg] });
    const resources: Resource[] = [pkg, dockerFilter, ufw];
    if (process.env[SABOTAGE_ENV] === '1') resources.push(new SshSabotageForTests({}, { requires: [ufw] }));
    const firewallIds = resources.filter((r) => r !== pkg).map((r) => r.id);
    resources.push(new ExposureAudit({ policy: exposurePolicyOf(config, desired) }));
    return {
      resources,
      handlers: handlersOf(resources),
      safeguard: rollbackSafeguard({
        name: 'firewall',
        timeoutSeconds: config.deadman_timeout,
        protects: firewallIds,
        paths: UFW_FILES,
        stateCommand: UFW_STATE_COMMAND,
        restoreCommand: UFW_RESTORE_COMMAND,
        restores: 'the previous firewall rules',
      }),
    };
  },
};
