import { BaseResource } from '../engine/resource.js';
import type { Change, FactSet, PlanContext, Role } from '../engine/types.js';
import { quote } from '../transports/quote.js';
import { backupStateFact } from './facts.js';
import { BACKUP_SCRIPT, type BackupModel, STATUS_FILE, UNIT } from './model.js';
import { backupVerdict } from './snapshots.js';

/**
 * scripts/backup.mjs as roles: "run a backup now" is a resource whose change is the systemd
 * service run, "is the newest snapshot fresh" is a fact plus an audit resource. The script
 * composes them with runPlaybook like every other script.
 */

const MISSING = `${BACKUP_SCRIPT} missing: run roles/backup.mjs (or scripts/provision.mjs) first`;

export interface FreshnessSpec {
  maxAgeHours: number;
  /** The time to judge against (ISO 8601); absent: the time of planning. */
  now?: string;
}

/** Audit: drift when the newest snapshot is older than max_age_hours, none exists, or the last run failed. */
export class BackupFreshness extends BaseResource<FreshnessSpec> {
  protected readonly kind = 'backup freshness';
  readonly audit = true;
  facts() {
    return [backupStateFact];
  }
  private verdict(facts: FactSet) {
    const s = facts.get(backupStateFact);
    if (!s.installed) throw new Error(MISSING);
    const now = this.spec.now ? new Date(this.spec.now) : new Date();
    const v = backupVerdict(s.snapshots, s.lastRun, now, this.spec.maxAgeHours);
    // A listing error is drift (the repository may be gone), with the last run's verdict below it.
    return s.listError ? { exitCode: 2 as const, lines: [s.listError, ...v.lines.slice(1)] } : v;
  }
  plan(facts: FactSet): Change[] {
    const v = this.verdict(facts);
    return v.exitCode === 0 ? [] : [{ summary: v.lines.join('; '), actions: [] }];
  }
  notes(facts: FactSet): string[] {
    return this.verdict(facts).lines;
  }
}

/** The backup service run now, through systemd: the timer's environment, never two runs at once. */
export class BackupRun extends BaseResource<BackupModel> {
  protected readonly kind = 'backup run';
  protected override identity() {
    return `(${UNIT}.service)`;
  }
  facts() {
    return [backupStateFact];
  }
  plan(facts: FactSet, _ctx: PlanContext): Change[] {
    if (!facts.get(backupStateFact).installed) throw new Error(MISSING);
    const m = this.spec;
    const dumps = m.databases.map((d) => d.container).join(', ') || 'no database';
    // On failure: the step the script recorded, and the journal's last lines, on stderr.
    const script = [
      `systemctl start ${UNIT}.service; rc=$?`,
      `st=$(sed -n 's/.*"ok":false.*"step":"\\([^"]*\\)","exit":\\([0-9]*\\).*/, step "\\1" exit \\2/p' ${quote(STATUS_FILE)} 2>/dev/null)`,
      `if [ "$rc" -ne 0 ] || [ -n "$st" ]; then`,
      `  echo "BACKUP FAILED: systemctl start ${UNIT}.service exit $rc$st" >&2`,
      `  journalctl -u ${UNIT}.service -n 5 -o cat --no-pager >&2; exit 1`,
      'fi',
    ].join('\n');
    return [
      {
        summary: `run ${UNIT}.service: dump ${dumps}, snapshot ${m.dataRoot} to ${m.config.repository}`,
        actions: [{ kind: 'exec', script, display: `systemctl start ${UNIT}.service` }],
      },
    ];
  }
}

/** `backup --check` (and the report after a run): the audit alone. */
export function backupStatusRole(m: BackupModel): Role {
  return {
    name: 'backup status',
    description: 'is the newest snapshot fresh and the last run ok',
    build: () => ({ resources: [new BackupFreshness({ maxAgeHours: m.config.max_age_hours })] }),
  };
}

export function backupRunRole(m: BackupModel): Role {
  return {
    name: 'backup now',
    description: `run ${UNIT}.service now`,
    build: () => ({ resources: [new BackupRun(m)] }),
  };
}
