import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { allServices, type PlatformModel, type ServiceModel } from '../platform/model.js';
import { secretUses } from '../platform/secrets.js';
import { sandboxDir } from './paths.js';

/**
 * Stand-ins for the platform's upstream images in the sandbox (no registry here): one small
 * busybox image per upstream reference that answers HTTP on the service's ports and whose
 * healthcheck commands (pg_isready, redis-cli, /usr/bin/check-health, ...) are shims that succeed
 * when those ports answer. All of them go into ONE `docker save` archive (the busybox layer once)
 * that the inventory overlay hands to the archive image source.
 */

const BUSYBOX = '/bin/busybox';

const ENTRYPOINT = `#!/bin/sh
# hostkit sandbox stand-in for $HOSTKIT_STANDIN_IMAGE: answers HTTP 200 on its ports, any path.
# The real image's command (the arguments) is ignored.
pids=""
for p in $HOSTKIT_STANDIN_PORTS; do nc -ll -p "$p" -e /usr/local/lib/hostkit-http & pids="$pids $!"; done
echo "stand-in for $HOSTKIT_STANDIN_IMAGE listening on: \${HOSTKIT_STANDIN_PORTS:-no port}"
trap 'kill $pids 2>/dev/null; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
`;

/** One HTTP exchange per connection (nc -ll -e): drain the request head, answer 200. */
const HTTP_RESPONDER = `#!/bin/sh
while read -r -t 2 l; do case "$l" in ''|"$(printf '\\r')") break;; esac; done
printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nConnection: close\\r\\n\\r\\nhostkit stand-in for %s on %s\\n' "$HOSTKIT_STANDIN_IMAGE" "$(hostname)"
`;

const HEALTH_SHIM = `#!/bin/sh
# hostkit stand-in healthcheck (installed under the names the real image's healthcheck runs):
# healthy when every port of the stand-in answers HTTP.
for p in $HOSTKIT_STANDIN_PORTS; do
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/nc -w 2 127.0.0.1 "$p" >/dev/null 2>&1 || { echo "stand-in: port $p is not answering" >&2; exit 1; }
done
`;

export interface StandinRecipe {
  ref: string;
  ports: number[];
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

/** One recipe per upstream image: the ports and healthcheck commands of every service using it. */
export function standinRecipes(platform: PlatformModel): StandinRecipe[] {
  const byRef = new Map<string, { ports: Set<number>; shims: Set<string> }>();
  for (const svc of allServices(platform)) {
    const r = byRef.get(svc.image) ?? { ports: new Set<number>(), shims: new Set<string>() };
    byRef.set(svc.image, r);
    for (const p of [...svc.expose, ...svc.ports.map((x) => x.containerPort)]) r.ports.add(p);
    const cmd = healthCommand(svc);
    if (cmd) r.shims.add(cmd.startsWith('/') ? cmd : `/usr/local/bin/${cmd.split('/').pop()}`);
  }
  return [...byRef].map(([ref, r]) => ({ ref, ports: [...r.ports].sort((a, b) => a - b), shims: [...r.shims].sort() }));
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

async function buildBase(): Promise<string> {
  const busybox = await readFile(BUSYBOX);
  const tag = `hostkit-standin-base:${sha(busybox, ENTRYPOINT, HTTP_RESPONDER, HEALTH_SHIM)}`;
  if (await imageExists(tag)) return tag;
  const ctx = await mkdtemp(join(tmpdir(), 'hostkit-standin-'));
  try {
    await copyFile(BUSYBOX, join(ctx, 'busybox'));
    await writeFile(join(ctx, 'standin'), ENTRYPOINT, { mode: 0o755 });
    await writeFile(join(ctx, 'hostkit-health'), HEALTH_SHIM, { mode: 0o755 });
    await writeFile(join(ctx, 'hostkit-http'), HTTP_RESPONDER, { mode: 0o755 });
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'COPY standin /standin',
        'COPY hostkit-health /usr/local/lib/hostkit-health',
        'COPY hostkit-http /usr/local/lib/hostkit-http',
        'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
        'ENTRYPOINT ["/bin/sh", "/standin"]',
      ].join('\n') + '\n',
    );
    await docker(['build', '-q', '-t', tag, ctx]);
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
  return tag;
}

function standinDockerfile(base: string, r: StandinRecipe): string {
  const links = r.shims.map((s) => `mkdir -p "$(dirname ${s})" && ln -sf /usr/local/lib/hostkit-health ${s}`).join(' && ');
  return (
    [
      `FROM ${base}`,
      `LABEL hostkit.standin.for=${JSON.stringify(r.ref)}`,
      `ENV HOSTKIT_STANDIN_IMAGE=${JSON.stringify(r.ref)} HOSTKIT_STANDIN_PORTS=${JSON.stringify(r.ports.join(' '))}`,
      ...(links ? [`RUN ${links}`] : []),
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
  const base = await buildBase();
  const recipes = standinRecipes(platform);
  const tags = new Map<string, string>();
  for (const r of recipes) {
    const dockerfile = standinDockerfile(base, r);
    const tag = `hostkit-standin/${slug(r.ref)}:${sha(dockerfile)}`;
    if (!(await imageExists(tag))) await docker(['build', '-q', '-t', tag, '-'], dockerfile);
    tags.set(r.ref, tag);
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
  const header = '# Generated: the sandbox replaces every upstream image by a busybox stand-in, loaded from one archive.\n';
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, header + stringify(standinOverlay(standins, secretsFile)));
  return path;
}
