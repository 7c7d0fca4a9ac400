#!/usr/bin/env zx
// UFW as declared in the inventory. `zx roles/firewall.mjs --check` is the cron-friendly audit.
import { main, firewallRole } from '../dist/index.js';

await main(import.meta.url, [firewallRole], 'roles/firewall.mjs: ' + firewallRole.description);
