import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { runPlaybook } from '../engine/run.js';
import { runRole } from '../engine/run-role.js';
import type { HostReport, Role, RunOptions } from '../engine/types.js';
import { loadInventory, selectHosts } from '../inventory/index.js';
import type { Inventory } from '../inventory/types.js';
import { ConsoleReporter } from '../report/console.js';
import { connect } from '../transports/index.js';
import type { Transport } from '../transports/types.js';
import { quote } from '../transports/quote.js';
import {
  baseRole,
  dataRole,
  dockerRole,
  fail2banRole,
  firewallRole,
  hardeningRole,
  networksRole,
  ROLES,
  sshRole,
  stacksRole,
} from '../roles/index.js';
import { backupRole } from '../roles/backup.js';
import { BACKUP_SCRIPT, backupModel, type BackupModel } from '../backup/model.js';
import { loadCommand } from '../backup/script.js';
import { loadBackupSecrets } from '../backup/secrets.js';
import { parseSnapshots } from '../backup/snapshots.js';

const ABOUT = `scripts/recover.mjs: disaster recovery of ONE bare server (name it with --limit) from its restic
backups: base, ssh, firewall, fail2ban, docker, data layout; restore a snapshot into the EMPTY data
root; start the databases first and load their dumps; bring the stacks up in layer order with
health gates; connect NPM; run the full audit. Re-running after an interruption continues.
  --snapshot ID   restore this snapshot (default: the newest of this host)
  --force         restore into a data root that already holds files (never while a database runs)
  --dry-run       show the whole plan, change nothing`;

/** Progress on the server (outside the data root): which snapshot, what is done. */
const STATE = '/var/lib/hostkit/recover.json';
interface RecoverState {
  snapshot: string;
  restored: boolean;
  loaded: string[];
}

class StepFailed extends Error {}

interface StepRow {
  step: string;
  seconds: number;
  result: string;
}

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

async function exec(t: Transport, step: string, script: string, timeoutMs = 3_600_000): Promise<string> {
  const r = await t.exec(script, { timeoutMs });
  if (r.exitCode !== 0) {
    throw new StepFailed(
      `${t.host}: step "${step}": \`${redact(script.split('\n')[0]!.slice(0, 120))}\` exit ${r.exitCode}: ${redact(r.stderr.trim().slice(-1500))}`,
    );
  }
  return r.stdout;
}

export async function recoverMain(scriptUrl: string): Promise<never> {
  const rows: StepRow[] = [];
  const t0 = Date.now();
  const table = () => {
    const w = Math.max(...rows.map((r) => r.step.length), 4);
    process.stdout.write(`\n${'step'.padEnd(w)}  seconds  result\n`);
    for (const r of rows) process.stdout.write(`${r.step.padEnd(w)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.result}\n`);
    process.stdout.write(`recovery time: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  const step = async (name: string, fn: () => Promise<string>) => {
    const s = Date.now();
    process.stdout.write(`\n### ${name}\n`);
    try {
      const result = await fn();
      rows.push({ step: name, seconds: (Date.now() - s) / 1000, result });
    } catch (err) {
      rows.push({ step: name, seconds: (Date.now() - s) / 1000, result: `FAILED` });
      throw err;
    }
  };
  try {
    const { options, values, help } = parseRunOptions(scriptArgs(scriptUrl), { snapshot: { type: 'string' }, force: { type: 'boolean' } });
    if (help) {
      process.stdout.write(`${ABOUT}\n\n${USAGE}\n`);
      process.exit(0);
    }
    if (options.mode === 'check') throw new UsageError('recover has no --check: use --dry-run, or scripts/audit.mjs');
    const inventory = await loadInventory(options.inventoryPaths);
    const m = backupModel(inventory);
    if (!m) throw new UsageError('the inventory has no backup: section: nothing to recover from');
    await loadBackupSecrets(inventory, options);
    const { hosts } = selectHosts(inventory, { limit: options.limit, local: options.local });
    if (hosts.length !== 1) throw new UsageError(`recover one server at a time: ${hosts.length} selected; name it with --limit`);
    const host = hosts[0]!;
    const dry = options.mode === 'dry-run';
    const play = async (roles: Role[], o: Partial<RunOptions> = {}) => {
      const r = await runPlaybook(roles, { ...options, ...o });
      if (r.exitCode === 1) throw new StepFailed(`${host.name}: roles ${roles.map((x) => x.name).join(', ')} failed (see above)`);
      return `${r.reports.flatMap((h) => h.resources).filter((x) => x.status === 'changed' || x.status === 'would-change').length} ${dry ? 'to change' : 'changed'}`;
    };

    // Preflight, before anything is touched: a data root holding files is refused (directories,
    // as the data role makes them, are fine), and never while a database container runs.
    await step('0 preflight', async () => {
      const t = await connect(host, { local: options.local });
      try {
        if ((await t.exec(`test -s ${STATE}`)).exitCode === 0) return `continuing the recovery recorded in ${STATE}`;
        const found = (await t.exec(`find ${quote(m.dataRoot)} -mindepth 1 ! -type d 2>/dev/null | head -n 3`)).stdout.trim();
        if (found && !values.force) {
          throw new StepFailed(
            `${host.name}: REFUSED: the data root ${m.dataRoot} is not empty (e.g. ${found.split('\n').join(', ')}); nothing was changed. Restore there anyway with --force`,
          );
        }
        const running = (
          await t.exec(`command -v docker >/dev/null && docker ps -q ${m.databases.map((d) => `--filter name=^${d.container}$`).join(' ')}`)
        ).stdout.trim();
        if (running && !dry)
          throw new StepFailed(
            `${host.name}: REFUSED: database containers are running (${m.databases.map((d) => d.container).join(', ')}): a restore never merges into a live database's files; nothing was changed`,
          );
        return found ? `data root not empty: --force` : `data root ${m.dataRoot} empty or absent`;
      } finally {
        await t.close().catch(() => undefined);
      }
    });
    await step('1 base, ssh, firewall, fail2ban, hardening, docker, data layout', () =>
      play([baseRole, sshRole, firewallRole, fail2banRole, hardeningRole, dockerRole, dataRole]),
    );
    await step('2 backup tooling (restic, key, repository access)', () => play([backupRole]));

    const t = await connect(host, { local: options.local });
    try {
      let state: RecoverState | undefined;
      await step('3 restore snapshot into the data root', async () => {
        const stateText = (await t.exec(`cat ${STATE} 2>/dev/null`)).stdout.trim();
        state = stateText ? (JSON.parse(stateText) as RecoverState) : undefined;
        const wanted = values.snapshot as string | undefined;
        if (state && wanted && !state.snapshot.startsWith(wanted) && !wanted.startsWith(state.snapshot)) {
          throw new StepFailed(
            `${host.name}: an earlier recovery of snapshot ${state.snapshot} is in progress (${STATE}); --snapshot ${wanted} differs`,
          );
        }
        if (state?.restored) return `snapshot ${state.snapshot} already restored (continuing)`;
        if (dry) {
          const installed = (await t.exec(`test -x ${BACKUP_SCRIPT}`)).exitCode === 0;
          return `would restore ${wanted ?? 'the newest snapshot'} from ${m.config.repository} into ${m.dataRoot}${installed ? '' : ' (after step 2)'}`;
        }
        if (!state) {
          const snaps = parseSnapshots(await exec(t, 'list snapshots', `${BACKUP_SCRIPT} snapshots`));
          const snap = wanted ? snaps.find((s) => s.id.startsWith(wanted)) : snaps.at(-1);
          if (!snap)
            throw new StepFailed(
              `${host.name}: ${wanted ? `no snapshot ${wanted}` : 'no snapshot'} of this host in ${m.config.repository}`,
            );
          state = { snapshot: snap.id, restored: false, loaded: [] };
          await exec(t, 'state dir', 'mkdir -p /var/lib/hostkit');
          await t.writeFile(STATE, JSON.stringify(state) + '\n', { mode: '0600' });
        }
        // restic restore rewrites what differs: an interrupted restore simply runs again.
        await exec(t, 'restore', `${BACKUP_SCRIPT} restore ${quote(state.snapshot)} /`);
        state = { ...state, restored: true };
        await t.writeFile(STATE, JSON.stringify(state) + '\n', { mode: '0600' });
        return `snapshot ${state.snapshot.slice(0, 8)} restored`;
      });

      await step('4 databases up (healthy) and dumps loaded', async () => {
        // Done before (a re-run after an interruption in step 5): a databases-only compose run
        // now would treat the other containers of those stacks as orphans.
        if (state && m.databases.every((d) => state!.loaded.includes(d.container))) return 'dumps already loaded (continuing)';
        const dbInv = databasesOnly(inventory, m);
        await stacksRole.prepare?.(dbInv, options);
        const human = new ConsoleReporter(process.stdout, { mode: options.mode, diff: false });
        human.roleStart(host.name, 'stacks (databases only)');
        const rep: HostReport = await runRole(t, stacksRole, dbInv, host, {
          mode: options.mode,
          onResource: (r) => human.resource(r),
          reconnect: () => connect(host, { local: options.local }),
        });
        human.hostDone(rep);
        if (rep.error || rep.resources.some((r) => r.status === 'failed'))
          throw new StepFailed(`${host.name}: database containers did not come up healthy: ${redact(rep.error ?? '')}`);
        if (dry) return `would load ${m.databases.map((d) => d.dumpFile).join(', ')}`;
        const loaded: string[] = [];
        for (const db of m.databases) {
          if (state!.loaded.includes(db.container)) continue;
          await exec(
            t,
            `load dump into ${db.container}`,
            `test -s ${quote(db.dumpFile)} && docker exec -i ${quote(db.container)} sh -c ${quote(loadCommand(db))} < ${quote(db.dumpFile)} >/dev/null`,
          );
          state = { ...state!, loaded: [...state!.loaded, db.container] };
          await t.writeFile(STATE, JSON.stringify(state) + '\n', { mode: '0600' });
          loaded.push(db.container);
        }
        return `loaded: ${loaded.join(', ') || 'already loaded'}`;
      });
    } finally {
      await t.close().catch(() => undefined);
    }

    await step('5 stacks in layer order (health gates), NPM connected', () => play([stacksRole, networksRole]));
    let auditExit = 0;
    await step('6 full audit (--check)', async () => {
      if (dry) return 'skipped in --dry-run';
      auditExit = (await runPlaybook([...ROLES], { ...options, mode: 'check' })).exitCode;
      return auditExit === 0 ? 'clean (exit 0)' : `exit ${auditExit}`;
    });
    if (!dry && auditExit === 0) {
      const t2 = await connect(host, { local: options.local });
      await t2.exec(`rm -f ${STATE}`).finally(() => t2.close()); // done: a later recovery starts afresh
    }
    table();
    process.exit(auditExit === 0 ? 0 : auditExit === 2 ? 2 : 1);
  } catch (err) {
    if (rows.length) table();
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${ABOUT}\n\n${USAGE}\n`);
    process.exit(1);
  }
}
