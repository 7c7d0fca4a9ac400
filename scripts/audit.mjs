#!/usr/bin/env zx
// The full audit: every role in --check mode (exit 0 the host matches, 2 drift, 1 error).
// Same options as scripts/provision.mjs (--only, --limit, --json, -i, --secrets); cron-friendly.
import { provisionMain } from '../dist/bin/cli/provision.js';

await provisionMain(import.meta.url, { check: true });
