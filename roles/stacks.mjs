#!/usr/bin/env zx
// The compose stacks of the inventory in layer order, health-gated. `--check` is the stack audit.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { stacksRole } from '../dist/bin/roles/stacks.js';

await main(import.meta.url, [stacksRole], 'roles/stacks.mjs: ' + stacksRole.description);
