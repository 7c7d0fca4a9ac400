import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';

/**
 * `systemd-detect-virt --container`: "none" on a VM or bare metal, else the container kind
 * ("docker", "lxc"). It prints "none" and exits 1 outside a container; `|| true` keeps that a result.
 */
export const containerFact: Fact<string> = defineFact(
  'host.container',
  [],
  'systemd-detect-virt --container 2>/dev/null || true',
  ({ stdout }) => stdout.trim() || 'none',
);
