import { buildRole, type RoleInput } from '../../../src/engine/role-input.js';
import type { Role } from '../../../src/engine/types.js';
import type { Inventory } from '../../../src/inventory/types.js';
import { renderCompose } from '../../../src/platform/compose.js';
import { platformOf } from '../../../src/platform/model.js';
import { renderEnvFile } from '../../../src/platform/secrets.js';
import { ROLES } from '../../../src/roles/index.js';
import { toUfwArgs } from '../../../src/resources/ufw-rules.js';
import { validatedWriteScript } from '../../../src/resources/file.js';
import { sh } from '../../../src/transports/quote.js';

/**
 * Everything an inventory turns into on a host, collected from the real builders: file contents
 * (by their path on the server), shell scripts (exec actions, validate commands, handlers,
 * safeguards) and the ufw command lines of the declared rules. Keys are structural (role,
 * resource index, property path), so a mutated value never renames an artifact.
 */
export interface Artifacts {
  files: Map<string, { path: string; content: string }>;
  scripts: Map<string, string>;
}

const SCRIPT_KEYS = new Set(['script', 'validate', 'command', 'arm', 'disarm', 'confirm', 'restore']);

function walk(value: unknown, key: string, out: Artifacts, seen: Set<unknown>, depth: number): void {
  if (depth > 8 || value === null || value === undefined) return;
  if (typeof value === 'string') {
    const last = key.split('.').pop()!;
    if (SCRIPT_KEYS.has(last)) out.scripts.set(key, value);
    return;
  }
  if (typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${key}[${i}]`, out, seen, depth + 1);
    return;
  }
  const o = value as Record<string, unknown>;
  if (typeof o.content === 'string' && typeof o.path === 'string') {
    out.files.set(`${key}.content`, { path: o.path, content: o.content });
    // The apply-time write of a validated file is a pure function of its spec: check it too.
    if (typeof o.validate === 'string')
      out.scripts.set(`${key}.write`, validatedWriteScript(o as unknown as Parameters<typeof validatedWriteScript>[0]));
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'content') walk(v, `${key}.${k}`, out, seen, depth + 1);
}

export function collectArtifacts(inventory: Inventory, inputs: Map<Role, RoleInput>): Artifacts {
  const out: Artifacts = { files: new Map(), scripts: new Map() };
  const host = inventory.hosts[0]!;
  for (const role of ROLES) {
    const input = inputs.get(role);
    if (!input) continue;
    const build = buildRole(role, inventory, host, input);
    walk(build, role.name, out, new Set(), 0);
  }
  const platform = inventory.doc.stacks ? platformOf(inventory) : undefined;
  for (const [i, stack] of (platform?.stacks ?? []).entries()) {
    out.files.set(`compose[${i}]`, { path: `${stack.name}/compose.yaml`, content: renderCompose(stack) });
  }
  for (const [i, rule] of (inventory.doc.firewall?.rules ?? []).entries()) {
    if (typeof rule === 'string') continue;
    const argv = toUfwArgs(
      { ...rule, port: String(rule.port), direction: 'in', family: 'v4', to: 'any', route: false } as unknown as Parameters<
        typeof toUfwArgs
      >[0],
      'add',
    );
    out.scripts.set(`ufw[${i}]`, sh(argv));
  }
  return out;
}

export { renderEnvFile };
