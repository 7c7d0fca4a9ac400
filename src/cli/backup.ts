import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { loadInventory, selectHosts } from '../inventory/index.js';
import type { HostConfig, Inventory } from '../inventory/types.js';
import type { RunOptions } from '../engine/types.js';
import { connect } from '../transports/index.js';
import { BACKUP_SCRIPT, backupModel, UNIT } from '../backup/model.js';
import { prepareRole } from '../engine/role-input.js';
import { backupRole } from '../roles/backup.js';
import { backupVerdict, parseLastRun, parseSnapshots } from '../backup/snapshots.js';

const ABOUT = `scripts/backup.mjs: run a backup now on each selected host (the backup role's
systemd service: database dumps, one restic snapshot, retention), from the control machine.
  --check   no backup: exit 2 when the newest snapshot is older than backup.max_age_hours or the
            last backup run failed, 0 when fresh, 1 on error`;

const tail = (s: string, n = 1500) => redact(s.trim().slice(-n));

/** One host: run the service now, or judge the newest snapshot and the last run. */
async function backupHost(inventory: Inventory, host: HostConfig, options: RunOptions): Promise<{ code: 0 | 1 | 2; lines: string[] }> {
  const m = backupModel(inventory)!;
  const t = await connect(
    { ...host, ...(options.acceptNewHostKeys ? { hostKeyChecking: 'accept-new' as const } : {}) },
    { local: options.local },
  );
  try {
    const present = await t.exec(`test -x ${BACKUP_SCRIPT}`);
    if (present.exitCode !== 0)
      return { code: 1, lines: [`${BACKUP_SCRIPT} missing: run roles/backup.mjs (or scripts/provision.mjs) first`] };
    if (options.mode === 'check') {
      const [snaps, status] = await Promise.all([
        t.exec(`${BACKUP_SCRIPT} snapshots`, { timeoutMs: 120_000 }),
        t.exec(`${BACKUP_SCRIPT} status`),
      ]);
      const lastRun = parseLastRun(status.stdout);
      if (snaps.exitCode !== 0) {
        const v = backupVerdict([], lastRun, new Date(), m.config.max_age_hours);
        return { code: 2, lines: [`cannot list snapshots (exit ${snaps.exitCode}): ${tail(snaps.stderr, 400)}`, ...v.lines.slice(1)] };
      }
      const v = backupVerdict(parseSnapshots(snaps.stdout), lastRun, new Date(), m.config.max_age_hours);
      return { code: v.exitCode, lines: v.lines };
    }
    if (options.mode === 'dry-run')
      return {
        code: 0,
        lines: [
          `would run ${UNIT}.service: dump ${m.databases.map((d) => d.container).join(', ') || 'no database'}, snapshot ${m.dataRoot} to ${m.config.repository}`,
        ],
      };
    const t0 = Date.now();
    // Through systemd: the same environment as the timer, and never two runs at once.
    const run = await t.exec(`systemctl start ${UNIT}.service`, { timeoutMs: 3_600_000 });
    const status = parseLastRun((await t.exec(`${BACKUP_SCRIPT} status`)).stdout);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (run.exitCode !== 0 || !status?.ok) {
      const journal = await t.exec(`journalctl -u ${UNIT}.service -n 5 -o cat --no-pager`);
      return {
        code: 1,
        lines: [
          `BACKUP FAILED: systemctl start ${UNIT}.service exit ${run.exitCode}${status ? `, step "${status.step}" exit ${status.exit}` : ''} (${secs} s)`,
          ...tail(journal.stdout)
            .split('\n')
            .map((l) => `  ${l}`),
        ],
      };
    }
    return {
      code: 0,
      lines: [
        `snapshot ${status.snapshot ?? '?'} in ${m.config.repository} (${secs} s; dumps: ${m.databases.map((d) => d.container).join(', ') || 'none'})`,
      ],
    };
  } finally {
    await t.close().catch(() => undefined);
  }
}

export async function backupMain(scriptUrl: string): Promise<never> {
  try {
    const { options, help } = parseRunOptions(scriptArgs(scriptUrl));
    if (help) {
      process.stdout.write(`${ABOUT}\n\n${USAGE}\n`);
      process.exit(0);
    }
    const inventory = await loadInventory(options.inventoryPaths);
    if (!backupModel(inventory)) throw new UsageError('the inventory has no backup: section');
    await prepareRole(backupRole, inventory, options); // reads the secrets: registers the values for redaction
    const { hosts, skipped } = selectHosts(inventory, { limit: options.limit, local: options.local });
    for (const s of skipped) process.stderr.write(`skipping ${s.host}: ${s.reason}\n`);
    if (hosts.length === 0) process.stderr.write('no host selected\n');
    let exit: 0 | 1 | 2 = hosts.length === 0 && options.mode === 'check' ? 1 : 0;
    for (const host of hosts) {
      let r: { code: 0 | 1 | 2; lines: string[] };
      try {
        r = await backupHost(inventory, host, options);
      } catch (err) {
        r = { code: 1, lines: [redact(errorMessage(err))] };
      }
      const out = r.code === 0 ? process.stdout : process.stderr;
      for (const l of r.lines) out.write(`${host.name}: ${redact(l)}\n`);
      if (r.code === 1 || (r.code === 2 && exit === 0)) exit = r.code;
    }
    process.exit(exit);
  } catch (err) {
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${ABOUT}\n\n${USAGE}\n`);
    process.exit(1);
  }
}
