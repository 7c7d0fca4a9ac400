import { execa } from 'execa';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * The Debian releases the sandbox builds targets of, oldest first, with their version: the
 * server roles' integration tests run on each (a matrix), the demo on the newest.
 */
export const DEBIAN_SUITES = [
  { suite: 'bookworm', version: 12 },
  { suite: 'trixie', version: 13 },
] as const;
export type DebianSuite = (typeof DEBIAN_SUITES)[number]['suite'];
export const DEFAULT_SUITE: DebianSuite = 'trixie';

const builds = new Map<string, Promise<string>>();

/**
 * Build (or reuse, by content hash) the target image for a Debian suite and return its tag,
 * e.g. "hostkit-target:trixie-0123456789ab". Memoised per process: the script is cheap when
 * cached, but tests call this from every startTarget().
 * `verbose` streams the build's progress (mmdebstrap) to our stderr.
 */
export function ensureImage(suite: string = DEFAULT_SUITE, opts: { verbose?: boolean } = {}): Promise<string> {
  if (!DEBIAN_SUITES.some((s) => s.suite === suite)) {
    return Promise.reject(
      new Error(`sandbox: no target image for Debian suite "${suite}" (${DEBIAN_SUITES.map((s) => s.suite).join(', ')})`),
    );
  }
  let p = builds.get(suite);
  if (!p) {
    p = buildImage(suite, opts.verbose ?? false);
    builds.set(suite, p);
    p.catch(() => builds.delete(suite)); // a failed build may be retried
  }
  return p;
}

async function buildImage(suite: string, verbose: boolean): Promise<string> {
  const root = repoRoot();
  const r = await execa('bash', [join(root, 'sandbox', 'build-image.sh'), suite], {
    cwd: root,
    reject: false,
    stdin: 'ignore',
    stderr: verbose ? 'inherit' : 'pipe',
  });
  const tag = String(r.stdout).trim().split('\n').pop() ?? '';
  if (r.exitCode !== 0 || !/^hostkit-target:\S+$/.test(tag)) {
    const tail = String(r.stderr ?? '')
      .trim()
      .split('\n')
      .slice(-20)
      .join('\n');
    throw new Error(`sandbox/build-image.sh ${suite} failed (exit ${r.exitCode}):\n${tail}`);
  }
  return tag;
}
