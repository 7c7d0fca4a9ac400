import { describe, expect, it } from 'vitest';
import { backupModel } from '../../src/backup/model.js';
import { BackupFreshness, BackupRun } from '../../src/backup/check.js';
import { backupStateFact, parseBackupState, type RecoverState, recoverStateFact } from '../../src/backup/facts.js';
import { DumpLoad, RecoverPreflight, SnapshotRestore } from '../../src/backup/recover.js';
import type { Fact, FactSet, PlanContext } from '../../src/engine/types.js';
import type { HostConfig } from '../../src/inventory/types.js';
import { parseInventorySources } from '../../src/inventory/load.js';
import { LocalTransport } from '../../src/transports/local.js';

const INV = `
all:
  hosts:
    web1: { address: 10.0.0.5 }
data: { root: /mnt/data, directories: [{ path: prod }] }
stacks:
  prod:
    layer: production
    networks: { n: { name: prod_n } }
    services:
      db:
        container_name: prod-db
        image: hostkit-db/postgres:0123abcd
        volumes: ["prod/db:/var/lib/postgresql/data"]
        networks: [n]
backup:
  repository: sftp:backup@203.0.113.9:/srv/restic/web1
  password_secret: restic_password
  retention: { keep_daily: 3, keep_weekly: 2, keep_monthly: 1 }
  max_age_hours: 2
`;
const m = backupModel(parseInventorySources([{ file: 'inv.yaml', text: INV }]))!;
const host = { name: 'web1' } as HostConfig;
const ctx = (mode: PlanContext['mode'] = 'apply'): PlanContext => ({ host, mode, pendingPrerequisites: [] });
const facts = (values: [Fact<unknown>, unknown][]): FactSet => {
  const map = new Map(values.map(([f, v]) => [f.key, v]));
  return { get: <T>(f: Fact<T>) => map.get(f.key) as T };
};
const SNAPS = `[{"time":"2026-11-25T20:01:02Z","paths":["/mnt/data"],"hostname":"web1","id":"4f1e0c6b9d2a","short_id":"4f1e0c6b"}]`;

/** The probe's real output, produced by its real command in a local shell with a stand-in script. */
async function probe(script: string | undefined): Promise<string> {
  const t = new LocalTransport(host);
  const command =
    script === undefined ? backupStateFact.command : backupStateFact.command.replaceAll('/usr/local/sbin/hostkit-backup', script);
  return (await t.exec(command)).stdout;
}

describe('backup state fact and audit', () => {
  it('parses the probe: absent, a listing error, snapshots and the last run', async () => {
    expect(parseBackupState('hostkit-backup-fact: absent\n')).toEqual({ installed: false, snapshots: [] });
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/hk-backup-'));
    const ok = `${dir}/ok`;
    const bad = `${dir}/bad`;
    const fs = await import('node:fs/promises');
    await fs.writeFile(
      ok,
      `#!/bin/sh\ncase "$1" in snapshots) echo '${SNAPS}';; status) echo '{"ok":true,"finished":1795640462,"step":"done","exit":0,"snapshot":"4f1e0c6b"}';; esac\n`,
      { mode: 0o755 },
    );
    await fs.writeFile(bad, `#!/bin/sh\ncase "$1" in snapshots) echo 'Fatal: repository does not exist' >&2; exit 1;; esac\n`, {
      mode: 0o755,
    });
    const s = parseBackupState(await probe(ok));
    expect(s.installed).toBe(true);
    expect(s.snapshots.map((x) => x.shortId)).toEqual(['4f1e0c6b']);
    expect(s.lastRun?.snapshot).toBe('4f1e0c6b');
    const b = parseBackupState(await probe(bad));
    expect(b).toEqual({ installed: true, snapshots: [], listError: 'cannot list snapshots (exit 1): Fatal: repository does not exist' });
  });

  it('freshness: ok with the verdict as notes; drift when too old; an error when the script is missing', () => {
    const state = parseBackupState(
      `hostkit-backup-fact: snapshots 0\n${SNAPS}\nhostkit-backup-fact: stderr\n\nhostkit-backup-fact: status\n`,
    );
    const fresh = new BackupFreshness({ maxAgeHours: 2, now: '2026-11-25T21:00:00Z' });
    const f = facts([[backupStateFact, state]]);
    expect(fresh.plan(f)).toEqual([]);
    expect(fresh.notes(f)[0]).toBe('newest snapshot 4f1e0c6b is 0.98 h old (limit 2 h)');
    const old = new BackupFreshness({ maxAgeHours: 2, now: '2026-11-26T21:00:00Z' });
    expect(old.plan(f)[0]!.summary).toMatch(/^newest snapshot 4f1e0c6b is 24.98 h old \(limit 2 h\); no backup run recorded/);
    expect(() => fresh.plan(facts([[backupStateFact, { installed: false, snapshots: [] }]]))).toThrow(/hostkit-backup missing/);
    expect(new BackupRun(m).plan(f, ctx())[0]!.summary).toBe(
      'run hostkit-backup.service: dump prod-db, snapshot /mnt/data to sftp:backup@203.0.113.9:/srv/restic/web1',
    );
  });
});

describe('recover steps as resources', () => {
  const state = (s: Partial<RecoverState> | undefined) => (s ? { snapshot: 'abc', restored: false, loaded: [], ...s } : undefined);
  it('preflight refuses a data root holding files and running databases; continues a recorded recovery', () => {
    const p = new RecoverPreflight({ model: m, force: false });
    const [, data] = p.facts();
    const with_ = (st: RecoverState | undefined, found: string[], running: string[]) =>
      facts([
        [recoverStateFact, st],
        [data!, { found, running }],
      ]);
    expect(() => p.plan(with_(undefined, ['/mnt/data/x'], []), ctx())).toThrow(/web1: REFUSED: the data root \/mnt\/data is not empty/);
    expect(() => p.plan(with_(undefined, [], ['prod-db']), ctx())).toThrow(/REFUSED: database containers are running \(prod-db\)/);
    expect(p.plan(with_(undefined, [], ['prod-db']), ctx('dry-run'))).toEqual([]);
    expect(p.notes(with_(state({}), ['/mnt/data/x'], []))).toEqual(['continuing the recovery recorded in /var/lib/hostkit/recover.json']);
    expect(new RecoverPreflight({ model: m, force: true }).plan(with_(undefined, ['/mnt/data/x'], []), ctx())).toEqual([]);
  });

  it('restore: the newest snapshot, recorded before and after; nothing when already restored', () => {
    const r = new SnapshotRestore({ model: m });
    const backup = parseBackupState(
      `hostkit-backup-fact: snapshots 0\n${SNAPS}\nhostkit-backup-fact: stderr\n\nhostkit-backup-fact: status\n`,
    );
    const [change] = r.plan(
      facts([
        [recoverStateFact, undefined],
        [backupStateFact, backup],
      ]),
      ctx(),
    );
    expect(change!.summary).toBe('restore the newest snapshot (4f1e0c6b) from sftp:backup@203.0.113.9:/srv/restic/web1 into /mnt/data');
    expect(change!.actions.map((a) => (a.kind === 'exec' ? a.script : '')).join('\n')).toMatch(
      /"restored":false[\s\S]*hostkit-backup restore '?4f1e0c6b9d2a'? \/[\s\S]*"restored":true/,
    );
    const done = facts([
      [recoverStateFact, state({ restored: true })],
      [backupStateFact, backup],
    ]);
    expect(r.plan(done, ctx())).toEqual([]);
    expect(r.notes(done)).toEqual(['snapshot abc already restored (continuing)']);
    expect(() => new SnapshotRestore({ model: m, snapshot: 'zzz' }).plan(done, ctx())).toThrow(/--snapshot zzz differs/);
  });

  it('dump load: records the container as loaded; nothing when it is', () => {
    const d = new DumpLoad({ db: m.databases[0]!, earlier: [] });
    const [c] = d.plan(facts([[recoverStateFact, state({ restored: true })]]));
    expect(c!.summary).toBe('load /mnt/data/prod/dumps/prod-db.sql into prod-db');
    expect(c!.actions.at(-1)!.kind === 'exec' && c!.actions.at(-1)!.script).toContain('"loaded":["prod-db"]');
    expect(d.plan(facts([[recoverStateFact, state({ restored: true, loaded: ['prod-db'] })]]))).toEqual([]);
  });
});
