import { RefusedError } from '../engine/errors.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import type { Action, Change, FactSet, PlanContext, Resource, Role } from '../engine/types.js';
import type { Inventory } from '../inventory/types.js';
import { quote } from '../transports/quote.js';
import { backupStateFact, dataRootFact, RECOVER_STATE, type RecoverState, recoverStateFact } from './facts.js';
import { BACKUP_SCRIPT, type BackupModel, type DatabaseDump } from './model.js';
import { loadCommand } from './script.js';

/**
 * The steps of scripts/recover.mjs that are not ordinary roles, as facts and resources: the
 * preflight (refuse a data root holding files, or running databases), the snapshot restore, the
 * dump loads and the end of the recovery. Progress lives in a state file on the server (outside
 * the data root), so a recovery interrupted anywhere continues where it stopped.
 */

/** Writes the state file (its directory first): an exec action, so that it can follow a restore in one change. */
function writeState(state: RecoverState): string {
  return `install -d -m 0700 /var/lib/hostkit && umask 077 && printf '%s\\n' ${quote(JSON.stringify(state))} > ${RECOVER_STATE}.tmp && mv -f ${RECOVER_STATE}.tmp ${RECOVER_STATE}`;
}

/** Step 0: nothing is touched when the data root holds files (without --force) or a database runs. */
export interface PreflightSpec {
  model: BackupModel;
  /** Restore into a data root that holds files. */
  force: boolean;
}

export class RecoverPreflight extends BaseResource<PreflightSpec> {
  protected readonly kind = 'recover preflight';
  protected override identity() {
    return this.spec.model.dataRoot;
  }
  private readonly data;
  constructor(spec: PreflightSpec, options?: ResourceOptions) {
    super(spec, options);
    this.data = dataRootFact(
      spec.model.dataRoot,
      spec.model.databases.map((d) => d.container),
    );
  }
  private get m() {
    return this.spec.model;
  }
  facts() {
    return [recoverStateFact, this.data];
  }
  plan(facts: FactSet, ctx: PlanContext): Change[] {
    if (facts.get(recoverStateFact)) return [];
    const { found, running } = facts.get(this.data);
    if (found.length && !this.spec.force) {
      throw new Error(
        `${ctx.host.name}: REFUSED: the data root ${this.m.dataRoot} is not empty (e.g. ${found.join(', ')}); nothing was changed. Restore there anyway with --force`,
      );
    }
    if (running.length && ctx.mode !== 'dry-run') {
      throw new Error(
        `${ctx.host.name}: REFUSED: database containers are running (${running.join(', ')}): a restore never merges into a live database's files; nothing was changed`,
      );
    }
    return [];
  }
  notes(facts: FactSet): string[] {
    if (facts.get(recoverStateFact)) return [`continuing the recovery recorded in ${RECOVER_STATE}`];
    return [facts.get(this.data).found.length ? 'data root not empty: --force' : `data root ${this.m.dataRoot} empty or absent`];
  }
}

/** Step 3: the chosen snapshot restored into the data root (restic rewrites what differs: a re-run simply runs again). */
export interface RestoreSpec {
  model: BackupModel;
  /** A snapshot id (or its prefix); absent: the newest snapshot of this host. */
  snapshot?: string;
}

export class SnapshotRestore extends BaseResource<RestoreSpec> {
  protected readonly kind = 'snapshot restore into';
  protected override identity() {
    return this.spec.model.dataRoot;
  }
  private get m() {
    return this.spec.model;
  }
  facts() {
    return [recoverStateFact, backupStateFact];
  }
  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const state = facts.get(recoverStateFact);
    const w = this.spec.snapshot;
    if (state && w && !state.snapshot.startsWith(w) && !w.startsWith(state.snapshot)) {
      throw new RefusedError(
        ctx.host.name,
        'restore',
        `an earlier recovery of snapshot ${state.snapshot} is in progress (${RECOVER_STATE}); --snapshot ${w} differs`,
      );
    }
    if (state?.restored) return [];
    let snapshot = state?.snapshot;
    if (!snapshot) {
      const backup = facts.get(backupStateFact);
      if (!backup.installed) {
        // Only in --dry-run: step 2 installs the backup script before this step plans in apply.
        return [
          {
            summary: `restore ${w ?? 'the newest snapshot'} from ${this.m.config.repository} into ${this.m.dataRoot} (after step 2)`,
            actions: [],
          },
        ];
      }
      if (backup.listError) throw new Error(backup.listError);
      const snap = w ? backup.snapshots.find((s) => s.id.startsWith(w)) : backup.snapshots.at(-1);
      if (!snap) throw new Error(`${w ? `no snapshot ${w}` : 'no snapshot'} of this host in ${this.m.config.repository}`);
      snapshot = snap.id;
    }
    const label = w || state ? `snapshot ${snapshot.slice(0, 8)}` : `the newest snapshot (${snapshot.slice(0, 8)})`;
    return [
      {
        summary: `restore ${label} from ${this.m.config.repository} into ${this.m.dataRoot}`,
        actions: [
          {
            kind: 'exec',
            script: writeState({ snapshot, restored: false, loaded: state?.loaded ?? [] }),
            display: `record ${RECOVER_STATE}`,
          },
          { kind: 'exec', script: `${BACKUP_SCRIPT} restore ${quote(snapshot)} /` },
          {
            kind: 'exec',
            script: writeState({ snapshot, restored: true, loaded: state?.loaded ?? [] }),
            display: `record ${RECOVER_STATE}`,
          },
        ],
      },
    ];
  }
  notes(facts: FactSet): string[] {
    const state = facts.get(recoverStateFact);
    return state?.restored ? [`snapshot ${state.snapshot.slice(0, 8)} already restored (continuing)`] : [];
  }
}

/** Step 4: one database's dump loaded into its (healthy) container, recorded in the state file. */
export interface DumpLoadSpec {
  db: DatabaseDump;
  /** Containers loaded by the resources before this one (they ran first, or had nothing to do). */
  earlier: string[];
}

export class DumpLoad extends BaseResource<DumpLoadSpec> {
  protected readonly kind = 'dump load';
  protected override identity() {
    return this.spec.db.container;
  }
  facts() {
    return [recoverStateFact];
  }
  plan(facts: FactSet): Change[] {
    const state = facts.get(recoverStateFact);
    const { db, earlier } = this.spec;
    if (state?.loaded.includes(db.container)) return [];
    const load = `test -s ${quote(db.dumpFile)} && docker exec -i ${quote(db.container)} sh -c ${quote(loadCommand(db))} < ${quote(db.dumpFile)} >/dev/null`;
    const actions: Action[] = [{ kind: 'exec', script: load, display: `load ${db.dumpFile} into ${db.container}` }];
    if (state) {
      const loaded = [...new Set([...state.loaded, ...earlier, db.container])];
      actions.push({ kind: 'exec', script: writeState({ ...state, loaded }), display: `record ${RECOVER_STATE}` });
    }
    return [{ summary: `load ${db.dumpFile} into ${db.container}`, actions }];
  }
}

/** The end: the state file removed, so that a later recovery starts afresh. */
export class RecoverDone extends BaseResource<Record<string, never>> {
  protected readonly kind = 'recovery state';
  protected override identity() {
    return RECOVER_STATE;
  }
  facts() {
    return [recoverStateFact];
  }
  plan(facts: FactSet): Change[] {
    if (!facts.get(recoverStateFact)) return [];
    return [{ summary: `remove ${RECOVER_STATE} (recovery complete)`, actions: [{ kind: 'exec', script: `rm -f ${RECOVER_STATE}` }] }];
  }
}

const role = (name: string, description: string, resources: () => Resource[]): Role => ({
  name,
  description,
  build: () => ({ resources: resources() }),
});

export const preflightRole = (m: BackupModel, force: boolean) =>
  role('recover preflight', 'refuse a data root holding files or running databases', () => [new RecoverPreflight({ model: m, force })]);
export const restoreRole = (m: BackupModel, snapshot: string | undefined) =>
  role('restore', 'restore a snapshot into the data root', () => [new SnapshotRestore({ model: m, ...(snapshot ? { snapshot } : {}) })]);
export const dumpsRole = (m: BackupModel) =>
  role('dumps', 'load the database dumps', () =>
    m.databases.map((d, i) => new DumpLoad({ db: d, earlier: m.databases.slice(0, i).map((x) => x.container) })),
  );
export const recoverDoneRole = () => role('recover done', 'the recovery state removed', () => [new RecoverDone({})]);

/** The inventory reduced to the database services of every stack (started before anything else). */
export function databasesOnly(inventory: Inventory, m: BackupModel): Inventory {
  const stacks = Object.fromEntries(
    Object.entries(inventory.doc.stacks ?? {}).flatMap(([name, s]) => {
      const keep = m.databases.filter((d) => d.stack === name).map((d) => d.service);
      if (!keep.length) return [];
      return [[name, { ...s, services: Object.fromEntries(Object.entries(s.services).filter(([k]) => keep.includes(k))) }]];
    }),
  );
  const { npm: _npm, ...doc } = inventory.doc;
  return { ...inventory, doc: { ...doc, stacks } };
}
