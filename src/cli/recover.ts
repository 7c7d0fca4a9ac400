import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { playbookOptions, runPlaybook, type RunResult } from '../engine/run.js';
import type { Mode, Role } from '../engine/types.js';
import type { Inventory } from '../inventory/types.js';
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
import { backupModel } from '../backup/model.js';
import { prepareRole } from '../engine/role-input.js';
import { databasesOnly, dumpsRole, preflightRole, recoverDoneRole, restoreRole } from '../backup/recover.js';
import { cliReporter, loadTargets } from './session.js';
import { interruptOnSignals } from './signals.js';
import type { Reporter } from '../engine/events.js';
import { acquireHostLock, currentHolder } from '../engine/lock.js';
import { openTransport } from '../transports/connect.js';
import type { Held, Transport } from '../transports/types.js';

export { databasesOnly };

const ABOUT = `scripts/recover.mjs: disaster recovery of ONE bare server (name it with --limit) from its restic
backups: base, ssh, firewall, fail2ban, hardening, docker, data layout; restore a snapshot into the EMPTY data
root; start the databases first and load their dumps; bring the stacks up in layer order with
health gates; connect NPM; run the full audit. Re-running after an interruption continues.
  --snapshot ID   restore this snapshot (default: the newest of this host)
  --force         restore into a data root that already holds files (never while a database runs)
  --dry-run       show the whole plan, change nothing`;

interface StepRow {
  step: string;
  seconds: number;
  result: string;
}

class StepFailed extends Error {}
class Interrupted extends Error {}

/** The first error of a run, for the step's failure message (the console showed the details). */
function firstError(r: RunResult): string | undefined {
  for (const h of r.reports) {
    const failed = h.resources.find((x) => x.status === 'failed');
    if (failed?.error) return failed.error;
    if (h.error) return h.error;
  }
  return undefined;
}

const changedCount = (r: RunResult) =>
  r.reports.flatMap((h) => h.resources).filter((x) => x.status === 'changed' || x.status === 'would-change').length;

/**
 * Disaster recovery as a composition of playbooks on ONE host, every step through runPlaybook
 * and so through the same transports (every connection option honoured), reporters and errors.
 */
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
      rows.push({ step: name, seconds: (Date.now() - s) / 1000, result: 'FAILED' });
      throw err;
    }
  };
  // One interrupt for every playbook of the recovery; the events go to the current step's console.
  let current: Reporter | undefined;
  const interrupt = interruptOnSignals({ on: (e) => current?.on(e) });
  let lockConnection: Transport | undefined;
  let lock: Held | undefined;
  const unlock = async () => {
    await lock?.release().catch(() => undefined);
    await lockConnection?.close().catch(() => undefined);
  };
  try {
    const { options, values, help } = parseRunOptions(scriptArgs(scriptUrl), { snapshot: { type: 'string' }, force: { type: 'boolean' } });
    if (help) {
      process.stdout.write(`${ABOUT}\n\n${USAGE}\n`);
      process.exit(0);
    }
    if (options.mode === 'check') throw new UsageError('recover has no --check: use --dry-run, or scripts/audit.mjs');
    const { inventory, hosts } = await loadTargets(options);
    const m = backupModel(inventory);
    if (!m) throw new UsageError('the inventory has no backup: section: nothing to recover from');
    await prepareRole(backupRole, inventory, options); // the secrets are read (and redacted) before any host
    if (hosts.length !== 1) throw new UsageError(`recover one server at a time: ${hosts.length} selected; name it with --limit`);
    const host = hosts[0]!;
    const dry = options.mode === 'dry-run';
    if (!dry) {
      // One host lock for the whole recovery, on a connection of its own that lives as long as
      // the run: the steps are separate playbooks, and no other apply may slip in between them.
      lockConnection = await openTransport(host, playbookOptions(options));
      lock = await acquireHostLock(lockConnection, currentHolder());
    }
    /** One playbook on the host; a failure stops the recovery with the first error. */
    const play = async (
      name: string,
      roles: Role[],
      o: { mode?: Mode; inventory?: Inventory; failOnError?: boolean; quiet?: boolean } = {},
    ) => {
      const mode = o.mode ?? options.mode;
      const reporter = cliReporter({ ...options, mode, json: false, junitFile: undefined });
      current = o.quiet ? undefined : reporter;
      const r = await runPlaybook(o.inventory ?? inventory, roles, {
        ...playbookOptions(options),
        mode,
        hosts: [host],
        reporter: interrupt.reporter,
        signal: interrupt.signal,
        lock: dry ? 'auto' : 'held',
        commandTimeoutMs: 3_600_000, // a restore or a dump load of a large data root takes its time
      });
      await reporter.close?.();
      current = undefined;
      if (r.exitCode === 130) throw new Interrupted(`${host.name}: interrupted in step "${name}": re-run to continue`);
      if (r.exitCode === 1 && o.failOnError !== false) {
        throw new StepFailed(`${host.name}: step "${name}" failed: ${firstError(r) ?? `roles ${roles.map((x) => x.name).join(', ')}`}`);
      }
      return r;
    };
    const counted = async (name: string, roles: Role[]) => `${changedCount(await play(name, roles))} ${dry ? 'to change' : 'changed'}`;
    const notesOf = (r: RunResult) => r.reports.flatMap((h) => h.resources.flatMap((x) => x.notes ?? []));

    // Preflight, before anything is touched: a data root holding files is refused (directories,
    // as the data role makes them, are fine), and never while a database container runs.
    await step('0 preflight', async () => notesOf(await play('0 preflight', [preflightRole(m, Boolean(values.force))])).join('; '));
    await step('1 base, ssh, firewall, fail2ban, hardening, docker, data layout', () =>
      counted('1 base, ssh, firewall, fail2ban, hardening, docker, data layout', [
        baseRole,
        sshRole,
        firewallRole,
        fail2banRole,
        hardeningRole,
        dockerRole,
        dataRole,
      ]),
    );
    await step('2 backup tooling (restic, key, repository access)', () => counted('2 backup tooling', [backupRole]));
    // The snapshot brings back the old server's owners and modes: the declared layout is declared
    // state, not data, so the data role runs again right after the restore.
    await step('3 restore snapshot into the data root, data layout re-asserted', async () => {
      const r = await play('3 restore', [restoreRole(m, values.snapshot as string | undefined), dataRole]);
      const restore = r.reports.find((h) => h.role === 'restore')?.resources[0];
      const layout = r.reports.find((h) => h.role === 'data')?.resources.filter((x) => x.status !== 'ok').length ?? 0;
      const what =
        restore?.status === 'ok'
          ? (restore.notes?.[0] ?? 'nothing to restore')
          : `${dry ? 'would ' : ''}${restore?.changes[0]?.summary ?? 'restore'}${dry ? '' : ': done'}`;
      return `${what}; data layout: ${layout} ${dry ? 'to correct' : 'corrected'}`;
    });

    await step('4 databases up (healthy) and dumps loaded', async () => {
      if (!m.databases.length) return 'no database in backup.databases: no dump to load';
      // Done before (a re-run after an interruption in step 5): a databases-only compose run
      // now would treat the other containers of those stacks as orphans.
      if (!dry && (await play('4 dumps', [dumpsRole(m)], { mode: 'check', failOnError: false, quiet: true })).exitCode === 0) {
        return 'dumps already loaded (continuing)';
      }
      await play('4 databases up', [stacksRole], { inventory: databasesOnly(inventory, m) });
      const r = await play('4 dumps', [dumpsRole(m)]);
      const loaded = r.reports.flatMap((h) => h.resources).filter((x) => x.status !== 'ok');
      if (dry) return `would load ${m.databases.map((d) => d.dumpFile).join(', ')}`;
      return `loaded: ${loaded.map((x) => x.id.replace(/^dump load /, '')).join(', ') || 'already loaded'}`;
    });

    await step('5 stacks in layer order (health gates), NPM connected', () => counted('5 stacks', [stacksRole, networksRole]));
    let auditExit = 0;
    await step('6 full audit (--check)', async () => {
      if (dry) return 'skipped in --dry-run';
      auditExit = (await play('6 audit', [...ROLES], { mode: 'check', failOnError: false })).exitCode;
      return auditExit === 0 ? 'clean (exit 0)' : `exit ${auditExit}`;
    });
    if (!dry && auditExit === 0) await play('done', [recoverDoneRole()]); // a later recovery starts afresh
    table();
    await unlock();
    process.exit(auditExit === 0 ? 0 : auditExit === 2 ? 2 : 1);
  } catch (err) {
    if (rows.length) table();
    await unlock();
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${ABOUT}\n\n${USAGE}\n`);
    process.exit(err instanceof Interrupted ? 130 : 1);
  }
}
