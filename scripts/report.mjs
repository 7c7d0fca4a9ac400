#!/usr/bin/env zx
// docs/platform.md from inventory.yaml: the seed as documentation that cannot drift.
import { reportMain } from '../dist/bin/cli/report.js';

await reportMain(import.meta.url);
