import type { VarsFile } from './group-vars.js';
import { type LoadOptions, parseInventoryWith } from './parse.js';
import { documentChecks, withRoleSections } from './schema.js';
import type { Inventory } from './types.js';

// The loader (parse.ts) with the whole schema for the synchronous parsers: these import every
// slice at once; a script's start-up goes through loadInventory with its roles (slices.ts) instead.
export { expandHome, type LoadOptions } from './parse.js';
export { loadInventory } from './loader.js';

/** One inventory file's text; `file` only labels the problems. */
export function parseInventory(text: string, file: string): Inventory {
  return parseInventorySources([{ file, text }]);
}

/**
 * Several inventory texts merged in order, as `-i a.yaml -i b.ini` does (YAML or Ansible INI,
 * see ini.ts), plus the group_vars/host_vars files next to them; every section validated.
 */
export function parseInventorySources(
  inputs: { file: string; text: string }[],
  varsFiles: VarsFile[] = [],
  options: Pick<LoadOptions, 'roleSections'> = {},
): Inventory {
  return parseInventoryWith(inputs, varsFiles, { schema: withRoleSections(options.roleSections ?? {}), checks: documentChecks });
}
