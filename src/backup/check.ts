import type { Change, Fact, FactSet, PlanContext, Resource, Role } from '../engine/types.js';
import { quote } from '../transports/quote.js';
import { BACKUP_SCRIPT, STATUS_FILE, UNIT, type BackupModel } from './model.js';
import { backupVerdict, parseLastRun, parseSnapshots, type LastRun, type Snapshot } from './snapshots.js';

/**
 * scripts/backup.mjs as roles: "run a backup now" is a resource whose change is the systemd
 * service run, "is the newest snapshot fresh" is a fact plus an audit resource. The script
 * composes them with runPlaybook like every other script.
 */

const MARK = 'hostkit-backup-fact:';

/** What the server says about its backups: installed?, the snapshots of this host, the last run. */
export interface BackupState {
  installed: boolean;
  snapshots: Snapshot[];
  /** Set when the repository could not be listed. */
  listError?: string;
  lastRun?: LastRun;
}

/** One probe: the script's presence, `status` (the last run) and `snapshots` (JSON, its exit code and stderr tail). */
export const backupStateFact: Fact<BackupState> = {
  key: 'backup:state',
  command: [
    `if [ ! -x ${BACKUP_SCRIPT} ]; then echo '${MARK} absent'; exit 0; fi`,
    // The status first: a failing `snapshots` records itself as the last run.
    `st=$(${BACKUP_SCRIPT} status)`,
    `err=$(mktemp); out=$(${BACKUP_SCRIPT} snapshots 2>"$err"); rc=$?`,
    `printf '%s snapshots %s\\n%s\\n%s stderr\\n' '${MARK}' "$rc" "$out" '${MARK}'; tail -c 400 "$err"; rm -f "$err"`,
    `printf '\\n%s status\\n%s\\n' '${MARK}' "$st"`,
  ].join('\n'),
  parse: ({ stdout }) => parseBackupState(stdout),
};

export function parseBackupState(stdout: string): BackupState {
  if (stdout.startsWith(`${MARK} absent`)) return { installed: false, snapshots: [] };
  const section = (name: string) => {
    const start = stdout.indexOf(`${MARK} ${name}`);
    if (start < 0) throw new Error(`backup state probe: no "${name}" section`);
    const body = stdout.slice(stdout.indexOf('\n', start) + 1);
    const end = body.indexOf(MARK);
    return { head: stdout.slice(start, stdout.indexOf('\n', start)), body: end < 0 ? body : body.slice(0, end) };
  };
  const snaps = section('snapshots');
  const rc = Number(snaps.head.split(' ').at(-1));
  const lastRun = parseLastRun(section('status').body);
  const base = { installed: true, ...(lastRun ? { lastRun } : {}) };
  if (rc !== 0) return { ...base, snapshots: [], listError: `cannot list snapshots (exit ${rc}): ${section('stderr').body.trim()}` };
  return { ...base, snapshots: parseSnapshots(snaps.body) };
}

const MISSING = `${BACKUP_SCRIPT} missing: run roles/backup.mjs (or scripts/provision.mjs) first`;

/** Audit: drift when the newest snapshot is older than max_age_hours, none exists, or the last run failed. */
export class BackupFreshness implements Resource {
  readonly id = 'backup freshness';
  readonly audit = true;
  constructor(
    private readonly maxAgeHours: number,
    private readonly now: () => Date = () => new Date(),
  ) {}
  facts() {
    return [backupStateFact];
  }
  private verdict(facts: FactSet) {
    const s = facts.get(backupStateFact);
    if (!s.installed) throw new Error(MISSING);
    const v = backupVerdict(s.snapshots, s.lastRun, this.now(), this.maxAgeHours);
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
export class BackupRun implements Resource {
  readonly id = `backup run (${UNIT}.service)`;
  constructor(private readonly m: BackupModel) {}
  facts() {
    return [backupStateFact];
  }
  plan(facts: FactSet, _ctx: PlanContext): Change[] {
    if (!facts.get(backupStateFact).installed) throw new Error(MISSING);
    const dumps = this.m.databases.map((d) => d.container).join(', ') || 'no database';
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
        summary: `run ${UNIT}.service: dump ${dumps}, snapshot ${this.m.dataRoot} to ${this.m.config.repository}`,
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
    build: () => ({ resources: [new BackupFreshness(m.config.max_age_hours)] }),
  };
}

export function backupRunRole(m: BackupModel): Role {
  return {
    name: 'backup now',
    description: `run ${UNIT}.service now`,
    build: () => ({ resources: [new BackupRun(m)] }),
  };
}
