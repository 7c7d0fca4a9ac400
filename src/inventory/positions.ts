import type { Inventory } from './types.js';

// Inventories whose `locate` needs a module loaded first (a validated-cache hit: loader.ts).
const PREPARE = new WeakMap<Inventory, () => Promise<void>>();

/** Registers how `inventory.locate` gets ready; returns the inventory. */
export function locatedOnDemand(inventory: Inventory, prepare: () => Promise<void>): Inventory {
  PREPARE.set(inventory, prepare);
  return inventory;
}

/** Makes `inventory.locate` answer; a no-op for an inventory that was validated in this run. */
export async function prepareLocate(inventory: Inventory | undefined): Promise<void> {
  if (inventory) await PREPARE.get(inventory)?.();
}
