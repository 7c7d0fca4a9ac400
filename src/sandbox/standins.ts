import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { allServices, type PlatformModel, type ServiceModel } from '../platform/model.js';
import { secretUses } from '../platform/secrets.js';
import { upstreamImage, type UpstreamImage } from '../platform/upstream-images.js';
import { ensureDbImages } from './db-images.js';
import { repoRoot, sandboxDir } from './paths.js';

/**
 * Strict stand-ins for the platform's upstream images in the sandbox (no registry here), built
 * from the rows of src/platform/upstream-images.ts: each runs as the real image's uid:gid and, at
 * start and in its healthcheck, enforces the real image's preconditions (writable paths, required
 * files and their keys, required env, its database and role on the declared server with the
 * declared credentials), then answers HTTP on the ports the real image listens on. A failed
 * precondition exits the container with the reason in its log, as the real image would.
 * The scripts are sandbox/standin/*; an image's row becomes /etc/hostkit-standin.spec (data, no
 * code per image). A database server that a consumer probes is the sandbox's real PostgreSQL or
 * MariaDB (db-images.ts), and its consumers' stand-ins are built FROM it (psql/mariadb clients);
 * a server nobody probes stays a small stand-in (the archive stays smaller). Python is a real CPython
 * (sandbox/build-python-image.sh). Everything goes into ONE `docker save` archive that the
 * inventory overlay hands to the archive image source; images and archive are cached by hash.
 */

const BUSYBOX = '/bin/busybox';
const SCRIPTS: Record<string, string> = {
  'entrypoint.sh': '/standin',
  'check.sh': '/usr/local/lib/hostkit-check',
  'ports.sh': '/usr/local/lib/hostkit-ports',
  'http.sh': '/usr/local/lib/hostkit-http',
  'health.sh': '/usr/local/lib/hostkit-health',
  'yaml.awk': '/usr/local/lib/hostkit-yaml.awk',
};
/** The account (uid:gid of the row) a root-started stand-in tries its writable paths as. */
const WRITER = 'hostkit-writer';
/** Busybox's applets for the scripts, last on PATH (a Debian base keeps its own tools first). */
const APPLETS = '/usr/local/lib/hostkit-bb';

export interface StandinRecipe {
  ref: string;
  /** The table's row (an unknown image gets an empty one: no preconditions, the inventory's ports). */
  row: UpstreamImage;
  /** Paths of the healthcheck commands to shim ("/usr/local/bin/pg_isready", "/usr/bin/check-health"). */
  shims: string[];
}

/** The command a healthcheck runs first: ["CMD", "x", ...] -> x; ["CMD-SHELL", "x -y"] -> x. */
export function healthCommand(svc: ServiceModel): string | undefined {
  const test = svc.healthcheck?.test;
  if (!test) return undefined;
  const [kind, ...rest] = typeof test === 'string' ? ['CMD-SHELL', test] : test;
  if (kind === 'NONE') return undefined;
  const first = kind === 'CMD-SHELL' ? rest.join(' ').trim().split(/\s+/)[0] : rest[0];
  return first || undefined;
}

/** One recipe per upstream image: its table row and the healthcheck commands of every service using it. */
export function standinRecipes(platform: PlatformModel): StandinRecipe[] {
  const byRef = new Map<string, { ports: Set<number>; shims: Set<string> }>();
  for (const svc of allServices(platform)) {
    const r = byRef.get(svc.image) ?? { ports: new Set<number>(), shims: new Set<string>() };
    byRef.set(svc.image, r);
    for (const p of [...svc.expose, ...svc.ports.map((x) => x.containerPort)]) r.ports.add(p);
    const cmd = healthCommand(svc);
    if (cmd) r.shims.add(cmd.startsWith('/') ? cmd : `/usr/local/bin/${cmd.split('/').pop()}`);
  }
  return [...byRef].map(([ref, r]) => ({
    ref,
    row:
      upstreamImage(ref) ??
      unknownImage(
        ref,
        [...r.ports].sort((a, b) => a - b),
      ),
    shims: [...r.shims].sort(),
  }));
}

const unknownImage = (ref: string, ports: number[]): UpstreamImage => ({
  ref,
  source: 'not in src/platform/upstream-images.ts: nothing enforced',
  uid: 0,
  gid: 0,
  writable: [],
  files: [],
  env: [],
  ports: ports.map((p) => ({ default: p })),
});

/** The row as /etc/hostkit-standin.spec (sourced by sh): lists of `|`-separated fields. */
export function standinSpec(row: UpstreamImage): string {
  const db = row.database;
  const vars: Record<string, string> = {
    HS_IMAGE: row.ref,
    HS_WRITABLE: row.writable.join(' '),
    HS_ENV: row.env.join(' '),
    HS_FILES: row.files.map((f) => [f.path, f.format, (f.keys ?? []).join(','), f.sessionDomain ? 'session' : ''].join('|')).join(' '),
    HS_PORTS: row.ports.map((p) => [p.default ?? '', p.env ?? '', p.arg ?? ''].join('|')).join(' '),
    HS_DB: db
      ? [db.engine, db.when?.env ?? '', db.when?.equals ?? '', db.host, db.port ?? '', db.name, db.user, db.password].join('|')
      : '',
    HS_MARKER: row.installedMarker ?? '',
    // Started as root: the writable paths are tried as this account (its workers' uid:gid).
    HS_WRITER: row.startsAsRoot ? WRITER : '',
  };
  for (const [k, v] of Object.entries(vars))
    if (!/^[A-Za-z0-9_./:,| @=+-]*$/.test(v)) throw new Error(`stand-in spec of ${row.ref}: ${k} has a character sh would read: ${v}`);
  return `# hostkit stand-in spec for ${row.ref} (from src/platform/upstream-images.ts; ${row.source})\n${Object.entries(vars)
    .map(([k, v]) => `${k}='${v}'`)
    .join('\n')}\n`;
}

const sha = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
};

/** "ghcr.io/ajnart/homarr:0.15.10" -> "ghcr-io-ajnart-homarr-0-15-10": a repository name. */
const slug = (ref: string) =>
  ref
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

async function docker(args: string[], input?: string) {
  const r = await execa('docker', args, { reject: false, ...(input !== undefined ? { input } : { stdin: 'ignore' as const }) });
  if (r.exitCode !== 0)
    throw new Error(
      `docker ${args.slice(0, 3).join(' ')} failed (exit ${r.exitCode}): ${String(r.stderr).trim().split('\n').slice(-5).join('\n')}`,
    );
  return String(r.stdout);
}

const imageExists = async (tag: string) =>
  (await execa('docker', ['image', 'inspect', tag], { reject: false, stdin: 'ignore' })).exitCode === 0;

/** Builds `tag` from a context of `files` (name -> content, mode 0755) unless it exists. */
async function buildFromFiles(tag: string, files: Record<string, string | Buffer>): Promise<string> {
  if (await imageExists(tag)) return tag;
  const ctx = await mkdtemp(join(tmpdir(), 'hostkit-standin-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(ctx, name), content, { mode: 0o755 });
    await docker(['build', '-q', '-t', tag, ctx]);
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
  return tag;
}

/**
 * The stand-in tooling (busybox, the scripts) on top of `from`: scratch for most images, the real
 * PostgreSQL/MariaDB image for their consumers (they need the client to probe their database).
 */
async function buildBase(from: string, fromPath?: string): Promise<string> {
  const busybox = await readFile(BUSYBOX);
  const dir = join(repoRoot(), 'sandbox', 'standin');
  const scripts: Record<string, string> = Object.fromEntries(
    await Promise.all(Object.keys(SCRIPTS).map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)),
  );
  const scratch = from === 'scratch';
  const path = ['/usr/local/bin', ...(fromPath ?? '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin').split(':'), APPLETS];
  const setup = [`mkdir -p ${APPLETS} /usr/local/bin /tmp`, 'chmod 1777 /tmp', `/bin/busybox --install -s ${APPLETS}`];
  if (scratch) setup.push('/bin/busybox --install -s /bin');
  const dockerfile = [
    `FROM ${from}`,
    'COPY busybox /bin/busybox',
    `RUN ${JSON.stringify(['/bin/busybox', 'sh', '-c', setup.join(' && ')])}`,
    ...Object.entries(SCRIPTS).map(([f, to]) => `COPY ${f} ${to}`),
    `ENV PATH=${[...new Set(path)].join(':')}`,
    'ENTRYPOINT ["/bin/busybox", "sh", "/standin"]',
    'CMD []',
  ].join('\n');
  const tag = `hostkit-standin-base/${scratch ? 'scratch' : slug(from)}:${sha(busybox, dockerfile, ...Object.values(scripts))}`;
  return buildFromFiles(tag, { busybox, Dockerfile: `${dockerfile}\n`, ...scripts });
}

async function imagePath(tag: string): Promise<string | undefined> {
  const env = JSON.parse(await docker(['image', 'inspect', '-f', '{{json .Config.Env}}', tag])) as string[] | null;
  return env?.find((e) => e.startsWith('PATH='))?.slice(5);
}

function standinDockerfile(base: string, r: StandinRecipe): string {
  const { row } = r;
  const user = `${row.uid}:${row.gid}`;
  const writer = row.startsAsRoot
    ? [
        'mkdir -p /etc',
        "grep -qs '^root:' /etc/passwd || echo root:x:0:0::/:/bin/sh >>/etc/passwd",
        `echo ${WRITER}:x:${user}::/:/bin/sh >>/etc/passwd`,
        `echo ${WRITER}:x:${row.gid}: >>/etc/group`,
      ]
    : [];
  const steps = [
    ...writer,
    ...(row.writable.length ? [`mkdir -p ${row.writable.join(' ')}`, `chown ${user} ${row.writable.join(' ')}`] : []),
    ...r.shims.map((s) => `mkdir -p "$(dirname ${s})" && ln -sf /usr/local/lib/hostkit-health ${s}`),
  ];
  return (
    [
      `FROM ${base}`,
      `LABEL hostkit.standin.for=${JSON.stringify(r.ref)}`,
      'COPY spec /etc/hostkit-standin.spec',
      ...(steps.length ? [`RUN ${JSON.stringify(['/bin/busybox', 'sh', '-c', steps.join(' && ')])}`] : []),
      `USER ${row.startsAsRoot ? '0:0' : user}`,
    ].join('\n') + '\n'
  );
}

export interface StandinArchive {
  archive: string;
  /** Upstream reference -> the stand-in's tag inside the archive. */
  tags: Map<string, string>;
}

/** Builds (or reuses, by recipe hash) every stand-in and their one archive under .sandbox/standins. */
export async function buildStandins(platform: PlatformModel, dir = join(sandboxDir(), 'standins')): Promise<StandinArchive> {
  const recipes = standinRecipes(platform);
  // A database server is the real one (db-images.ts) when a consumer probes it; else a stand-in.
  const probed = new Set(recipes.flatMap((r) => (r.row.database ? [r.row.database.engine] : [])));
  const dbImages = probed.size ? await ensureDbImages() : undefined;
  const bases = new Map<string, Promise<string>>();
  const baseFor = (from: string) => {
    if (!bases.has(from)) bases.set(from, from === 'scratch' ? buildBase(from) : imagePath(from).then((path) => buildBase(from, path)));
    return bases.get(from)!;
  };
  const tags = new Map<string, string>();
  for (const r of recipes) {
    if (r.row.server && probed.has(r.row.server)) {
      tags.set(r.ref, dbImages![r.row.server]);
      continue;
    }
    if (r.row.realInterpreter) {
      tags.set(r.ref, await ensurePythonImage());
      continue;
    }
    const base = await baseFor(r.row.database ? dbImages![r.row.database.engine] : 'scratch');
    const spec = standinSpec(r.row);
    const dockerfile = standinDockerfile(base, r);
    tags.set(r.ref, await buildFromFiles(`hostkit-standin/${slug(r.ref)}:${sha(dockerfile, spec)}`, { Dockerfile: dockerfile, spec }));
  }
  await mkdir(dir, { recursive: true });
  const archive = join(dir, `standins-${sha(...[...tags].map(([ref, tag]) => `${ref}=${tag}`))}.tar`);
  if (!existsSync(archive)) {
    const partial = `${archive}.${process.pid}.partial`;
    await docker(['save', '-o', partial, ...new Set(tags.values())]);
    await rename(partial, archive); // atomic: a concurrent test run never reads half an archive
  }
  return { archive, tags };
}

let python: Promise<string> | undefined;

/** The real CPython stand-in (sandbox/build-python-image.sh); memoised per process. */
export function ensurePythonImage(): Promise<string> {
  python ??= (async () => {
    const script = join(repoRoot(), 'sandbox', 'build-python-image.sh');
    const r = await execa('bash', [script], { reject: false, stdin: 'ignore' });
    const tag = /^python (\S+)$/m.exec(String(r.stdout))?.[1];
    if (r.exitCode !== 0 || !tag)
      throw new Error(
        `sandbox/build-python-image.sh failed (exit ${r.exitCode}):\n${String(r.stderr).trim().split('\n').slice(-20).join('\n')}`,
      );
    return tag;
  })().catch((err: unknown) => {
    python = undefined; // a failed build may be retried
    throw err;
  });
  return python;
}

/**
 * A secrets file with a random value for every secret the platform uses (existing values kept),
 * mode 600: the sandbox's stand-in for the operator's secrets file.
 */
export async function writeSandboxSecrets(platform: PlatformModel, path: string): Promise<string> {
  const existing = existsSync(path) ? ((parse(await readFile(path, 'utf8')) as Record<string, string> | null) ?? {}) : {};
  const values: Record<string, string> = {};
  for (const name of [...secretUses(platform).keys()].sort()) values[name] = existing[name] ?? randomBytes(18).toString('base64url');
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `# Generated sandbox secrets (random); never used for a real server.\n${stringify(values)}`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/** The overlay that swaps every upstream image for its stand-in (archive source). */
export function standinOverlay(standins: StandinArchive, secretsFile?: string): Record<string, unknown> {
  return {
    ...(secretsFile ? { secrets: { file: secretsFile } } : {}),
    images: Object.fromEntries(
      [...standins.tags].map(([ref, tag]) => [ref, { source: 'archive', archive: standins.archive, archive_tag: tag }]),
    ),
  };
}

export async function writeStandinOverlay(path: string, standins: StandinArchive, secretsFile?: string): Promise<string> {
  const header = '# Generated: the sandbox replaces every upstream image by its strict stand-in, loaded from one archive.\n';
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, header + stringify(standinOverlay(standins, secretsFile)));
  return path;
}
