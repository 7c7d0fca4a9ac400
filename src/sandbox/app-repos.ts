import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { allServices, type PlatformModel } from '../platform/model.js';

/**
 * Local git repositories standing in for the applications' remotes (the inventory's placeholder
 * URLs are never contacted): the control machine fetches them like any remote (file://) and
 * sends the commit as the build context, exactly as it would from the real Gitea.
 *
 *   const repo = await createAppRepo(dir, 'python-app', pythonAppFiles('hello'));
 *   await repo.commit({ 'app.py': ... }, 'new page');   // a new commit on main
 */
export interface AppRepo {
  /** file:///... */
  url: string;
  dir: string;
  /** Writes (or, with null, deletes) files, commits on main and returns the new commit. */
  commit(files: Record<string, string | null>, message: string): Promise<string>;
  head(): Promise<string>;
}

const GIT_ID = ['-c', 'user.name=hostkit sandbox', '-c', 'user.email=sandbox@hostkit.invalid', '-c', 'commit.gpgsign=false'];

// Fixed dates: the same files, parent and message give the same commit, so a second
// `provision.mjs --sandbox` (which creates the repositories again) finds the deployed commits
// current instead of rebuilding every app image.
const GIT_DATES = { GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z' };

async function git(dir: string, args: string[]): Promise<string> {
  const r = await execa('git', [...GIT_ID, '-C', dir, ...args], { reject: false, stdin: 'ignore', env: { LC_ALL: 'C', ...GIT_DATES } });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} in ${dir} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
  return String(r.stdout).trim();
}

export async function createAppRepo(parent: string, name: string, files: Record<string, string>): Promise<AppRepo> {
  const dir = join(parent, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  const repo: AppRepo = {
    url: `file://${dir}`,
    dir,
    async commit(changes, message) {
      for (const [path, content] of Object.entries(changes)) {
        const file = join(dir, path);
        if (content === null) await rm(file, { force: true });
        else {
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, content);
        }
      }
      await git(dir, ['add', '-A']);
      await git(dir, ['commit', '-q', '--allow-empty', '-m', message]);
      return repo.head();
    },
    head: () => git(dir, ['rev-parse', 'HEAD']),
  };
  await repo.commit(files, `${name}: initial`);
  return repo;
}

/**
 * A real Flask app (the contract with the Python stand-in, a real CPython with Flask): its page
 * says `page`; requirements.txt names flask (already installed, so pip needs no network). The
 * inventory's own command runs it from /app; instance data is the mounted /app/instance.
 */
export function pythonAppFiles(page: string, base = 'python:3.12.8-slim'): Record<string, string> {
  return {
    Dockerfile: `FROM ${base}\nWORKDIR /app\nCOPY . /app\n`,
    'requirements.txt': 'flask\n',
    'app.py': [
      'from flask import Flask',
      '',
      'app = Flask(__name__)',
      '',
      '',
      '@app.get("/")',
      'def index():',
      `    return ${JSON.stringify(page)}`,
      '',
    ].join('\n'),
  };
}

/** Where the Drupal stand-in looks for its site: with this file the site is installed (200), without it 302 to the installer. */
export const DRUPAL_SETTINGS = 'web/sites/default/settings.php';

/** A Drupal site's repository: its code under web/, copied over core; `installed` adds settings.php. */
export function drupalSiteFiles(opts: { installed: boolean; base?: string }): Record<string, string> {
  return {
    Dockerfile: `FROM ${opts.base ?? 'drupal:10.3.10-apache'}\nCOPY web/ /opt/drupal/web/\n`,
    'web/modules/custom/README.txt': 'Custom modules of the site.\n',
    ...(opts.installed ? { [DRUPAL_SETTINGS]: "<?php\n$settings['hash_salt'] = 'sandbox';\n" } : {}),
  };
}

/**
 * The overlay that points every `build` of the platform at a local repository: one Flask app for
 * the python:* services and one installed Drupal site for the drupal:* ones (others: a repository
 * with only `FROM <image>`), each created under `dir`.
 */
export async function appRepoOverlay(platform: PlatformModel, dir: string): Promise<Record<string, unknown> | undefined> {
  const built = allServices(platform).filter((s) => s.build);
  if (built.length === 0) return undefined;
  const repos = new Map<string, AppRepo>();
  const stacks: Record<string, { services: Record<string, { build: { git: string; ref: string; dockerfile: null } }> }> = {};
  for (const svc of built) {
    let repo = repos.get(svc.image);
    if (!repo) {
      const slug = svc.image.replace(/[^A-Za-z0-9]+/g, '-');
      const files = svc.image.startsWith('python:')
        ? pythonAppFiles(`hostkit sandbox app (${svc.image})\n`, svc.image)
        : svc.image.startsWith('drupal:')
          ? drupalSiteFiles({ installed: true, base: svc.image })
          : { Dockerfile: `FROM ${svc.image}\n` };
      repo = await createAppRepo(join(dir, 'app-repos'), slug, files);
      repos.set(svc.image, repo);
    }
    (stacks[svc.stack] ??= { services: {} }).services[svc.key] = { build: { git: repo.url, ref: 'main', dockerfile: null } };
  }
  return { stacks };
}
