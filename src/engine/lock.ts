import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import type { Held, Transport } from '../transports/types.js';
import { quote } from '../transports/quote.js';
import { RefusedError } from './errors.js';

/**
 * The host lock: one hostkit run changes a host at a time. An apply (recover, backup) holds an
 * exclusive flock(2) on LOCK_FILE through a long-lived command on a channel of the run's own
 * connection. The kernel drops the lock when that command ends, and the command ends when the
 * channel does: on release, when the run's connection drops, when the control process is
 * killed (-9 included). There is no lock file to go stale: the file stays, the lock does not.
 *
 * The holder writes who it is into the file once it holds the lock; a refused run prints it.
 * --check and --dry-run never lock: they read /proc/locks (no lock taken, so they can never
 * make an apply fail) and say when an apply is in progress.
 *
 * Dead-man safeguards confirm over a FRESH connection that never asks for the lock, so the
 * confirmation cannot wait on the run's own lock.
 */
export const LOCK_FILE = '/run/lock/hostkit.lock';

/** Who holds the lock, as written into the lock file. */
export interface LockHolder {
  control: string;
  user: string;
  pid: number;
  command: string;
  since: string;
}

/** This process as a holder: control machine, user, pid, the command it runs, now. */
export function currentHolder(argv: readonly string[] = process.argv): LockHolder {
  // "node .../zx roles/stacks.mjs -i inv.yaml" -> "roles/stacks.mjs -i inv.yaml"
  const script = argv.findIndex((a) => /\.(mjs|js|ts)$/.test(a) && !/[/\\](zx|cli)\.(mjs|js)$/.test(a) && !a.endsWith('/zx'));
  const words = script >= 0 ? argv.slice(script) : argv.slice(1);
  const command = words.map((w, i) => (i === 0 ? w.replace(/^.*\/(roles|scripts)\//, '$1/') : w)).join(' ');
  return {
    control: hostname(),
    user: userInfo().username,
    pid: process.pid,
    command: command || basename(argv[1] ?? 'hostkit'),
    since: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/** One line, no control characters: the holder file is read back line by line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the characters removed
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, 300);

const READY = 'hostkit-lock-held';
const REFUSED_EXIT = 75;

/**
 * In /proc/locks, is the lock file locked exclusively (WRITE) by flock? Read-only. The line names
 * the file as MAJOR:MINOR:INODE (hex, hex, decimal), decoded here from stat's st_dev. In a
 * container, /proc/locks only lists locks whose owner process is alive and visible there: hence
 * the owner is the long-lived flock(1) itself (below), not a short-lived one.
 */
const LOCKED_TEST = [
  'd=$(stat -c %d "$f" 2>/dev/null) && ino=$(stat -c %i "$f") &&',
  'id=$(printf "%02x:%02x:%s" $(( (d >> 8) & 0xfff )) $(( (d & 0xff) | ((d >> 12) & 0xfff00) )) "$ino") &&',
  'grep -Eq "FLOCK +ADVISORY +WRITE +[0-9]+ +$id " /proc/locks',
].join(' ');

/**
 * The script that takes the lock and keeps it until its stdin closes: flock(1) holds it for as
 * long as its child runs, and the child (cat, after writing the holder's name) runs until EOF.
 */
export function lockScript(holder: LockHolder, file = LOCK_FILE): string {
  const info = [
    `control=${oneLine(holder.control)}`,
    `user=${oneLine(holder.user)}`,
    `pid=${holder.pid}`,
    `command=${oneLine(holder.command)}`,
    `since=${oneLine(holder.since)}`,
  ];
  // Written while held; `>` opens the file anew (the lock is flock's own descriptor). $$ is the
  // process that runs until the end (exec keeps the pid).
  const holding = [
    `{ printf '%s\\n' ${info.map(quote).join(' ')}; echo "hostpid=$$"; } > "$1"`,
    `echo ${READY}`,
    'exec cat >/dev/null',
  ].join('\n');
  return [
    `f=${quote(file)}`,
    'command -v flock >/dev/null 2>&1 || { echo "flock (util-linux) is not installed: cannot lock the host" >&2; exit 72; }',
    'mkdir -p "$(dirname "$f")" || exit 71',
    `flock -n -E ${REFUSED_EXIT} "$f" sh -c ${quote(holding)} hostkit-lock "$f"`,
    'rc=$?',
    `[ $rc -eq ${REFUSED_EXIT} ] || exit $rc`,
    // The holder may have the lock but not have written its name yet: wait for it a moment
    // (an earlier holder's name, left in the file, names a process that is gone).
    'i=0; while [ $i -lt 20 ]; do p=$(sed -n "s/^hostpid=//p" "$f" 2>/dev/null)',
    '  [ -n "$p" ] && [ -d "/proc/$p" ] && break; sleep 0.1; i=$((i+1)); done',
    `cat "$f"; exit ${REFUSED_EXIT}`,
  ].join('\n');
}

/** The read-only probe of --check/--dry-run: prints the holder when an apply holds the lock. */
export function lockProbeScript(file = LOCK_FILE): string {
  return [`f=${quote(file)}`, '[ -f "$f" ] || exit 0', `if ${LOCKED_TEST}; then cat "$f"; fi`, 'exit 0'].join('\n');
}

/** "apply by alice on laptop (pid 4242, since 2026-12-01T14:00:00Z): roles/base.mjs -i inv.yaml" */
export function describeHolder(text: string): string {
  const kv = new Map(
    text
      .split('\n')
      .map((l) => l.match(/^(\w+)=(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  if (!kv.get('pid')) return 'a hostkit run (its holder details are not readable)';
  return `${kv.get('user') ?? '?'}@${kv.get('control') ?? '?'} (pid ${kv.get('pid')}, since ${kv.get('since') ?? '?'}): ${kv.get('command') ?? '?'}`;
}

/**
 * Takes the host lock on the run's transport, at once or not at all. Refused: a RefusedError
 * naming the holder (the host fails, exit 1).
 */
export async function acquireHostLock(transport: Transport, holder: LockHolder, file = LOCK_FILE): Promise<Held> {
  const outcome = await transport.hold(lockScript(holder, file), READY);
  if (outcome.held) return outcome.held;
  const r = outcome.result;
  if (r.exitCode === REFUSED_EXIT) {
    throw new RefusedError(transport.host, 'host lock', `another hostkit run holds ${file}: ${describeHolder(r.stdout)}`);
  }
  throw new Error(`${transport.host}: host lock: cannot take ${file} (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`);
}

/** For --check/--dry-run: who applies on the host right now, or undefined. Never throws. */
export async function lockHolderOf(transport: Transport, file = LOCK_FILE): Promise<string | undefined> {
  try {
    const r = await transport.exec(lockProbeScript(file), { timeoutMs: 30_000 });
    return r.exitCode === 0 && r.stdout.trim() ? describeHolder(r.stdout) : undefined;
  } catch {
    return undefined;
  }
}
