import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { controlFailure, runOnControl } from './control-command.js';
import type { AppBuild } from './model.js';

/**
 * An application's source as the control machine sends it: the build's ref resolved to ONE commit
 * (pinned for the run, so every host gets the same code) and that commit's tree as a tar
 * (`git archive`: the same bytes for the same commit). The server never talks to the git remote:
 * it has no route to it (and no credentials for it); the tar is its build context on stdin.
 */
export interface AppSource {
  git: string;
  ref: string;
  /** The full commit the ref named when this run fetched it. */
  commit: string;
  /** `git archive` of the commit on the control machine. */
  tar: string;
  dockerfile: string;
  /** The image of the Dockerfile's last FROM (undefined when it is built from a build argument). */
  from?: string;
}

export class AppSourceError extends Error {}

const GIT_ENV = {
  // Never wait for a password on a terminal: a missing credential is an error, not a hang.
  GIT_TERMINAL_PROMPT: '0',
  GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
  LC_ALL: 'C',
};

async function git(args: string[], what: string): Promise<string> {
  const r = await runOnControl('git', args, { env: GIT_ENV, timeout: 300_000 });
  if (r.exitCode !== 0) throw new AppSourceError(`${what} failed ${controlFailure(r)}`);
  return r.stdout.replace(/\r?\n$/, ''); // the final newline dropped, as execa did
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** The image of the last FROM of a Dockerfile (the stage that is run), flags skipped. */
export function finalFrom(dockerfile: string): string | undefined {
  const joined = dockerfile.replace(/\\\r?\n/g, ' ');
  const froms = joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^from\s/i.test(l))
    .map((l) =>
      l
        .split(/\s+/)
        .slice(1)
        .find((w) => !w.startsWith('--')),
    );
  return froms.at(-1);
}

/**
 * The commit `ref` names on the remote, by its ref advertisement (`git ls-remote`: one round trip,
 * no objects), with the rules `git fetch` resolves a short name by (exact, refs/, refs/tags/,
 * refs/heads/; a tag peeled to its commit); undefined when that is not a single clear answer, so
 * the caller fetches instead.
 */
async function remoteCommit(url: string, ref: string): Promise<string | undefined> {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  const r = await runOnControl('git', ['ls-remote', '--', url, ref], { env: GIT_ENV, timeout: 60_000 });
  if (r.exitCode !== 0) return undefined; // the fetch says why, in its own words
  const refs = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  for (const name of [ref, `refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`]) {
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  return undefined;
}

/**
 * Resolves `build.ref` of `build.git` to its commit and archives that commit's tree once
 * (`app-<commit>.tar`), in a bare cache repository under `cacheDir` (one per remote, reused
 * across runs: a new commit costs only its objects). A run whose ref still names a commit it has
 * archived asks the remote only for the ref (`ls-remote`), not for objects, and reads the
 * Dockerfile's FROM from its record beside the archive: the commit's files cannot change.
 */
export async function fetchAppSource(build: Omit<AppBuild, 'tag'>, cacheDir: string): Promise<AppSource> {
  const where = `${build.git}#${build.ref}`;
  const known = await remoteCommit(build.git, build.ref);
  const fromFile = known && join(cacheDir, `app-${known}.${hash(build.dockerfile)}.from`);
  if (known && fromFile && existsSync(join(cacheDir, `app-${known}.tar`)) && existsSync(fromFile)) {
    const from = (await readFile(fromFile, 'utf8')).trim();
    return {
      git: build.git,
      ref: build.ref,
      commit: known,
      tar: join(cacheDir, `app-${known}.tar`),
      dockerfile: build.dockerfile,
      ...(from ? { from } : {}),
    };
  }
  const repo = join(cacheDir, 'git', `${hash(build.git)}.git`);
  return oneAtATime(repo, () => fetchInto(repo, cacheDir, build, where));
}

/** Git work in one cache repository, one run of it at a time (two refs of one remote: one init, no ref-lock races). */
const busy = new Map<string, Promise<unknown>>();
function oneAtATime<T>(repo: string, work: () => Promise<T>): Promise<T> {
  const run = (busy.get(repo) ?? Promise.resolve()).then(work, work);
  const settled = run.catch(() => undefined);
  busy.set(repo, settled);
  settled.then(() => busy.get(repo) === settled && busy.delete(repo));
  return run;
}

async function fetchInto(repo: string, cacheDir: string, build: Omit<AppBuild, 'tag'>, where: string): Promise<AppSource> {
  if (!existsSync(join(repo, 'HEAD'))) {
    await mkdir(repo, { recursive: true, mode: 0o700 });
    await git(['init', '--bare', '-q', repo], `git init ${repo}`);
  }
  const pin = `refs/hostkit/pin/${hash(build.ref)}`;
  await git(
    ['-C', repo, 'fetch', '-q', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--', build.git, `+${build.ref}:${pin}`],
    `git fetch ${where}`,
  );
  const commit = (await git(['-C', repo, 'rev-parse', '--verify', '-q', `${pin}^{commit}`], `git rev-parse ${where}`)).trim();
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new AppSourceError(`git rev-parse ${where}: not a commit: ${commit}`);
  if (/^[0-9a-f]{40}$/.test(build.ref) && build.ref !== commit) throw new AppSourceError(`${where}: resolved to ${commit}`);

  const dockerfile = await git(
    ['-C', repo, 'show', `${commit}:${build.dockerfile}`],
    `${where} (${commit.slice(0, 12)}): ${build.dockerfile}`,
  );
  const final = finalFrom(dockerfile);
  const from = final && !final.includes('$') ? final : undefined;
  const tar = join(cacheDir, `app-${commit}.tar`);
  if (!existsSync(tar)) {
    // Written aside and renamed: a concurrent run never reads half a context.
    const part = `${tar}.${randomBytes(4).toString('hex')}.part`;
    try {
      await git(['-C', repo, 'archive', '--format=tar', '-o', part, commit], `git archive ${where}`);
      await rename(part, tar);
    } finally {
      await rm(part, { force: true });
    }
  }
  await writeAside(join(cacheDir, `app-${commit}.${hash(build.dockerfile)}.from`), `${from ?? ''}\n`);
  return { git: build.git, ref: build.ref, commit, tar, dockerfile: build.dockerfile, ...(from ? { from } : {}) };
}

/** Written aside and renamed, as the archive: a concurrent run reads the whole record or none. */
async function writeAside(file: string, text: string): Promise<void> {
  const part = `${file}.${randomBytes(4).toString('hex')}.part`;
  await writeFile(part, text, { mode: 0o600 });
  await rename(part, file);
}
