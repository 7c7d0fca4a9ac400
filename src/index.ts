export { main } from './cli/main.js';
export { runPlaybook } from './engine/run.js';
export { firewallRole } from './roles/firewall.js';
export { dataRole } from './roles/data.js';
export type * from './engine/types.js';
