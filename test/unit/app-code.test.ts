import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, InventoryError, loadInventory, parseInventory } from '../../src/inventory/index.js';
import { allServices, platformOf, runImage } from '../../src/platform/model.js';
import { finalFrom, fetchAppSource } from '../../src/platform/app-source.js';
import { PlatformPrepareError, preparePlatform } from '../../src/platform/prepare.js';
import { stackResources } from '../../src/roles/stacks.js';
import type { AppImage } from '../../src/resources/app-image.js';
import type { InstallerCheck } from '../../src/resources/installer-check.js';
import type { StackUp } from '../../src/resources/stack-up.js';
import { createAppRepo, drupalSiteFiles, pythonAppFiles, type AppRepo } from '../../src/sandbox/app-repos.js';
import { repoRoot } from '../../src/sandbox/paths.js';

/** Application code from git (issue 13): the inventory fields, the control machine's side, the role's wiring. */

const HOSTS = 'all:\n  hosts:\n    web1: { address: 10.0.0.1 }\n';
const stack = (web: string) =>
  `${HOSTS}stacks:\n  site:\n    layer: development\n    networks: { n: { name: site_n } }\n    services:\n      web:\n        container_name: site-web\n        image: "drupal:10.3.10-apache"\n        expose: [80]\n        networks: [n]\n${web}`;

function problems(text: string): string[] {
  try {
    parseInventory(text, 'inv.yaml');
    return [];
  } catch (err) {
    if (err instanceof InventoryError) return err.problems.map(formatProblem);
    throw err;
  }
}

describe('inventory: build and installer', () => {
  it('accepts the repository forms the control machine can fetch, with a ref', () => {
    for (const git of [
      'https://git.0kt.ru/0kt/seller1.git',
      'https://deploy@git.example.org:8443/a/b.git',
      'ssh://git@git.0kt.ru:2222/0kt/seller1.git',
      'git@git.0kt.ru:0kt/seller1.git',
      'file:///srv/git/site.git',
      '/srv/git/site.git',
    ])
      expect(problems(stack(`        build: { git: "${git}", ref: main }\n`)), git).toEqual([]);
    for (const ref of ['main', 'release/1.2', 'v1.0.0', '0123456789abcdef0123456789abcdef01234567'])
      expect(problems(stack(`        build: { git: /srv/site.git, ref: "${ref}" }\n`)), ref).toEqual([]);
  });

  it('refuses passwords in URLs, option-like and unsafe values, refs git would refuse, a missing ref', () => {
    const at = (build: string) =>
      problems(stack(`        build: ${build}\n`)).map((p) => p.replace(/: expected.*/, '').replace(/^(inv\.yaml:\d+):\d+/, '$1'));
    for (const git of [
      'https://u:secret@git.0kt.ru/a.git',
      '-uhttps://x/a',
      'https://x/a b',
      'ext::sh -c id',
      'http://git.0kt.ru/a.git',
      'x',
    ])
      expect(at(`{ git: "${git}", ref: main }`), git).toEqual(['inv.yaml:14: stacks.site.services.web.build.git']);
    for (const ref of ['-f', 'a..b', 'main.lock', 'a//b', 'HEAD@{1}', 'main/', 'refs/remotes/origin/main', 'a b', ''])
      expect(at(`{ git: /srv/a.git, ref: "${ref}" }`), ref).toEqual(['inv.yaml:14: stacks.site.services.web.build.ref']);
    expect(problems(stack('        build: { git: /srv/a.git }\n'))[0]).toBe(
      'inv.yaml:14:16: stacks.site.services.web.build: missing required key "ref" (expected a string)',
    );
    expect(at('{ git: /srv/a.git, ref: main, dockerfile: ../Dockerfile }')).toEqual([
      'inv.yaml:14: stacks.site.services.web.build.dockerfile',
    ]);
  });

  it('the installer check names a port of the service', () => {
    expect(problems(stack('        installer: { port: 80, redirect: /core/install.php }\n'))).toEqual([]);
    expect(problems(stack('        installer: { port: 8080, redirect: /core/install.php }\n'))).toEqual([
      'inv.yaml:14:28: stacks.site.services.web.installer.port: port 8080 is not a port of the service (expose/ports: 80)',
    ]);
  });

  it('the model: compose runs hostkit-app/<container>:git, the upstream image stays the service image', () => {
    const p = platformOf(parseInventory(stack('        build: { git: /srv/a.git, ref: main }\n'), 'inv.yaml'));
    const web = allServices(p)[0]!;
    expect(web.image).toBe('drupal:10.3.10-apache');
    expect(web.build).toEqual({ git: '/srv/a.git', ref: 'main', dockerfile: 'Dockerfile', tag: 'hostkit-app/site-web:git' });
    expect(runImage(web)).toBe('hostkit-app/site-web:git');
    // The upstream image is still provided (the build starts FROM it).
    expect(p.images.map((i) => i.ref)).toEqual(['drupal:10.3.10-apache']);
  });

  it('inventory.yaml: the Python apps and the five Drupal sites come from their repositories; the sites are checked for their installer', async () => {
    const p = platformOf(await loadInventory([join(repoRoot(), 'inventory.yaml')]));
    const built = allServices(p).filter((s) => s.build);
    expect(built.map((s) => s.containerName).sort()).toEqual(
      ['commerce-web', 'myshop-web', 'python-dev', 'python-tst', 'seller1-dev-web', 'seller1-prod-web', 'varbase-web'].sort(),
    );
    for (const s of built) expect(s.build!.git).toMatch(/^https:\/\/git\.0kt\.ru\/0kt\/[a-z0-9-]+\.git$/);
    expect(
      allServices(p)
        .filter((s) => s.installer)
        .map((s) => s.containerName)
        .sort(),
    ).toEqual(
      built
        .filter((s) => s.image.startsWith('drupal:'))
        .map((s) => s.containerName)
        .sort(),
    );
    // The Python code is in the image now: the data mount no longer hides /app.
    for (const s of built.filter((x) => x.image.startsWith('python:'))) expect(s.volumes.map((v) => v.target)).toEqual(['/app/instance']);
  });
});

describe('the control machine: ref -> commit -> context', () => {
  let dir: string;
  let repo: AppRepo;
  let first: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-app-source-'));
    repo = await createAppRepo(dir, 'python-app', pythonAppFiles('hello 1\n'));
    first = await repo.head();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a sandbox repository created again with the same files has the same commit (a second --sandbox run rebuilds nothing)', async () => {
    const again = await createAppRepo(join(dir, 'again'), 'python-app', pythonAppFiles('hello 1\n'));
    expect(await again.head()).toBe(first);
    expect(await (await createAppRepo(join(dir, 'other'), 'python-app', pythonAppFiles('hello 2\n'))).head()).not.toBe(first);
  });

  it('fetches the ref, resolves it to its commit and archives that commit once', async () => {
    const cache = join(dir, 'cache');
    const src = await fetchAppSource({ git: repo.url, ref: 'main', dockerfile: 'Dockerfile' }, cache);
    expect(src).toMatchObject({ git: repo.url, ref: 'main', commit: first, dockerfile: 'Dockerfile', from: 'python:3.12.8-slim' });
    expect(src.tar).toBe(join(cache, `app-${first}.tar`));
    const list = (await execa('tar', ['-tf', src.tar])).stdout.split('\n').sort();
    expect(list).toEqual(['Dockerfile', 'app.py', 'requirements.txt']);
    // A new commit on the branch: a new commit and context; the old ref by commit still resolves.
    const second = await repo.commit({ 'app.py': pythonAppFiles('hello 2\n')['app.py']! }, 'page 2');
    const again = await fetchAppSource({ git: repo.url, ref: 'main', dockerfile: 'Dockerfile' }, cache);
    expect(again.commit).toBe(second);
    expect(again.tar).not.toBe(src.tar);
    const pinned = await fetchAppSource({ git: repo.url, ref: first, dockerfile: 'Dockerfile' }, cache);
    expect(pinned.commit).toBe(first);
    // A ref that still names an archived commit: answered from the remote's ref advertisement and
    // the commit's record, without the cache repository (removed here) or any fetch.
    await rm(join(cache, 'git'), { recursive: true, force: true });
    expect(await fetchAppSource({ git: repo.url, ref: 'main', dockerfile: 'Dockerfile' }, cache)).toEqual(again);
    expect(await fetchAppSource({ git: repo.url, ref: 'refs/heads/main', dockerfile: 'Dockerfile' }, cache)).toMatchObject({
      commit: second,
    });
    // ...and a new commit on the branch is seen at once (the ref is asked on every run).
    const third = await repo.commit({ 'app.py': pythonAppFiles('hello 3\n')['app.py']! }, 'page 3');
    expect((await fetchAppSource({ git: repo.url, ref: 'main', dockerfile: 'Dockerfile' }, cache)).commit).toBe(third);
  });

  it('prepare: a Dockerfile FROM another image, an unknown ref, a missing Dockerfile are errors before any host', async () => {
    const site = await createAppRepo(dir, 'site', drupalSiteFiles({ installed: false, base: 'drupal:10.2.0-apache' }));
    const inv = `${HOSTS}stacks:\n  app:\n    layer: development\n    networks: { n: { name: app_n } }\n    services:\n      web: { container_name: app-web, image: "drupal:10.3.10-apache", networks: [n], build: { git: "${site.url}", ref: main } }\n      py: { container_name: app-py, image: "python:3.12.8-slim", networks: [n], build: { git: "${repo.url}", ref: nosuchbranch } }\n      py2: { container_name: app-py2, image: "python:3.12.8-slim", networks: [n], build: { git: "${repo.url}", ref: main, dockerfile: web.Dockerfile } }\n`;
    const err = await preparePlatform(platformOf(parseInventory(inv, 'inv.yaml'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformPrepareError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^images \(3 problems\):/);
    expect(msg).toMatch(
      /app\/web: Dockerfile of file:\/\/\S+#main \([0-9a-f]{12}\) builds FROM drupal:10\.2\.0-apache, the inventory says image drupal:10\.3\.10-apache/,
    );
    expect(msg).toMatch(/app\/py: git fetch file:\/\/\S+#nosuchbranch failed \(exit 128\): .*nosuchbranch/);
    expect(msg).toMatch(/app\/py2: file:\/\/\S+#main \([0-9a-f]{12}\): web\.Dockerfile failed \(exit 128\)/);
  });

  it('finalFrom: the last stage, flags and line continuations skipped', () => {
    expect(finalFrom('FROM node:20 AS build\nRUN x\nfrom --platform=linux/amd64 \\\n  python:3.12.8-slim\nCMD ["x"]\n')).toBe(
      'python:3.12.8-slim',
    );
    expect(finalFrom('# no stage\n')).toBeUndefined();
  });
});

describe('the stacks role: application images and installer checks', () => {
  it('builds each app image after the image it starts FROM, brings the stack up after it, checks installers last', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-app-wiring-'));
    try {
      const site = await createAppRepo(dir, 'site', drupalSiteFiles({ installed: true }));
      const inv = `${stack(`        build: { git: "${site.url}", ref: main }\n        installer: { port: 80, redirect: /core/install.php }\n        domains: [site.example.org]\n`)}`;
      const prepared = await preparePlatform(platformOf(parseInventory(inv, 'inv.yaml')));
      const resources = stackResources(prepared);
      const ids = resources.map((r) => r.id);
      expect(ids).toEqual([
        'image drupal:10.3.10-apache',
        'app image hostkit-app/site-web:git',
        'directory /opt/hostkit/stacks',
        'directory /opt/hostkit/stacks/site',
        'env site',
        'compose site',
        'stack site',
        'installer check site-web',
      ]);
      const app = resources[1] as AppImage;
      expect(app.requires).toEqual(['image drupal:10.3.10-apache']);
      expect((resources[6] as StackUp).requires).toContain('app image hostkit-app/site-web:git');
      const check = resources[7] as InstallerCheck;
      expect(check.audit).toBe(true);
      expect(check.facts()[0]!.key).toBe('container.http("site-web",80,"/","site.example.org")');
      expect(app.plan({ get: () => ({ dockerInstalled: true, byTag: new Map() }) } as never)[0]!.summary).toBe(
        `image hostkit-app/site-web:git of site/web absent: build ${site.url}#main (${(await site.head()).slice(0, 12)})`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
