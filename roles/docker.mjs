#!/usr/bin/env zx
// Docker Engine + Compose v2 and /etc/docker/daemon.json as declared in the inventory's docker: section.
// `zx roles/docker.mjs --check` reports the engine and compose versions and fails below the declared minimums.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { dockerRole } from '../dist/bin/roles/docker.js';

await main(import.meta.url, [dockerRole], 'roles/docker.mjs: ' + dockerRole.description);
