/**
 * bench/scale.sh's path end to end on a real target: the simulator records what the target
 * answers to a firewall + data --check, then replays it for several simulated hosts through the
 * real CLI, and every simulated host reports exactly what the real one did. Read-only (--check):
 * nothing is applied, so there is no second apply to assert.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { recordFrom, simulatedAudit } from '../../bench/sim/fleet.mjs';
import type { HostReport } from '../../src/engine/types.js';
import { defaultPlatformYaml, useTargets } from './harness.js';

const ROLES = 'firewall,data';
const verdicts = (hosts: HostReport[]) =>
  hosts.map((h) => ({
    role: h.role,
    error: h.error,
    resources: h.resources.map((r) => [r.id, r.status, r.changes.map((c) => c.summary)]),
  }));

describe('fleet simulator against a recording of a real target', () => {
  const sb = useTargets();
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-sim-it-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replays the recorded audit for 4 hosts: same verdicts, one connection and the same execs per host', async () => {
    const platformYaml = defaultPlatformYaml();
    const rec = await recordFrom(sb.target, { dir, roles: ROLES, platformYaml });
    // A bare target: ufw missing and /mnt/data absent are drift.
    expect(rec.exitCode).toBe(2);
    const real = verdicts(rec.report.hosts);
    expect(real.map((r) => r.role)).toEqual(['firewall', 'data']);
    expect(real.every((r) => r.error === undefined)).toBe(true);

    const sim = await simulatedAudit({ answers: rec.answers, dir, hosts: 4, roles: ROLES, platformYaml });
    expect(sim.exitCode).toBe(2);
    expect(sim.sim.unanswered).toBe(0);
    expect(sim.sim.connections).toBe(4);
    expect(sim.sim.execs).toBe(4 * rec.answers.size);
    const byHost = new Map<string, HostReport[]>();
    for (const h of sim.report.hosts as HostReport[]) byHost.set(h.host, [...(byHost.get(h.host) ?? []), h]);
    expect([...byHost.keys()].sort()).toEqual(['h0001', 'h0002', 'h0003', 'h0004']);
    for (const reports of byHost.values()) expect(verdicts(reports)).toEqual(real);
  });
});
