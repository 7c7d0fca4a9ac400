import { randomBytes } from 'node:crypto';
import type { Safeguard, SafeguardReport } from './types.js';
import type { Transport } from '../transports/types.js';
import { quote } from '../transports/quote.js';
import { errorMessage } from './errors.js';

/**
 * Dead-man switches: "prove a fresh login works, else the host rolls back by itself".
 *
 * rollbackSafeguard() builds the host-side scripts for the common case: snapshot some files,
 * arm a timer (systemd-run --on-active, else a detached sleep) that copies them back and runs a
 * restore command. The engine (run-role.ts) arms it before the first protected change and, after
 * the handlers, calls confirmSafeguard() which opens a FRESH connection and disarms through it.
 *
 * A lock directory decides the race between the timer and the disarm: whoever creates
 * $dir/lock first wins, so a rollback never runs half-way under a confirmed apply.
 * The timer is transient: a reboot before the deadline cancels it (the reboot path is ufw's own
 * boot-time load of the new files; keep the timeout short).
 */

export const SAFEGUARD_ROOT = '/var/lib/hostkit/safeguard';

export interface RollbackSpec {
  /** Short name for the unit and messages: "firewall", "sshd". */
  name: string;
  timeoutSeconds: number;
  protects: readonly string[];
  /** Regular files to snapshot; a missing one is removed again by the rollback. */
  paths: readonly string[];
  /** sh whose stdout is saved at arm time and given to `restoreCommand` as $state. */
  stateCommand?: string;
  /** sh run by the rollback after the files are back; $d is the snapshot dir, $state the saved state. */
  restoreCommand: string;
  /** What is restored, for messages. */
  restores: string;
  /** Fixed id (tests); default: name + random hex. */
  id?: string;
  /** Snapshot directory root (tests); default SAFEGUARD_ROOT. */
  root?: string;
  /** "auto": systemd-run when it works, else a detached sleep; "sleep" forces the latter (tests). */
  timer?: 'auto' | 'sleep';
}

export function rollbackSafeguard(spec: RollbackSpec): Safeguard {
  if (!/^[a-z0-9-]+$/.test(spec.name)) throw new Error(`safeguard name must be [a-z0-9-]: ${spec.name}`);
  const t = Math.round(spec.timeoutSeconds);
  if (!(t >= 1)) throw new Error(`safeguard timeout must be >= 1 second, got ${spec.timeoutSeconds}`);
  const id = spec.id ?? `${spec.name}-${randomBytes(4).toString('hex')}`;
  const root = spec.root ?? SAFEGUARD_ROOT;
  const dir = `${root}/${id}`;
  const unit = `hostkit-safeguard-${id}`;
  const d = quote(dir);

  const restoreScript = [
    '#!/bin/sh',
    `d=${d}`,
    // The disarm took the lock first: the apply was confirmed, nothing to do.
    'mkdir "$d/lock" 2>/dev/null || exit 0',
    'exec >>"$d/restore.log" 2>&1',
    'echo "rollback started $(date -u +%FT%TZ)"',
    'PATH="$PATH:/usr/sbin:/sbin"',
    // Each file back to its own path: `cp -a "$d/files/." /` also gives / the snapshot dir's 0700
    // mode (umask 077 in arm), locking every non-root user out of the host.
    `for f in ${spec.paths.map(quote).join(' ')}; do if [ -e "$d/files$f" ]; then cp -a "$d/files$f" "$f"; fi; done`,
    'while IFS= read -r f; do [ -n "$f" ] && rm -f -- "$f"; done < "$d/absent"',
    'state=$(cat "$d/state" 2>/dev/null)',
    '(',
    spec.restoreCommand,
    ')',
    'rc=$?',
    'echo "$(date -u +%FT%TZ) rc=$rc" > "$d/reverted"',
    'echo "rollback finished rc=$rc"',
  ].join('\n');

  const arm = [
    'set -e',
    'umask 077',
    `mkdir -p ${quote(root)}`,
    // Old snapshots (confirmed ones are removed at once; rolled-back ones stay a week for forensics).
    `find ${quote(root)} -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true`,
    `d=${d}`,
    'rm -rf "$d"; mkdir -p "$d/files"; : > "$d/absent"',
    `for f in ${spec.paths.map(quote).join(' ')}; do`,
    // From / with a relative path: coreutils 9.1 `cp -a --parents /abs` fails in some working directories.
    '  if [ -e "$f" ]; then (cd / && cp -a --parents "${f#/}" "$d/files/"); else printf "%s\\n" "$f" >> "$d/absent"; fi',
    'done',
    spec.stateCommand ? `( ${spec.stateCommand}\n) > "$d/state" 2>/dev/null || true` : ': > "$d/state"',
    `cat > "$d/restore.sh" <<'HOSTKIT_RESTORE_EOF'`,
    restoreScript,
    'HOSTKIT_RESTORE_EOF',
    `if ${spec.timer === 'sleep' ? 'false' : 'command -v systemd-run >/dev/null 2>&1'} && systemd-run --quiet --collect --unit=${unit} --on-active=${t}s --timer-property=AccuracySec=1s ` +
      `--description=${quote(`hostkit: restore ${spec.restores} unless the apply is confirmed`)} /bin/sh "$d/restore.sh" 2>"$d/arm.err"; then`,
    '  echo systemd > "$d/timer"',
    'else',
    `  setsid sh -c "sleep ${t}; exec /bin/sh '$d/restore.sh'" </dev/null >/dev/null 2>&1 &`,
    '  echo "$!" > "$d/pid"; echo sleep > "$d/timer"',
    'fi',
    `echo "armed ${unit}: rollback in ${t}s"`,
  ].join('\n');

  const disarm = [
    `d=${d}`,
    '[ -d "$d" ] || { echo "no safeguard snapshot at $d" >&2; exit 4; }',
    'if mkdir "$d/lock" 2>/dev/null; then',
    `  systemctl stop ${unit}.timer 2>/dev/null || true`,
    '  if [ -f "$d/pid" ]; then kill "$(cat "$d/pid")" 2>/dev/null || true; fi',
    '  rm -rf "$d"',
    '  echo disarmed; exit 0',
    'fi',
    // The rollback won the race: wait for it to finish, then say so.
    'i=0; while [ ! -f "$d/reverted" ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done',
    'echo "rolled back: $(cat "$d/reverted" 2>/dev/null)"; exit 3',
  ].join('\n');

  const status = [
    `d=${d}`,
    'if [ -f "$d/reverted" ]; then echo "rollback ran at $(cat "$d/reverted")"; tail -n 5 "$d/restore.log" 2>/dev/null; exit 0; fi',
    'exit 1',
  ].join('\n');

  return { id, protects: spec.protects, timeoutSeconds: t, arm, disarm, status, restores: spec.restores };
}

export interface ConfirmOptions {
  /** Opens a fresh connection to the same host (run.ts: connect() again). */
  reconnect: () => Promise<Transport>;
  /** Date.now() when the timer was armed. */
  armedAt: number;
  /** Extra wait after the deadline before declaring the host unreachable (ms). */
  graceMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * After the apply: a fresh connection must work and disarm the timer. When it does not, wait
 * for the host's own rollback and report it (checked over another fresh connection).
 */
export async function confirmSafeguard(sg: Safeguard, o: ConfirmOptions): Promise<SafeguardReport> {
  const sleep = o.sleep ?? delay;
  const now = o.now ?? Date.now;
  let reason: string;
  try {
    const fresh = await o.reconnect();
    try {
      const r = await fresh.exec(sg.disarm, { timeoutMs: 90_000 });
      if (r.exitCode === 0) {
        return { id: sg.id, status: 'confirmed', detail: 'a fresh connection works; the rollback timer was cancelled' };
      }
      if (r.exitCode === 3) {
        return {
          id: sg.id,
          status: 'reverted',
          detail:
            `the host restored ${sg.restores} before the apply was confirmed: the apply took longer than the ` +
            `${sg.timeoutSeconds} s timeout (${r.stdout.trim()}); raise the timeout and apply again`,
        };
      }
      return {
        id: sg.id,
        status: 'failed',
        detail: `cancelling the rollback timer failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim()}`,
      };
    } finally {
      await fresh.close().catch(() => undefined);
    }
  } catch (err) {
    reason = errorMessage(err);
  }

  // The fresh connection failed: the host rolls back by itself at the deadline.
  const deadline = o.armedAt + sg.timeoutSeconds * 1000;
  const giveUp = deadline + (o.graceMs ?? 45_000);
  await sleep(Math.max(0, deadline - now()) + 2_000);
  let last = '';
  while (now() < giveUp) {
    try {
      const t = await o.reconnect();
      try {
        const r = await t.exec(sg.status, { timeoutMs: 30_000 });
        if (r.exitCode === 0) {
          return {
            id: sg.id,
            status: 'reverted',
            detail:
              `a fresh connection failed after the apply (${reason}); the host restored ${sg.restores} by itself ` +
              `after ${sg.timeoutSeconds} s and a fresh connection works again (${r.stdout.trim().split('\n')[0]})`,
          };
        }
        // Reachable again and no rollback: the first failure was transient. Confirm now.
        const d = await t.exec(sg.disarm, { timeoutMs: 90_000 });
        if (d.exitCode === 0) {
          return {
            id: sg.id,
            status: 'confirmed',
            detail: `the first fresh connection failed (${reason}) but a later one worked; the rollback timer was cancelled`,
          };
        }
        last = `connected, but no rollback happened and the timer could not be cancelled: ${(d.stderr || d.stdout).trim() || `exit ${d.exitCode}`}`;
      } finally {
        await t.close().catch(() => undefined);
      }
    } catch (err) {
      last = errorMessage(err);
    }
    await sleep(2_000);
  }
  return {
    id: sg.id,
    status: 'failed',
    detail:
      `a fresh connection failed after the apply (${reason}), and ${Math.round((giveUp - deadline) / 1000)} s after the ` +
      `rollback deadline it still fails (${last}); use the provider's console`,
  };
}
