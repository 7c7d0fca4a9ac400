import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { attachTarget, listTargets, resumeTarget, startTarget, type Target } from './targets.js';
import { ensureSandboxState } from './keys.js';
import { sandboxPaths } from './paths.js';
import { loadInventory } from '../inventory/index.js';
import { standinOverlayFor } from './platform.js';

export const DEMO_TARGET = 'hostkit-demo';

/**
 * The inventory for a sandbox run: the given inventory (the real one by default) with its hosts
 * replaced by one local sandbox server, so everything else (firewall, data, stacks) is the real
 * declaration. Returns the inventory paths to use, the overlay last.
 */
export async function prepareSandboxInventory(inventoryPaths: string[]): Promise<string[]> {
  const paths = await ensureSandboxState(sandboxPaths());
  // Reused as it is: converged by an earlier demo, or stopped by a reboot (started again).
  const existing = (await listTargets({})).find((t) => t.name === DEMO_TARGET);
  const target: Target = !existing
    ? await startTarget({ name: DEMO_TARGET, runId: 'demo' })
    : existing.state === 'running'
      ? await attachTarget(DEMO_TARGET)
      : await resumeTarget(DEMO_TARGET);
  const base = await loadInventory(inventoryPaths);
  const removeHosts = Object.fromEntries(base.hosts.map((h) => [h.name, null]));
  const removeGroups = Object.fromEntries(
    Object.keys(base.groups)
      .filter((g) => g !== 'all')
      .map((g) => [g, null]),
  );
  const overlay = {
    all: {
      vars: {
        user: 'root',
        identity_file: target.keyFile,
        known_hosts: target.knownHosts,
        host_key_checking: 'strict',
      },
      hosts: { ...removeHosts, [DEMO_TARGET]: { address: target.address, port: target.port, protected: false } },
      children: { ...removeGroups, sandbox: { hosts: { [DEMO_TARGET]: null } } },
    },
  };
  const overlayPath = resolve(paths.dir, 'demo-overlay.yaml');
  await writeFile(
    overlayPath,
    `# Generated: the sandbox server replaces every host of ${inventoryPaths.join(', ')}\n${stringify(overlay)}`,
  );
  // Upstream images cannot be pulled here: busybox stand-ins (archive source) replace them.
  const all = [...inventoryPaths, overlayPath, ...(await standinOverlayFor([...inventoryPaths, overlayPath], paths.dir))];
  // For scripts that run single roles against the demo server (bench/check.sh): one path a line.
  await writeFile(resolve(paths.dir, 'demo-inventory.txt'), all.map((p) => resolve(p)).join('\n') + '\n');
  return all;
}
