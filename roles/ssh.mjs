#!/usr/bin/env zx
// sshd hardening drop-in; every change must pass sshd -t and a fresh login, or it is rolled back.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { sshRole } from '../dist/bin/roles/ssh.js';

await main(import.meta.url, [sshRole], 'roles/ssh.mjs: ' + sshRole.description);
