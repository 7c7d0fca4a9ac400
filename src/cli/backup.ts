import { parseRunOptions, scriptArgs, USAGE, UsageError } from './options.js';
import { errorMessage } from '../engine/errors.js';
import { redact } from '../engine/redact.js';
import { fanOut, type Reporter, type RunEvent } from '../engine/events.js';
import { playbookOptions, runPlaybook } from '../engine/run.js';
import { backupModel } from '../backup/model.js';
import { prepareRole } from '../engine/role-input.js';
import { backupRole } from '../roles/backup.js';
import { backupRunRole, backupStatusRole } from '../backup/check.js';
import { JsonReporter } from '../report/json.js';
import { JunitReporter } from '../report/junit.js';
import { interruptText } from '../report/console.js';
import { loadTargets, reportFailure } from './session.js';
import { interruptOnSignals } from './signals.js';

const ABOUT = `scripts/backup.mjs: run a backup now on each selected host (the backup role's
systemd service: database dumps, one restic snapshot, retention), from the control machine.
  --check   no backup: exit 2 when the newest snapshot is older than backup.max_age_hours or the
            last backup run failed, 0 when fresh, 1 on error`;

/** "host: line" per verdict line: stdout when fine, stderr for drift and errors (cron mails those). */
class BackupLines implements Reporter {
  constructor(private readonly io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }) {}
  on(e: RunEvent): void {
    if (e.type === 'notice') this.io.err.write(`${e.message}\n`);
    if (e.type === 'interrupt') this.io.err.write(`interrupted (${e.signal}): ${interruptText(e.running, e.graceSeconds)}\n`);
    if (e.type === 'resource-done') {
      const r = e.report;
      const bad = r.status === 'failed' || r.status === 'would-change';
      const out = bad ? this.io.err : this.io.out;
      const lines =
        r.status === 'failed'
          ? [r.error ?? 'failed']
          : [...(r.notes ?? []), ...(r.status === 'changed' ? [`${r.id}: done (${(r.durationMs / 1000).toFixed(1)} s)`] : [])];
      if (r.status === 'would-change' && e.role === 'backup now') lines.push(`would ${r.changes[0]?.summary ?? ''}`);
      for (const l of lines) out.write(`${e.host}: ${l}\n`);
    }
    if (e.type === 'role-done' && e.report.error && !e.report.resources.some((r) => r.status === 'failed')) {
      this.io.err.write(`${e.report.host}: ${e.report.error}\n`);
    }
  }
}

export async function backupMain(scriptUrl: string): Promise<never> {
  let reporter: Reporter | undefined;
  try {
    const { options, help } = parseRunOptions(scriptArgs(scriptUrl));
    if (help) {
      process.stdout.write(`${ABOUT}\n\n${USAGE}\n`);
      process.exit(0);
    }
    const io = { out: options.json ? process.stderr : process.stdout, err: process.stderr };
    const interrupt = interruptOnSignals(
      fanOut([
        new BackupLines(io),
        ...(options.json ? [new JsonReporter(process.stdout, options.mode)] : []),
        ...(options.junitFile ? [new JunitReporter(options.junitFile, options.mode)] : []),
      ]),
    );
    reporter = interrupt.reporter;
    const { inventory, hosts, skipped } = await loadTargets(options);
    const m = backupModel(inventory);
    if (!m) throw new UsageError('the inventory has no backup: section');
    await prepareRole(backupRole, inventory, options); // reads the secrets: registers the values for redaction
    // A run (apply) is followed by the status audit on the same connection: its lines name the new snapshot.
    const roles =
      options.mode === 'apply'
        ? [backupRunRole(m), backupStatusRole(m)]
        : options.mode === 'check'
          ? [backupStatusRole(m)]
          : [backupRunRole(m)];
    const result = await runPlaybook(inventory, roles, {
      ...playbookOptions(options),
      hosts,
      skipped,
      reporter,
      signal: interrupt.signal,
      commandTimeoutMs: 3_600_000, // a backup of a large data root takes its time
    });
    await reporter.close?.();
    process.exit(result.exitCode);
  } catch (err) {
    if (reporter) await reportFailure(reporter, err);
    process.stderr.write(`error: ${redact(errorMessage(err))}\n`);
    if (err instanceof UsageError) process.stderr.write(`\n${ABOUT}\n\n${USAGE}\n`);
    process.exit(1);
  }
}
