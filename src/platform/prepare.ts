import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSecrets } from '../engine/redact.js';
import { allServices, type PlatformModel } from './model.js';
import { AppSourceError, fetchAppSource, type AppSource } from './app-source.js';
import { controlFailure, runOnControl } from './control-command.js';
import { loadSecrets, type Secrets } from './secrets.js';
import { readArchiveManifest, type ArchivedImage } from './image-archive.js';
import { renderFiles, type RenderedFile } from './files.js';

/** What the stacks role needs from the control machine, read once per run before any host. */
export interface PreparedPlatform {
  platform: PlatformModel;
  secrets: Secrets;
  /** Archive path -> images in it. */
  archives: Map<string, ArchivedImage[]>;
  /** Image ref -> its build context packed as a tar (deterministic) and that tar's hash. */
  contexts: Map<string, { dir: string; tar: string; hash: string; dockerfile?: string }>;
  /** The services' configuration files, rendered with their secrets. */
  files: RenderedFile[];
  /** "<stack>/<service>" -> its application source (a service with `build`), its ref resolved to a commit. */
  apps: Map<string, AppSource>;
}

export class PlatformPrepareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformPrepareError';
  }
}

/**
 * Loads and checks secrets, image archives and build contexts; every problem in one error, before
 * any host is contacted. Secret values are registered for redaction. The result is the stacks
 * role's prepared input: the engine keeps it for the run and hands it to build.
 */
export async function preparePlatform(
  platform: PlatformModel,
  options: { secretsFile?: string | undefined } = {},
): Promise<PreparedPlatform> {
  const secrets = await loadSecrets(platform, options.secretsFile ?? platform.secretsFile);
  registerSecrets(secrets.values());
  const rendered = renderFiles(platform, secrets);
  registerSecrets(rendered.hashes);
  if (rendered.problems.length)
    throw new PlatformPrepareError(
      `files (${rendered.problems.length} problem${rendered.problems.length === 1 ? '' : 's'}):\n  ${rendered.problems.join('\n  ')}`,
    );

  const problems: string[] = [];
  const archives = new Map<string, ArchivedImage[]>();
  const unreadable = new Set<string>();
  for (const img of platform.images) {
    if (img.source !== 'archive') continue;
    if (!archives.has(img.archive)) {
      try {
        archives.set(img.archive, await readArchiveManifest(img.archive));
      } catch (err) {
        problems.push(
          `image ${img.ref}: archive ${img.archive}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
        );
        archives.set(img.archive, []);
        unreadable.add(img.archive);
        continue;
      }
    }
    const images = archives.get(img.archive)!;
    if (!unreadable.has(img.archive) && !images.some((a) => a.tags.includes(img.archiveTag))) {
      problems.push(
        `image ${img.ref}: archive ${img.archive} has no image tagged ${img.archiveTag} (it has: ${images.flatMap((a) => a.tags).join(', ') || 'untagged images'})`,
      );
    }
  }
  const contexts = new Map<string, PreparedPlatform['contexts'] extends Map<string, infer V> ? V : never>();
  for (const img of platform.images) {
    if (img.source !== 'build') continue;
    const dockerfile = join(img.context, img.dockerfile ?? 'Dockerfile');
    if (!existsSync(img.context) || !statSync(img.context).isDirectory())
      problems.push(`image ${img.ref}: build context ${img.context} is not a directory`);
    else if (!existsSync(dockerfile)) problems.push(`image ${img.ref}: no ${dockerfile}`);
    else
      contexts.set(img.ref, {
        dir: img.context,
        ...(await packContext(img.context)),
        ...(img.dockerfile ? { dockerfile: img.dockerfile } : {}),
      });
  }
  const fail = () => {
    if (problems.length)
      throw new PlatformPrepareError(`images (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
  };
  // Local problems first: a broken inventory never waits on a git remote.
  fail();
  const apps = await prepareApps(platform, problems);
  fail();
  return { platform, secrets, archives, contexts, files: rendered.files, apps };
}

/**
 * Each service's application source, fetched once per (repository, ref) per run. Its Dockerfile
 * must build FROM the service's declared image: that image's needs (uid, paths, port) are what
 * the platform provides for it, and the image itself is what the platform loads or pulls.
 */
async function prepareApps(platform: PlatformModel, problems: string[]): Promise<Map<string, AppSource>> {
  const apps = new Map<string, AppSource>();
  const builds = allServices(platform).filter((s) => s.build);
  if (builds.length === 0) return apps;
  const cache = await privateTempDir();
  // Every (repository, ref) resolved at once: each is mostly waiting for its remote.
  const fetched = new Map<string, Promise<AppSource>>();
  const keyOf = (b: NonNullable<(typeof builds)[number]['build']>) => [b.git, b.ref, b.dockerfile].join('\0');
  for (const svc of builds) {
    const key = keyOf(svc.build!);
    if (!fetched.has(key)) {
      const pending = fetchAppSource(svc.build!, cache);
      pending.catch(() => undefined); // awaited (and reported) in the loop below
      fetched.set(key, pending);
    }
  }
  for (const svc of builds) {
    const b = svc.build!;
    const key = keyOf(b);
    const name = `${svc.stack}/${svc.key}`;
    try {
      const src = await fetched.get(key)!;
      if (src.from && src.from !== svc.image)
        problems.push(
          `${name}: ${b.dockerfile} of ${b.git}#${b.ref} (${src.commit.slice(0, 12)}) builds FROM ${src.from}, the inventory says image ${svc.image}`,
        );
      else apps.set(name, src);
    } catch (err) {
      if (!(err instanceof AppSourceError)) throw err;
      problems.push(`${name}: ${err.message}`);
    }
  }
  return apps;
}

/** A build context as a reproducible tar (sorted, zero mtimes and owners) and its sha256. */
async function packContext(dir: string): Promise<{ tar: string; hash: string }> {
  // One tar per context directory, replaced on every run (no temp files pile up), in a private directory.
  const tar = join(await privateTempDir(), `context-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}.tar`);
  const args = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', tar, '.'];
  const r = await runOnControl('tar', args);
  if (r.exitCode !== 0) throw new Error(`tar ${args.join(' ')} (build context ${dir}) failed ${controlFailure(r)}`);
  const hash = createHash('sha256')
    .update(await readFile(tar))
    .digest('hex')
    .slice(0, 16);
  return { tar, hash };
}

/**
 * $TMPDIR/hostkit-<uid>, mode 0700 and ours: a build context may hold anything of the project,
 * and a directory another user prepared (or a symlink) is refused rather than trusted.
 */
export async function privateTempDir(base: string = tmpdir()): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const dir = join(base, `hostkit-${uid}`);
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new Error(`${dir} must be a directory of uid ${uid} with mode 0700 (found mode ${(st.mode & 0o777).toString(8)}, uid ${st.uid})`);
  return dir;
}
