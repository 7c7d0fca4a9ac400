import { unitValue } from '../formats.js';
import { quote } from '../transports/quote.js';
import { BACKUP_DIR, STATUS_FILE, UNIT, type BackupModel, type DatabaseDump } from './model.js';

/**
 * The files the backup role writes on the server: the backup program (bash, its configuration
 * baked in by the inventory), restic's environment and the systemd units. No secret value is
 * in any of them: the password and the ssh key are separate 0600 files.
 */

/** Dump command run inside the container (credentials from ITS environment, never argv). */
export function dumpCommand(db: DatabaseDump): string {
  if (db.engine === 'postgres') {
    // --clean --if-exists: the dump replays onto a freshly initialised cluster (roles/db exist).
    return 'exec pg_dumpall -U "${POSTGRES_USER:-postgres}" --clean --if-exists';
  }
  return 'MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}" exec mariadb-dump -uroot --all-databases --single-transaction --routines --events';
}

/** Loading a dump into the (fresh, healthy) container: stdin is the dump file. */
export function loadCommand(db: DatabaseDump): string {
  if (db.engine === 'postgres') return 'exec psql -q -v ON_ERROR_STOP=0 -U "${POSTGRES_USER:-postgres}" -d postgres';
  return 'MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}" exec mariadb -uroot';
}

export function sftpCommand(m: BackupModel): string | undefined {
  if (!m.sftp) return undefined;
  const key = m.config.ssh_key_secret ? `-i ${BACKUP_DIR}/ssh_key -o IdentitiesOnly=yes ` : '';
  return `ssh ${key}-o UserKnownHostsFile=${BACKUP_DIR}/known_hosts -o StrictHostKeyChecking=accept-new -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -p ${m.sftp.port} ${m.sftp.target} -s sftp`;
}

/** Sourced by the script (`set -a; . env`): every value goes through the one shell quoting. */
export function envFile(m: BackupModel): string {
  const lines = [
    '# hostkit: restic environment (no secret values: the password is a file)',
    `RESTIC_REPOSITORY=${quote(m.config.repository)}`,
    `RESTIC_PASSWORD_FILE=${BACKUP_DIR}/password`,
    'RESTIC_CACHE_DIR=/var/cache/restic',
  ];
  if (m.config.s3_access_key_secret) lines.push(`AWS_SHARED_CREDENTIALS_FILE=${BACKUP_DIR}/s3-credentials`);
  return lines.join('\n') + '\n';
}

export function backupScript(m: BackupModel, hostName: string): string {
  const sftp = sftpCommand(m);
  const r = m.config.retention;
  const dumps = m.databases
    .map((d) =>
      [
        `  step="dump ${d.container}"`,
        `  mkdir -p ${quote(d.dumpFile.replace(/\/[^/]+$/, ''))}`,
        `  docker exec ${quote(d.container)} sh -c ${quote(dumpCommand(d))} >${quote(d.dumpFile + '.tmp')} 2>"$err" || fail $?`,
        `  chmod 600 ${quote(d.dumpFile + '.tmp')} && mv -f ${quote(d.dumpFile + '.tmp')} ${quote(d.dumpFile)}`,
      ].join('\n'),
    )
    .join('\n');
  // No inventory value is ever interpolated into a comment: values appear only quoted, in code.
  return `#!/bin/bash
# hostkit-backup (written by the hostkit backup role; do not edit): consistent database dumps,
# then ONE restic snapshot of the data root tagged host/stack/date, then retention.
#   hostkit-backup [run] | check | snapshots | restore SNAPSHOT DIR | status | restic ARGS...
set -uo pipefail
# Dumps and temp files are readable by root only, also while they are being written.
umask 077
set -a; . ${BACKUP_DIR}/env; set +a
host=${quote(hostName)}
restic_() { restic ${sftp ? `-o ${quote(`sftp.command=${sftp}`)} ` : ''}"$@"; }
status=${STATUS_FILE}
err=$(mktemp); trap 'rm -f "$err"' EXIT
record() { mkdir -p "$(dirname "$status")"; printf '%s\\n' "$1" >"$status.tmp" && mv -f "$status.tmp" "$status"; }
# A query (snapshots, used by --check next to "status") never overwrites the last run's status.
query=0
fail() {
  local rc=$1
  [ "$query" = 1 ] || record "{\\"ok\\":false,\\"finished\\":$(date +%s),\\"step\\":\\"$step\\",\\"exit\\":$rc}"
  echo "hostkit-backup on $host: step \\"$step\\" failed (exit $rc): $(tail -c 2000 "$err")" >&2
  exit 1
}
ensure_repo() {
  step="open repository"
  restic_ cat config >/dev/null 2>"$err"; local rc=$?
  if [ "$rc" -eq 10 ]; then step="init repository"; restic_ init >/dev/null 2>"$err" || fail $?; elif [ "$rc" -ne 0 ]; then fail "$rc"; fi
}
case "\${1:-run}" in
run)
${dumps || '  :'}
  ensure_repo
  step="snapshot"
  out=$(restic_ backup --json --host ${quote(hostName)} --tag ${quote(`host:${hostName}`)} ${m.stacks.map((s) => `--tag ${quote(`stack:${s}`)}`).join(' ')} --tag "date:$(date -u +%F)" ${m.excludes.map((e) => `--exclude ${quote(e)}`).join(' ')} ${quote(m.dataRoot)} 2>"$err") || fail $?
  snap=$(printf '%s\\n' "$out" | sed -n 's/.*"snapshot_id":"\\([0-9a-f]*\\)".*/\\1/p' | tail -n1)
  step="retention"
  restic_ forget --prune --host ${quote(hostName)} --keep-daily ${r.keep_daily} --keep-weekly ${r.keep_weekly} --keep-monthly ${r.keep_monthly} >/dev/null 2>"$err" || fail $?
  record "{\\"ok\\":true,\\"finished\\":$(date +%s),\\"step\\":\\"done\\",\\"exit\\":0,\\"snapshot\\":\\"$snap\\"}"
  echo "hostkit-backup on $host: snapshot $snap"
  ;;
check) step="check"; restic_ check 2>"$err" || fail $? ;;
snapshots) query=1; step="snapshots"; restic_ snapshots --json --host ${quote(hostName)} 2>"$err" || fail $? ;;
restore) step="restore"
  # One restore at a time: a re-run after an interruption waits for an orphaned restic first.
  exec 9>/run/lock/hostkit-backup-restore.lock; flock 9
  restic_ restore "$2" --target "$3" 2>"$err" || fail $? ;;
status) cat "$status" 2>/dev/null || true ;;
restic) shift; restic_ "$@" ;;
*) echo "usage: hostkit-backup [run|check|snapshots|restore SNAPSHOT DIR|status]" >&2; exit 64 ;;
esac
`;
}

export function serviceUnit(what: 'run' | 'check'): string {
  const desc = what === 'run' ? 'hostkit backup: database dumps + restic snapshot + retention' : 'hostkit backup: restic check';
  return `[Unit]
Description=${desc}
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/hostkit-backup ${what}
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;
}

export function timerUnit(what: 'run' | 'check', onCalendar: string): string {
  return `[Unit]
Description=hostkit backup timer (${what})

[Timer]
OnCalendar=${unitValue(`backup ${what === 'run' ? 'schedule' : 'check_schedule'}`, onCalendar)}
Persistent=true
RandomizedDelaySec=${what === 'run' ? '10m' : '1h'}

[Install]
WantedBy=timers.target
`;
}

export const unitNames = { run: UNIT, check: `${UNIT}-check` } as const;
