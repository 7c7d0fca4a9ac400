#!/usr/bin/env zx
// Disaster recovery of a bare server from its restic backups (see --help).
import { recoverMain } from '../dist/bin/cli/recover.js';

await recoverMain(import.meta.url);
