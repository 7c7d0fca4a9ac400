import { quote, sh } from '../transports/quote.js';

/**
 * runc's init process died before its setup was read (one cause is the init being OOM-killed,
 * runc#2812; seen in CI when many containers started at once on a loaded host): the container is
 * left "created", nothing of it ran, and the same start starts it. No other failure is retried.
 */
export const RUNC_INIT_DIED = 'read init-p: connection reset by peer';

/**
 * A shell condition: `command` (shell text) with its stderr in `log`, run once more (after 2 s)
 * only when it failed with RUNC_INIT_DIED. For idempotent starts only (`up -d`, `restart`).
 */
export function onceMoreIfRuncInitDied(command: string, log: string): string {
  return `{ ${command} || { grep -qF ${quote(RUNC_INIT_DIED)} ${log} && sleep 2 && ${command}; }; }`;
}

/** `docker compose up -d --wait` with its timeout: the start of every up a resource plans. */
export function composeUpArgv(waitTimeoutS: number, ...rest: string[]): string[] {
  return ['docker', 'compose', 'up', '-d', '--wait', '--wait-timeout', String(waitTimeoutS), ...rest];
}

/** `docker compose up ...` with all its output in `log`, tried once more only when runc's init died. */
export function composeUpCondition(up: readonly string[], log: string): string {
  return onceMoreIfRuncInitDied(`${sh([...up])} </dev/null >${log} 2>&1`, log);
}
