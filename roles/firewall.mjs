#!/usr/bin/env zx
// UFW as declared in the inventory, published container ports filtered alike (firewall.docker),
// guarded against lockout before and by a dead-man switch after the apply.
// `zx roles/firewall.mjs --check` is the cron-friendly audit: rules, DOCKER-USER, and the real
// exposure of every listening socket and published container port, in one SSH round trip.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { firewallRole } from '../dist/bin/roles/firewall.js';

await main(import.meta.url, [firewallRole], 'roles/firewall.mjs: ' + firewallRole.description);
