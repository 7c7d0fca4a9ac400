import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Removes all but the `keep` newest files of `folder` whose names pass `owned` (by mtime). Run
 * after a cache write only, so a miss pays it and a hit never does. Another run pruning at the
 * same time, or an unreadable folder, is left to the next write: a removed entry is only a miss.
 */
export function keepNewest(folder: string, keep: number, owned: (name: string) => boolean = () => true): void {
  try {
    const names = readdirSync(folder).filter(owned);
    if (names.length <= keep) return;
    const dated = names
      .map((n) => {
        try {
          return { file: join(folder, n), at: statSync(join(folder, n)).mtimeMs };
        } catch {
          return undefined; // pruned meanwhile
        }
      })
      .filter((e) => e !== undefined)
      .sort((a, b) => b.at - a.at);
    for (const old of dated.slice(keep)) rmSync(old.file, { force: true });
  } catch {
    // the next write tries again
  }
}
