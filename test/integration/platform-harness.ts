import { execa } from 'execa';
import { repoRoot } from '../../src/sandbox/index.js';
import type { CommandResult, Report } from './harness.js';
export { changedCount, drifts, parseReport, reachable, type Report } from './harness.js';

/** The JSON report of a run (--json), with the fields the platform tests read. */

export const roleTimes = (r: Report) => Object.fromEntries(r.hosts.map((h) => [h.role, Math.round(h.durationMs / 100) / 10]));

/** `node <script> ...args -i p1 -i p2 ...` from the repo root (the README's fast form); never rejects. */
export async function runScript(script: string, args: string[], inventories: string[], timeoutMs = 900_000): Promise<CommandResult> {
  const t0 = performance.now();
  const r = await execa(process.execPath, [script, ...args, ...inventories.flatMap((p) => ['-i', p])], {
    cwd: repoRoot(),
    reject: false,
    stdin: 'ignore',
    env: { FORCE_COLOR: '0' },
    timeout: timeoutMs,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: performance.now() - t0 };
}

/** Container name -> id, state and health, as Docker in the target reports them. */
export async function containerStates(
  exec: (cmd: string) => Promise<{ stdout: string }>,
): Promise<Map<string, { id: string; state: string; health: string }>> {
  const out = (
    await exec(
      `docker ps -aq | xargs -r docker inspect -f '{{.Name}} {{.Id}} {{.State.Status}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}}'`,
    )
  ).stdout;
  return new Map(
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, id, state, health] = l.split(' ');
        return [name!.replace(/^\//, ''), { id: id!, state: state!, health: health! }];
      }),
  );
}

/**
 * An overlay that removes the hardening section (a null deletes a key): the tests whose subject is
 * elsewhere (NPM, real databases, backups) leave that role out. Its apt run is most of it (~70 s of
 * a provision, aide-common's ucf postinst alone ~37 s); hardening.test, platform.test and
 * recover.test still provision it from a bare server.
 */
export const WITHOUT_HARDENING = { hardening: null } as const;
