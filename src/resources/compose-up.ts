import { quote, sh } from '../transports/quote.js';

/**
 * runc's init process died before its setup was read (runc reports "possibly OOM-killed" since
 * 1.0; seen here when many containers start at once on a loaded host): the container is left
 * "created", nothing of it ran, and the same `up` starts it. No other failure is retried.
 */
export const RUNC_INIT_DIED = 'read init-p: connection reset by peer';

/**
 * A shell condition: `up` with its output in `log`, run once more (after 2 s) only when it failed
 * with RUNC_INIT_DIED. `up -d --wait` is idempotent: containers already up are left alone.
 */
export function composeUpCondition(up: readonly string[], log: string): string {
  const once = `${sh([...up])} </dev/null >${log} 2>&1`;
  return `{ ${once} || { grep -qF ${quote(RUNC_INIT_DIED)} ${log} && sleep 2 && ${once}; }; }`;
}
