export { ensureImage, DEBIAN_SUITES, DEFAULT_SUITE, type DebianSuite } from './image.js';
export { repoRoot, sandboxDir, sandboxPaths, SANDBOX_DIR_ENV, type SandboxPaths } from './paths.js';
export { ensureSandboxState, knownHostsPattern, setKnownHost, removeKnownHost } from './keys.js';
export {
  startTarget,
  attachTarget,
  resumeTarget,
  removeTarget,
  listTargets,
  removeAllTargets,
  currentRunId,
  SANDBOX_LABEL,
  RUN_LABEL,
  RUN_ENV,
  type Target,
  type TargetInfo,
  type StartTargetOptions,
} from './targets.js';
export { writeSandboxInventory, sandboxInventoryYaml, defaultPlatformYaml, type SandboxInventoryOptions } from './inventory.js';
export { readSshBanner, waitForSsh } from './wait.js';
export type { RunResult } from './docker.js';
export { ensureDbImages, realDbOverlay, DEFAULT_REAL_DBS, type DbImages, type DbEngine, type RealDb } from './db-images.js';
export { createAppRepo, pythonAppFiles, drupalSiteFiles, appRepoOverlay, DRUPAL_SETTINGS, type AppRepo } from './app-repos.js';
