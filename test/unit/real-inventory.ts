import { join } from 'node:path';
import { repoRoot } from '../../src/sandbox/paths.js';

/** The test fixtures' folder. */
export const FIXTURES = join(repoRoot(), 'test/fixtures');

/** The real inventory with a recorded platform and the sandbox overlay: what the inventory caches are checked on. */
export const REAL_INVENTORY = [
  join(repoRoot(), 'inventory.yaml'),
  join(FIXTURES, 'platform/as-recorded.yaml'),
  join(FIXTURES, 'inventory/overlay/sandbox.yaml'),
];
