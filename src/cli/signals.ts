import type { Reporter, RunEvent } from '../engine/events.js';

/**
 * SIGINT/SIGTERM for a run (the cli owns process signals; the engine only sees an AbortSignal).
 *
 * First signal: the engine starts nothing new (no host, role or resource); the resource that is
 * running finishes, at most `graceMs` (its name is printed); the handlers of what already changed
 * run, safeguards are confirmed (or left to roll back); the recap and the reports say
 * `interrupted` and the process exits 130. A second SIGINT aborts at once (exit 130): remote
 * commands then end with their channel, the host lock with the connection, and an armed
 * dead-man switch rolls back by itself.
 *
 * A second signal within `debounceMs` is the same keypress: npx forwards the terminal's SIGINT
 * to its child, which the terminal already signalled.
 */
export const INTERRUPT_GRACE_MS = 120_000;
const DEBOUNCE_MS = 1_000;

export interface Interruptible {
  signal: AbortSignal;
  /** Wraps the run's reporter: the events pass through, the running steps are tracked. */
  reporter: Reporter;
  /** Removes the handlers (the run ended). */
  dispose(): void;
}

export function interruptOnSignals(
  inner: Reporter,
  o: { graceMs?: number; debounceMs?: number; exit?: (code: number) => void; stderr?: NodeJS.WritableStream } = {},
): Interruptible {
  const controller = new AbortController();
  const running = new Map<string, { host: string; role: string; id: string; step: string }>();
  const graceMs = o.graceMs ?? INTERRUPT_GRACE_MS;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const stderr = o.stderr ?? process.stderr;
  let firstAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const describe = () =>
    [...running.values()].map((r) => `${r.host} ${r.role}: ${r.id}: ${r.step}`).join('; ') || 'nothing (between steps)';
  const abortNow = (why: string) => {
    stderr.write(`\n${why}: aborting at once (exit 130); was running: ${describe()}\n`);
    exit(130);
  };
  const onSignal = (name: NodeJS.Signals) => {
    const now = Date.now();
    if (!controller.signal.aborted) {
      firstAt = now;
      controller.abort(name);
      inner.on({ type: 'interrupt', signal: name, running: [...running.values()], graceSeconds: Math.round(graceMs / 1000) });
      timer = setTimeout(() => abortNow(`the running step did not finish within ${Math.round(graceMs / 1000)} s`), graceMs);
      timer.unref();
      return;
    }
    if (name === 'SIGINT' && now - firstAt >= (o.debounceMs ?? DEBOUNCE_MS)) abortNow('second SIGINT');
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  const track = (e: RunEvent) => {
    if (e.type === 'resource-started') running.set(e.host, { host: e.host, role: e.role, id: e.id, step: e.step });
    if (e.type === 'resource-done' || e.type === 'host-done') running.delete(e.host);
  };
  return {
    signal: controller.signal,
    reporter: {
      on: (e) => {
        track(e);
        inner.on(e);
      },
      close: () => inner.close?.(),
    },
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
