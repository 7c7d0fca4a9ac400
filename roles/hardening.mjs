#!/usr/bin/env zx
// Host hardening beyond base and ssh (issue 12): each setting from the inventory's hardening section.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { hardeningRole } from '../dist/bin/roles/hardening.js';

await main(import.meta.url, [hardeningRole], 'roles/hardening.mjs: ' + hardeningRole.description);
