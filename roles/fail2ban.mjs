#!/usr/bin/env zx
// fail2ban as declared in the inventory: sshd jail on the journal, recidive, proxied-app jails.
// Only this role's modules are loaded: start-up is most of a cron check's time.
import { main } from '../dist/bin/cli/main.js';
import { fail2banRole } from '../dist/bin/roles/fail2ban.js';

await main(import.meta.url, [fail2banRole], 'roles/fail2ban.mjs: ' + fail2banRole.description);
