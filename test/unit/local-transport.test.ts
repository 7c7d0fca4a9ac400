import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTransport } from '../../src/transports/local.js';
import { TransportError } from '../../src/transports/types.js';

describe('LocalTransport', () => {
  let dir: string;
  const t = new LocalTransport({ name: 'localhost', become: false });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-local-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs sh scripts and returns stdout, stderr and exit code', async () => {
    const r = await t.exec('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    expect(t.kind).toBe('local');
    expect(t.stats.connections).toBe(0);
    expect(t.stats.execs).toBeGreaterThan(0);
  });

  it('feeds stdin, and gives EOF when there is none', async () => {
    expect((await t.exec('tr a-z A-Z', { stdin: 'hello' })).stdout).toBe('HELLO');
    expect((await t.exec('cat; echo done')).stdout).toBe('done\n');
  });

  it('throws a TransportError on timeout', async () => {
    const err = await t.exec('sleep 5', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).message).toMatch(/^localhost: exec: `sleep 5` timed out after 200 ms/);
  });

  it('writeFile replaces atomically, applies the mode and leaves no temp file', async () => {
    const path = join(dir, 'app.conf');
    await writeFile(path, 'old\n');
    await t.writeFile(path, "new 'quoted' $HOME\n", { mode: '0640' });
    expect(await readFile(path, 'utf8')).toBe("new 'quoted' $HOME\n");
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['app.conf']);

    // Without a mode the existing one is kept.
    await t.writeFile(path, Buffer.from([0, 1, 2]));
    expect(await readFile(path)).toEqual(Buffer.from([0, 1, 2]));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  it('writeFile failures name host, step and path, and clean the temp file', async () => {
    const err = await t.writeFile(join(dir, 'x'), 'data', { owner: 'no-such-user-hostkit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).message).toMatch(
      new RegExp(`^localhost: write: \`write ${dir}/x\` exited 1: .*no-such-user-hostkit`, 's'),
    );
    expect(await readdir(dir)).toEqual([]);
    await expect(t.writeFile('relative/path', 'x')).rejects.toThrow(/write: path must be absolute/);
    await expect(t.writeFile(join(dir, 'y'), 'x', { mode: 'rwx' })).rejects.toThrow(/invalid mode/);
  });
});
