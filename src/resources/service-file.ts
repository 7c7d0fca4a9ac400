import { posix } from 'node:path';
import type { Action } from '../engine/types.js';
import { handler } from '../engine/resource.js';
import { atomicWriteScript } from '../transports/shell.js';
import { quote } from '../transports/quote.js';
import { onceMoreIfRuncInitDied } from './container-start.js';
import { ManagedFile } from './file.js';

/**
 * A service's configuration file (inventory `files:`), content rendered in prepare: planned like
 * any managed file (diff, owner, group, mode), written atomically; its missing parent folders are
 * created (root, 0755) but never managed here: the data role owns the data layout. A change
 * notifies the container's restart handler (restartHandler below).
 */
export class ServiceFile extends ManagedFile {
  protected override readonly kind: string = 'config';

  /** Its parent folders may not exist yet on a fresh server (the write creates them, unmanaged). */
  protected override writeAction(): Action {
    const { path, content, mode, owner, group } = this.spec;
    return {
      kind: 'exec',
      script: [`mkdir -p ${quote(posix.dirname(path))}`, atomicWriteScript(path, { mode, owner, group })].join('\n'),
      stdin: content,
      display: `write ${path} (${mode} ${owner}:${group})`,
    };
  }
}

/**
 * Restarts a container after its configuration files changed, unless it was (re)started after the
 * newest of them was written (it was just created by `compose up`, or already restarted): a
 * first provision restarts nothing. Waits until the container is healthy again.
 */
export function restartHandler(containerName: string, files: readonly string[], waitTimeoutS: number) {
  const c = quote(containerName);
  const script = [
    `started=$(docker inspect -f '{{.State.StartedAt}}' ${c} 2>/dev/null) || { echo ${quote(`${containerName} does not exist: nothing to restart`)}; exit 0; }`,
    'started=$(date -d "$started" +%s%N)',
    'newest=0',
    `for f in ${files.map(quote).join(' ')}; do m=$(stat -c %.9Y "$f" 2>/dev/null | tr -d .) || continue; [ "$m" -gt "$newest" ] && newest=$m; done`,
    '[ "$newest" -gt "$started" ] || exit 0',
    'err=$(mktemp)',
    `if ! ${onceMoreIfRuncInitDied(`docker restart ${c} >/dev/null 2>"$err"`, '"$err"')}; then cat "$err" >&2; rm -f "$err"; exit 1; fi`,
    'rm -f "$err"',
    `i=0; while :; do`,
    `  st=$(docker inspect -f '{{.State.Status}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}}' ${c})`,
    '  case "$st" in "running healthy"|"running none") exit 0;; esac',
    `  i=$((i + 1)); if [ "$i" -gt ${waitTimeoutS} ]; then echo ${quote(`${containerName} is not healthy after its restart:`)} "$st" >&2; docker logs --tail 5 ${c} 2>&1 | sed 's/^/  /' >&2; exit 1; fi`,
    '  sleep 1',
    'done',
  ].join('\n');
  return handler(`restart ${containerName}`, [{ kind: 'exec', script, display: `docker restart ${containerName} (its files changed)` }]);
}
