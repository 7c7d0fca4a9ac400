#!/usr/bin/env zx
// restic backups as declared in the inventory's backup: section (timer, retention, check).
import { main } from '../dist/bin/cli/main.js';
import { backupRole } from '../dist/bin/roles/backup.js';

await main(import.meta.url, [backupRole], 'roles/backup.mjs: ' + backupRole.description);
