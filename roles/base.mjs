#!/usr/bin/env zx
// Base system: packages, hostname, timezone, unattended security upgrades, sysctl.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { baseRole } from '../dist/bin/roles/base.js';

await main(import.meta.url, [baseRole], 'roles/base.mjs: ' + baseRole.description);
