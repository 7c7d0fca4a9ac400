import type { Fact } from '../engine/types.js';
import { defineFact } from '../facts/define.js';
import { quote } from '../transports/quote.js';
import { BACKUP_SCRIPT } from './model.js';
import { type LastRun, parseLastRun, parseSnapshots, type Snapshot } from './snapshots.js';
import { DOCKERD_RUNNING } from '../facts/docker.js';

/**
 * The facts of the backup and recover steps. They live here, not in src/facts, because they read
 * what the backup layer defines (the server's backup program, restic's output); the fact fixture
 * runner reads BACKUP_FACTS beside src/facts' FACTS.
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

/** One probe: the script's presence, `status` (the last run) and `snapshots` (JSON, its exit code and stderr tail). */
export const backupStateFact: Fact<BackupState> = defineFact(
  'backup.state',
  [],
  [
    `if [ ! -x ${BACKUP_SCRIPT} ]; then echo '${MARK} absent'; exit 0; fi`,
    // The status first: a failing `snapshots` records itself as the last run.
    `st=$(${BACKUP_SCRIPT} status)`,
    `err=$(mktemp); out=$(${BACKUP_SCRIPT} snapshots 2>"$err"); rc=$?`,
    `printf '%s snapshots %s\\n%s\\n%s stderr\\n' '${MARK}' "$rc" "$out" '${MARK}'; tail -c 400 "$err"; rm -f "$err"`,
    `printf '\\n%s status\\n%s\\n' '${MARK}' "$st"`,
  ].join('\n'),
  ({ stdout }) => parseBackupState(stdout),
);

/** Where scripts/recover.mjs records its progress (outside the data root, so a restore never overwrites it). */
export const RECOVER_STATE = '/var/lib/hostkit/recover.json';

export interface RecoverState {
  snapshot: string;
  restored: boolean;
  loaded: string[];
}

export const recoverStateFact: Fact<RecoverState | undefined> = defineFact(
  'recover.state',
  [],
  `cat ${RECOVER_STATE} 2>/dev/null || true`,
  ({ stdout }) => (stdout.trim() ? (JSON.parse(stdout) as RecoverState) : undefined),
);

export interface DataRootState {
  /** Up to three non-directory entries under the data root. */
  found: string[];
  /** The database containers of the backup that are running now. */
  running: string[];
}

/** Files under the data root (a restore goes into an empty one) and which of CONTAINERS run. */
export function dataRootFact(root: string, containers: readonly string[]): Fact<DataRootState> {
  const filters = containers.map((c) => `--filter name=^${c}$`).join(' ');
  return defineFact(
    'recover.data-root',
    [root, [...containers]],
    [
      `find ${quote(root)} -mindepth 1 ! -type d 2>/dev/null | head -n 3 | sed 's/^/found /'`,
      // A stopped daemon runs no container, and asking it would start it (DOCKERD_RUNNING).
      containers.length
        ? `command -v docker >/dev/null && ${DOCKERD_RUNNING} && docker ps --format '{{.Names}}' ${filters} | sed 's/^/running /'`
        : '',
      'true',
    ]
      .filter(Boolean)
      .join('\n'),
    ({ stdout }) => {
      const lines = stdout.split('\n');
      const pick = (p: string) => lines.filter((l) => l.startsWith(`${p} `)).map((l) => l.slice(p.length + 1));
      return { found: pick('found'), running: pick('running') };
    },
  );
}

/** The backup layer's facts by name, as src/facts/index.ts's FACTS (the fixture runner reads both). */
export const BACKUP_FACTS = {
  'backup.state': backupStateFact,
  'recover.state': recoverStateFact,
  'recover.data-root': dataRootFact,
} satisfies Record<string, Fact<unknown> | ((...args: never[]) => Fact<unknown>)>;
