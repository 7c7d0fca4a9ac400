/**
 * Parsers and the --check verdict of scripts/backup.mjs (pure, tested from recorded outputs).
 */
export interface Snapshot {
  id: string;
  shortId: string;
  time: Date;
  hostname: string;
  tags: string[];
  paths: string[];
}

/** `restic snapshots --json`: an array (restic >= 0.10); newest last after sorting by time. */
export function parseSnapshots(stdout: string): Snapshot[] {
  const text = stdout.trim();
  if (!text) return [];
  const raw = JSON.parse(text) as {
    id: string;
    short_id?: string;
    time: string;
    hostname: string;
    tags?: string[] | null;
    paths?: string[];
  }[];
  if (!Array.isArray(raw)) throw new Error('restic snapshots --json: expected an array');
  return raw
    .map((s) => ({
      id: s.id,
      shortId: s.short_id ?? s.id.slice(0, 8),
      time: new Date(s.time),
      hostname: s.hostname,
      tags: s.tags ?? [],
      paths: s.paths ?? [],
    }))
    .sort((a, b) => a.time.getTime() - b.time.getTime());
}

/** The status file the server's backup script writes after every run. */
export interface LastRun {
  ok: boolean;
  /** Unix seconds. */
  finished: number;
  step: string;
  exit: number;
  snapshot?: string;
}

export function parseLastRun(text: string): LastRun | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const v = JSON.parse(t) as Partial<LastRun>;
  if (typeof v.ok !== 'boolean' || typeof v.finished !== 'number') throw new Error(`backup status file: unexpected content`);
  return {
    ok: v.ok,
    finished: v.finished,
    step: String(v.step ?? ''),
    exit: Number(v.exit ?? 0),
    ...(v.snapshot ? { snapshot: v.snapshot } : {}),
  };
}

export interface BackupVerdict {
  /** 0 fresh and last run ok; 2 too old, none, or the last run failed. */
  exitCode: 0 | 2;
  lines: string[];
}

export function backupVerdict(snapshots: Snapshot[], lastRun: LastRun | undefined, now: Date, maxAgeHours: number): BackupVerdict {
  const lines: string[] = [];
  let bad = false;
  const newest = snapshots.at(-1);
  if (!newest) {
    lines.push('no snapshot in the repository');
    bad = true;
  } else {
    const ageH = (now.getTime() - newest.time.getTime()) / 3_600_000;
    const age = `${ageH.toFixed(2)} h`;
    if (ageH > maxAgeHours) {
      lines.push(`newest snapshot ${newest.shortId} is ${age} old (limit ${maxAgeHours} h)`);
      bad = true;
    } else lines.push(`newest snapshot ${newest.shortId} is ${age} old (limit ${maxAgeHours} h)`);
  }
  if (!lastRun) lines.push('no backup run recorded on the server yet');
  else if (!lastRun.ok) {
    lines.push(
      `last backup run FAILED at step "${lastRun.step}" (exit ${lastRun.exit}, ${new Date(lastRun.finished * 1000).toISOString()})`,
    );
    bad = true;
  } else
    lines.push(
      `last backup run ok (${new Date(lastRun.finished * 1000).toISOString()}${lastRun.snapshot ? `, snapshot ${lastRun.snapshot}` : ''})`,
    );
  return { exitCode: bad ? 2 : 0, lines };
}
