#!/usr/bin/env zx
// NPM's connections to every stack network (additive) and the production isolation audit.
import { main, networksRole } from '../dist/index.js';

await main(import.meta.url, [networksRole], 'roles/networks.mjs: ' + networksRole.description);
