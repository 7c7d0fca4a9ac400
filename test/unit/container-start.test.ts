import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { composeUpCondition, RUNC_INIT_DIED } from '../../src/resources/container-start.js';
import { restartHandler } from '../../src/resources/service-file.js';

/**
 * A stand-in docker CLI (only the shell logic around docker is under test here; the real compose
 * and docker run in the integration tests): `inspect` says the container started long ago and is
 * healthy; every other call is counted, and the first ones fail with the given stderr lines.
 */
async function fakeDocker(failures: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'hostkit-container-start-'));
  await writeFile(join(dir, 'failures'), failures.map((f) => `${f}\n`).join(''));
  await writeFile(
    join(dir, 'docker'),
    `#!/bin/sh
case "$1" in
  inspect) case "$3" in *StartedAt*) echo 2020-01-01T00:00:00Z ;; *) echo 'running healthy' ;; esac; exit 0 ;;
esac
echo "$*" >>"${dir}/calls"
n=$(wc -l <"${dir}/calls")
line=$(sed -n "\${n}p" "${dir}/failures")
[ -z "$line" ] && { echo "ok"; exit 0; }
echo "$line" >&2; exit 1
`,
    { mode: 0o755 },
  );
  const run = async (script: string) => {
    const r = await execa('sh', ['-c', script], { reject: false, env: { PATH: `${dir}:${process.env.PATH}` } });
    const calls = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n').length;
    return { exitCode: r.exitCode, stdout: String(r.stdout).trim(), stderr: String(r.stderr).trim(), calls };
  };
  return { dir, run };
}

const runcDied = `Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: waiting for init preliminary setup: ${RUNC_INIT_DIED}: unknown`;

describe('compose up: one more try only when runc init died', () => {
  const up = async (failures: string[]) => {
    const { run } = await fakeDocker(failures);
    const script = `log=$(mktemp); if ${composeUpCondition(['docker', 'compose', 'up', '-d', '--wait'], '"$log"')}; then echo UP; else tail -n 1 "$log"; echo FAILED; fi`;
    const r = await run(script);
    return { out: r.stdout.split('\n'), calls: r.calls };
  };

  it('succeeds at once without a second call', async () => {
    expect(await up([])).toEqual({ out: ['UP'], calls: 1 });
  });

  it("retries once after runc's init died, and succeeds", async () => {
    expect(await up([runcDied])).toEqual({ out: ['UP'], calls: 2 });
  });

  it('fails after the one retry when runc dies again, with the last error', async () => {
    expect(await up([runcDied, runcDied])).toEqual({ out: [runcDied, 'FAILED'], calls: 2 });
  });

  it('never retries another failure (an image that does not start, a bad mount)', async () => {
    const unhealthy = 'dependency failed to start: container prod-web is unhealthy';
    expect(await up([unhealthy])).toEqual({ out: [unhealthy, 'FAILED'], calls: 1 });
    const mount = 'OCI runtime create failed: runc create failed: error mounting "/mnt/data/x" to rootfs: no such file';
    expect(await up([mount])).toEqual({ out: [mount, 'FAILED'], calls: 1 });
  });
});

describe("a container's restart after its files changed", () => {
  const restart = async (failures: string[]) => {
    const { dir, run } = await fakeDocker(failures);
    const conf = join(dir, 'app.conf');
    await writeFile(conf, 'changed now');
    const [action] = restartHandler('app', [conf], 5).actions;
    const r = await run(action!.kind === 'exec' ? action!.script : '');
    return { exitCode: r.exitCode, stderr: r.stderr, restarts: r.calls };
  };

  it('is tried once more when runc died, and fails at once on any other error, with it', async () => {
    expect(await restart([runcDied])).toEqual({ exitCode: 0, stderr: '', restarts: 2 });
    const gone = 'Error response from daemon: Cannot restart container app: error mounting /mnt/data/x';
    expect(await restart([gone])).toEqual({ exitCode: 1, stderr: gone, restarts: 1 });
  });
});
