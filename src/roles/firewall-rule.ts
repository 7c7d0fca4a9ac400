import type { FirewallRuleInput, FirewallRuleObject } from './firewall.schema.js';

/**
 * Either form of a rule as the map form. The short form ("22/tcp", "80", "6000:6007/udp", checked
 * by the schema at load) gets the map form's defaults (firewall.schema.ts's ruleObject; a unit
 * test holds them equal) and proto "any" when not written. Plain code, not the schema: a cron
 * check whose inventory came from the validated cache loads no zod.
 */
export function ruleObjectOf(input: FirewallRuleInput): FirewallRuleObject {
  if (typeof input !== 'string') return input;
  const [port = '', proto] = input.split('/');
  return { port, proto: (proto ?? 'any') as FirewallRuleObject['proto'], action: 'allow', from: 'any' };
}
