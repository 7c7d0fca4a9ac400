import { describe, expect, it } from 'vitest';
import { changedCount as changed, drifts as drift, parseReport as report, runRole, useTargets } from './harness.js';

/**
 * Issue 13, ownership per mount: the data role creates the folders a container writes with the
 * uid:gid its image runs as (numeric: uid 5050 has no name on the host), before compose would
 * create them root:root; an owner or mode changed by hand is drift, repaired by apply.
 */
const DATA = `data:
  root: /mnt/data
  mode: "0755"
  directories:
    - { path: pgadmin, mode: "0750" }
    - { path: pgadmin/data, owner: "5050", group: "0", mode: "0700", description: "pgAdmin's /var/lib/pgadmin" }
    - { path: jupyter, mode: "0755" }
    - { path: jupyter/work, owner: "1000", group: "100", mode: "0755" }
    - { path: seller1-prod, mode: "0750" }
    - { path: seller1-prod/files, owner: "33", group: "33", mode: "0755" }
`;

describe('data role: folders owned by the uid:gid of the image that writes them', () => {
  const sb = useTargets({ platformYaml: DATA });
  const owners = async () =>
    (
      await sb.target.exec('stat -c "%n %u:%g %a" /mnt/data/pgadmin/data /mnt/data/jupyter/work /mnt/data/seller1-prod/files')
    ).stdout.trim();

  it('creates them with numeric owners; a second apply changes nothing; --check 0', async () => {
    const first = await runRole('data', ['--json'], { inventory: sb.inventory });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(drift(report(first.stdout))).toContain('create /mnt/data/pgadmin/data (5050:0 0700)');
    expect(await owners()).toBe(
      ['/mnt/data/pgadmin/data 5050:0 700', '/mnt/data/jupyter/work 1000:100 755', '/mnt/data/seller1-prod/files 33:33 755'].join('\n'),
    );
    const second = await runRole('data', ['--json'], { inventory: sb.inventory });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    expect((await runRole('data', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
  });

  it('an owner or mode changed by hand is drift (exit 2, named); apply repairs exactly that', async () => {
    await sb.target.exec('chown root:root /mnt/data/pgadmin/data && chmod 0777 /mnt/data/jupyter/work');
    const check = await runRole('data', ['--check', '--json'], { inventory: sb.inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout)).sort()).toEqual([
      'mode of /mnt/data/jupyter/work 0777 -> 0755',
      'owner of /mnt/data/pgadmin/data 0:0 -> 5050:0',
    ]);
    const apply = await runRole('data', ['--json'], { inventory: sb.inventory });
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(changed(report(apply.stdout))).toBe(2);
    expect((await runRole('data', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
    expect(await owners()).toContain('/mnt/data/pgadmin/data 5050:0 700');
  });
});
