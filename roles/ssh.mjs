#!/usr/bin/env zx
// sshd hardening drop-in; every change must pass sshd -t and a fresh login, or it is rolled back.
import { main, sshRole } from '../dist/index.js';

await main(import.meta.url, [sshRole], 'roles/ssh.mjs: ' + sshRole.description);
