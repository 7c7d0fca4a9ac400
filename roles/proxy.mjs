#!/usr/bin/env zx
// NPM's proxy/redirection hosts and certificates as code, through NPM's API over the SSH connection.
import { main } from '../dist/bin/cli/main.js';
import { proxyRole } from '../dist/bin/roles/proxy.js';

await main(import.meta.url, [proxyRole], 'roles/proxy.mjs: ' + proxyRole.description);
