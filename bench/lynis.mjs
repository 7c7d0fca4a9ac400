// Lynis inside a fully provisioned sandbox target: start (or reuse) a target, provision the whole
// platform on it (scripts/provision.mjs with the sandbox platform inventory), run Debian's lynis in
// it and print the hardening index and every remaining warning and suggestion.
//   node bench/lynis.mjs [--name N] [--keep] [--no-provision] [--json]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { attachTarget, listTargets, repoRoot, startTarget } from '../dist/sandbox/index.js';
import { writePlatformInventory } from '../dist/sandbox/platform.js';
import { formatLynis, runLynis } from '../dist/sandbox/lynis.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'hostkit-hard-bench' },
    keep: { type: 'boolean', default: false },
    'no-provision': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const existing = (await listTargets({})).find((t) => t.name === values.name && t.state === 'running');
const target = existing ? await attachTarget(values.name) : await startTarget({ name: values.name, runId: 'bench' });
const dir = await mkdtemp(join(tmpdir(), 'hostkit-lynis-'));
let code = 0;
try {
  if (!values['no-provision']) {
    const inv = await writePlatformInventory([target], dir);
    const t0 = performance.now();
    const r = await execa(process.execPath, ['scripts/provision.mjs', ...inv.paths.flatMap((p) => ['-i', p])], {
      cwd: repoRoot(),
      reject: false,
      stdin: 'ignore',
      all: true,
      env: { FORCE_COLOR: '0' },
    });
    console.error(`provision: exit ${r.exitCode} in ${Math.round((performance.now() - t0) / 1000)} s`);
    if (r.exitCode !== 0) {
      console.error(String(r.all).slice(-4000));
      process.exit(1);
    }
  }
  const result = await runLynis(target);
  console.log(values.json ? JSON.stringify(result, null, 2) : formatLynis(result));
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : e}`);
  code = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
  if (!values.keep && !existing) await target.remove();
}
process.exit(code);
