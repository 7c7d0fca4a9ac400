#!/usr/bin/env zx
// Full server provisioning: every role in order, each gating the next.
// `zx scripts/provision.mjs --sandbox` runs the whole flow on a local sandbox server.
import { provisionMain } from '../dist/bin/cli/provision.js';

await provisionMain(import.meta.url);
