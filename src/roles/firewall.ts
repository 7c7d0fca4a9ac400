import type { Role } from '../engine/types.js';
import type { FirewallConfig, FirewallRuleInput } from '../inventory/schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { UfwFirewall, type DesiredFirewall } from '../resources/ufw-firewall.js';
import { normalizeUfwAddress } from '../facts/ufw.js';

/** "22/tcp", "80", "6000:6007/udp" or the object form -> one declared rule. */
export function normalizeRule(input: FirewallRuleInput): DesiredFirewall['rules'][number] {
  if (typeof input === 'string') {
    const [port, proto] = input.split('/');
    return { action: 'allow', direction: 'in', proto: (proto as 'tcp' | 'udp' | undefined) ?? 'any', port: port!, from: 'any', to: 'any' };
  }
  return {
    action: input.action,
    direction: 'in',
    proto: input.proto,
    port: String(input.port),
    // Compared with what ufw stored, which it normalizes (host bits cleared, /32 dropped).
    from: input.from === 'any' ? 'any' : normalizeUfwAddress(input.from),
    to: 'any',
    ...(input.comment ? { comment: input.comment } : {}),
  };
}

export function desiredFirewall(config: FirewallConfig): DesiredFirewall {
  return {
    defaults: config.defaults,
    ...(config.logging ? { logging: config.logging } : {}),
    rules: config.rules.map(normalizeRule),
  };
}

export const firewallRole: Role = {
  name: 'firewall',
  description: 'UFW: exactly the declared rules and policies, enabled, never locking out the SSH session.',
  build(inventory) {
    const config = inventory.doc.firewall;
    if (!config) return { resources: [] };
    const pkg = new AptPackages(['ufw'], 'package ufw');
    return { resources: [pkg, new UfwFirewall(desiredFirewall(config), [pkg.id])] };
  },
};
