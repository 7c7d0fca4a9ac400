#!/usr/bin/env zx
// The /mnt/data layout as declared in the inventory; never deletes or empties anything.
import { main, dataRole } from '../dist/index.js';

await main(import.meta.url, [dataRole], 'roles/data.mjs: ' + dataRole.description);
