#!/usr/bin/env zx
// Run a backup now from the control machine (--check: is the newest snapshot fresh?).
import { backupMain } from '../dist/bin/cli/backup.js';

await backupMain(import.meta.url);
