import { execa } from 'execa';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const builds = new Map<string, Promise<string>>();

/**
 * Build (or reuse, by content hash) the target image for a Debian suite and return its tag,
 * e.g. "hostkit-target:trixie-0123456789ab". Memoised per process: the script is cheap when
 * cached, but tests call this from every startTarget().
 * `verbose` streams the build's progress (mmdebstrap) to our stderr.
 */
export function ensureImage(suite = 'trixie', opts: { verbose?: boolean } = {}): Promise<string> {
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
