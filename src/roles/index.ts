import type { Role } from '../engine/types.js';
import { firewallRole } from './firewall.js';
import { dataRole } from './data.js';

/** Every role in provisioning order: each gates the next on a host. */
export const ROLES: readonly Role[] = [firewallRole, dataRole];

export function rolesByName(names: string[]): Role[] {
  return names.map((name) => {
    const role = ROLES.find((r) => r.name === name);
    if (!role) throw new Error(`unknown role "${name}"; known roles: ${ROLES.map((r) => r.name).join(', ')}`);
    return role;
  });
}

export { firewallRole, dataRole };
