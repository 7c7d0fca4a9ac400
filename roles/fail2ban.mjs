#!/usr/bin/env zx
// fail2ban as declared in the inventory: sshd jail on the journal, recidive, proxied-app jails.
import { main, fail2banRole } from '../dist/index.js';

await main(import.meta.url, [fail2banRole], 'roles/fail2ban.mjs: ' + fail2banRole.description);
