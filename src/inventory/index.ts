export { loadInventory, parseInventory, parseInventorySources, expandHome, type LoadOptions } from './load.js';
export { isThisMachine, selectHosts, PROTECTED_LOCAL_REASON, PROTECTED_REASON, type Selection } from './select.js';
export { InventoryError, LimitError, formatProblem, type Problem } from './errors.js';
export type { HostConfig, Inventory } from './types.js';
export type { InventoryDocument, HostVars, FirewallConfig, FirewallRuleInput, DataConfig, RoleSections } from './schema.js';
export { matchPattern, splitPattern, type PatternMatch } from './patterns.js';
export { expandHostPattern } from './ranges.js';
