import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, sandboxDir } from './paths.js';

/**
 * Real PostgreSQL and MariaDB for the sandbox (the backup/DR tests need real dumps): images built
 * from Debian's packages by sandbox/build-db-images.sh, cached by recipe hash, in one archive.
 */
export type DbEngine = 'postgres' | 'mariadb';

export interface DbImages {
  postgres: string;
  mariadb: string;
  archive: string;
}

/** Which services run a real database instead of a stand-in (stack + compose service key). */
export interface RealDb {
  stack: string;
  service: string;
  engine: DbEngine;
}

/** The default: the production PostgreSQL and one development MariaDB. */
export const DEFAULT_REAL_DBS: readonly RealDb[] = [
  { stack: 'seller1-prod-stack', service: 'db', engine: 'postgres' },
  { stack: 'commerce-stack', service: 'db', engine: 'mariadb' },
];

let building: Promise<DbImages> | undefined;

/** Builds (or reuses) both images and their archive; memoised per process. */
export function ensureDbImages(dir = join(sandboxDir(), 'db-images')): Promise<DbImages> {
  building ??= buildDbImages(dir).catch((err: unknown) => {
    building = undefined; // a failed build may be retried
    throw err;
  });
  return building;
}

async function buildDbImages(dir: string): Promise<DbImages> {
  const script = join(repoRoot(), 'sandbox', 'build-db-images.sh');
  const r = await execa('bash', [script, dir], { reject: false, stdin: 'ignore' });
  const out = Object.fromEntries(
    String(r.stdout)
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length === 2)
      .map(([k, v]) => [k!, v!]),
  );
  if (r.exitCode !== 0 || !out.postgres || !out.mariadb || !out.archive) {
    const tail = String(r.stderr).trim().split('\n').slice(-20).join('\n');
    throw new Error(`sandbox/build-db-images.sh ${dir} failed (exit ${r.exitCode}):\n${tail}`);
  }
  return { postgres: out.postgres, mariadb: out.mariadb, archive: out.archive };
}

/**
 * Inventory overlay: the chosen services use the real images (archive source); their
 * environment, volumes and healthchecks stay the inventory's (the images honour them).
 */
export function realDbOverlay(images: DbImages, dbs: readonly RealDb[]): Record<string, unknown> {
  const stacks: Record<string, { services: Record<string, { image: string }> }> = {};
  for (const db of dbs) {
    const s = (stacks[db.stack] ??= { services: {} });
    s.services[db.service] = { image: images[db.engine] };
  }
  const used = [...new Set(dbs.map((d) => images[d.engine]))];
  return { stacks, images: Object.fromEntries(used.map((ref) => [ref, { source: 'archive', archive: images.archive }])) };
}
