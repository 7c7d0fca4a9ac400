#!/usr/bin/env zx
// The /mnt/data layout as declared in the inventory; never deletes or empties anything.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { dataRole } from '../dist/bin/roles/data.js';

await main(import.meta.url, [dataRole], 'roles/data.mjs: ' + dataRole.description);
