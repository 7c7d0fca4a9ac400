// Programs run on the control machine (git, tar) through node:child_process: real processes.
import { describe, expect, it } from 'vitest';
import { runOnControl } from '../../src/platform/control-command.js';

describe('runOnControl', () => {
  it('returns the exit code, stdout and stderr; env extends the environment; stdin is closed', async () => {
    const r = await runOnControl('sh', ['-c', 'echo "$FOO $HOME"; cat; echo err >&2; exit 3'], { env: { FOO: 'bar' } });
    expect(r).toEqual({ exitCode: 3, stdout: `bar ${process.env.HOME}\n`, stderr: 'err\n' });
  });

  it('a program that cannot start: exit 127 and the reason in stderr', async () => {
    const r = await runOnControl('/nonexistent/hostkit-no-such-program', []);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('a timeout ends it: no exit code', async () => {
    const t0 = Date.now();
    const r = await runOnControl('sleep', ['5'], { timeout: 200 });
    expect(r.exitCode).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(4000);
  });
});
