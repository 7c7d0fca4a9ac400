#!/usr/bin/env zx
// Docker Engine + Compose v2 and /etc/docker/daemon.json as declared in the inventory's docker: section.
// `zx roles/docker.mjs --check` reports the engine and compose versions and fails below the declared minimums.
import { main, dockerRole } from '../dist/index.js';

await main(import.meta.url, [dockerRole], 'roles/docker.mjs: ' + dockerRole.description);
