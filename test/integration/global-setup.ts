import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';
import {
  DEBIAN_SUITES,
  DEFAULT_SUITE,
  ensureImage,
  ensureSandboxState,
  removeAllTargets,
  repoRoot,
  RUN_ENV,
} from '../../src/sandbox/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sandboxImage: string;
    sandboxRunId: string;
  }
}

/**
 * Once per `vitest run`: make sure Docker runs and the target images exist (one per Debian suite
 * of the matrix, built side by side), so no test pays a cold image build inside its hook timeout;
 * tag this run's containers so teardown removes only them (another engineer's run, or `sandbox
 * up`, may have targets alive on the same engine).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const hs = await execa('bash', ['sandbox/host-setup.sh'], { cwd: repoRoot(), reject: false, all: true, stdin: 'ignore' });
  if (hs.exitCode !== 0) throw new Error(`sandbox/host-setup.sh failed (exit ${hs.exitCode}):\n${hs.all}`);
  // roles/*.mjs and scripts/*.mjs run the bundle (dist/bin, bundle.mjs): rebuilt from src/ (~1 s) so
  // a run after `npx tsc` alone never tests a stale bundle.
  const bundle = await execa('node', ['bundle.mjs'], { cwd: repoRoot(), reject: false, all: true, stdin: 'ignore' });
  if (bundle.exitCode !== 0) throw new Error(`node bundle.mjs failed (exit ${bundle.exitCode}):\n${bundle.all}`);
  const runId = process.env[RUN_ENV] || `vitest-${randomBytes(4).toString('hex')}`;
  // Workers are forked after globalSetup and inherit this environment; startTarget() reads it.
  process.env[RUN_ENV] = runId;
  const [images] = await Promise.all([
    Promise.all(DEBIAN_SUITES.map((s) => ensureImage(s.suite, { verbose: true }))),
    ensureSandboxState(),
  ]);
  const image = images[DEBIAN_SUITES.findIndex((s) => s.suite === DEFAULT_SUITE)]!;
  project.provide('sandboxImage', image);
  project.provide('sandboxRunId', runId);
  return async () => {
    const left = await removeAllTargets({ runId });
    if (left.length) console.warn(`[sandbox] removed ${left.length} target(s) left by run ${runId}: ${left.join(', ')}`);
  };
}
