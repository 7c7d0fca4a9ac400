#!/usr/bin/env zx
// The compose stacks of the inventory in layer order, health-gated. `--check` is the stack audit.
import { main, stacksRole } from '../dist/index.js';

await main(import.meta.url, [stacksRole], 'roles/stacks.mjs: ' + stacksRole.description);
