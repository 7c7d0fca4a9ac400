#!/usr/bin/env zx
// Base system: packages, hostname, timezone, unattended security upgrades, sysctl.
import { main, baseRole } from '../dist/index.js';

await main(import.meta.url, [baseRole], 'roles/base.mjs: ' + baseRole.description);
