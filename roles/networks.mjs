#!/usr/bin/env zx
// NPM's connections to every stack network (additive) and the production isolation audit.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { networksRole } from '../dist/bin/roles/networks.js';

await main(import.meta.url, [networksRole], 'roles/networks.mjs: ' + networksRole.description);
