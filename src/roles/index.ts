import type { Role } from '../engine/types.js';
import { firewallRole } from './firewall.js';
import { dataRole } from './data.js';
import { dockerRole } from './docker.js';
import { baseRole } from './base.js';
import { sshRole } from './ssh.js';
import { fail2banRole } from './fail2ban.js';
import { stacksRole } from './stacks.js';
import { networksRole } from './networks.js';
import { backupRole } from './backup.js';
import { proxyRole } from './proxy.js';
import { hardeningRole } from './hardening.js';

/** Every role in provisioning order: each gates the next on a host. */
// The rebuild order: base and ssh first (packages, a hardened login); fail2ban after the
// firewall (its bans are ufw rules; proxied-app bans live in fail2ban's own nftables table, so
// Docker need not exist yet); the rest of the host hardening after the firewall (issue 12: ufw's own
// sysctl.conf must carry its network values); stacks need docker and the data directories; networks need every
// stack up; backups last (they dump the databases the stacks run).
export const ROLES: readonly Role[] = [
  baseRole,
  sshRole,
  firewallRole,
  fail2banRole,
  hardeningRole,
  dockerRole,
  dataRole,
  stacksRole,
  networksRole,
  proxyRole,
  backupRole,
];

export function rolesByName(names: string[]): Role[] {
  return names.map((name) => {
    const role = ROLES.find((r) => r.name === name);
    if (!role) throw new Error(`unknown role "${name}"; known roles: ${ROLES.map((r) => r.name).join(', ')}`);
    return role;
  });
}

export {
  firewallRole,
  dataRole,
  dockerRole,
  baseRole,
  sshRole,
  hardeningRole,
  fail2banRole,
  stacksRole,
  networksRole,
  proxyRole,
  backupRole,
};
