import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/index.js';
import { createAppRepo, DRUPAL_SETTINGS, drupalSiteFiles, pythonAppFiles, repoRoot, type AppRepo } from '../../src/sandbox/index.js';
import { startTarget, type Target } from './harness.js';
import { changedCount, containerStates, drifts, parseReport, runScript, type Report } from './platform-harness.js';
import { installerSiteImage, pythonFlaskImage } from './app-images.js';

/**
 * Issue 13, application code, on a real Debian 13 target: the Python stack of inventory.yaml
 * (its commands, healthchecks, volumes and secrets as declared) built from a local git
 * repository standing in for its remote (dev follows `develop`, tst `main`), and a Drupal-like
 * site that redirects to its installer until its repository delivers settings.php. The control
 * machine fetches the repositories and sends each commit as the build context; the target has no
 * route to them. In order: apply, apply again (0 changed), --check (the installer is the only
 * drift), new commits (drift names the commits; only those services rebuilt and recreated), clean.
 */
describe('application code from git, and no public installer (roles/stacks.mjs)', () => {
  let target: Target;
  let dir: string;
  let inventory: string;
  let app: AppRepo;
  let site: AppRepo;
  const stacks = (args: string[]) => runScript('roles/stacks.mjs', args, [inventory]);
  const timings: Record<string, number> = {};
  const secs = (ms: number) => Math.round(ms / 100) / 10;
  /** The page a container on the Python stack's network (the one NPM joins) gets from a service, by its name. */
  const page = async (container: string) =>
    (
      await target.exec(
        `docker run --rm --network python-stack_python-network python:3.12.8-slim python -c "import urllib.request; print(urllib.request.urlopen('http://${container}:5000/', timeout=5).read().decode(), end='')"`,
      )
    ).stdout.trim();

  beforeAll(async () => {
    const t0 = performance.now();
    dir = await mkdtemp(join(tmpdir(), 'hostkit-appcode-'));
    const [t, python, siteBase] = await Promise.all([startTarget(), pythonFlaskImage(), installerSiteImage()]);
    target = t;
    const install = await target.exec(
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null 2>&1 && docker compose version',
    );
    if (install.exitCode !== 0) throw new Error(`installing docker in the target failed: ${install.stderr}`);
    timings.setupS = secs(performance.now() - t0);

    app = await createAppRepo(dir, 'python-apps', pythonAppFiles('hello from main\n'));
    await app.commit({}, 'develop starts at main');
    await execGit(app.dir, ['branch', 'develop']);
    site = await createAppRepo(dir, 'site', drupalSiteFiles({ installed: false }));

    // The Python stack exactly as inventory.yaml declares it, its repository pointed at the local one.
    const real = await loadInventory([join(repoRoot(), 'inventory.yaml')]);
    const py = structuredClone(real.doc.stacks!['python-stack']!);
    py.services.dev!.build = { git: app.url, ref: 'develop' };
    py.services.tst!.build = { git: app.url, ref: 'main' };
    const secrets = join(dir, 'secrets.yaml');
    await writeFile(secrets, stringify({ python_dev_secret_key: 'dev-secret-123', python_tst_secret_key: 'tst-secret-456' }), {
      mode: 0o600,
    });
    inventory = join(dir, 'inventory.yaml');
    await writeFile(
      inventory,
      stringify({
        all: {
          vars: { user: 'root', identity_file: target.keyFile, known_hosts: target.knownHosts, host_key_checking: 'strict' },
          hosts: { [target.name]: { address: target.address, port: target.port } },
        },
        secrets: { file: secrets },
        compose: { wait_timeout: 120 },
        images: {
          'python:3.12.8-slim': { source: 'archive', archive: python.tar, archive_tag: python.ref },
          'drupal:10.3.10-apache': { source: 'archive', archive: siteBase.tar, archive_tag: siteBase.ref },
        },
        stacks: {
          'python-stack': py,
          'site-stack': {
            layer: 'development',
            networks: { 'site-network': { name: 'site-stack_site-network' } },
            services: {
              web: {
                container_name: 'site-web',
                image: 'drupal:10.3.10-apache',
                build: { git: site.url, ref: 'main' },
                installer: { port: 80, redirect: '/core/install.php' },
                expose: [80],
                networks: ['site-network'],
                domains: ['site.example.org'],
                // Like the inventory's `curl -fsS`: a redirect to the installer passes it.
                healthcheck: { test: ['CMD-SHELL', "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 80 | grep -q '^HTTP/'"] },
              },
            },
          },
        },
      }),
    );
  });
  afterAll(async () => {
    console.log(`[app-code timings] ${JSON.stringify(timings)}`);
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let ids: Map<string, { id: string; state: string; health: string }>;

  it('apply builds each app image from its commit and serves the Flask page by name; again: 0 changed', async () => {
    const first = await stacks(['--json']);
    timings.applyS = secs(first.durationMs);
    expect(first.exitCode, first.stderr.slice(-3000)).toBe(0);
    const report = parseReport(first.stdout);
    const status = (id: string) => report.hosts[0]!.resources.find((r) => r.id === id)?.status;
    for (const tag of ['hostkit-app/python-dev:git', 'hostkit-app/python-tst:git', 'hostkit-app/site-web:git'])
      expect(status(`app image ${tag}`), tag).toBe('changed');
    // The uninstalled site is healthy by its healthcheck, and the audit says why that is not enough.
    const audit = report.hosts[0]!.resources.find((r) => r.id === 'installer check site-web')!;
    expect(audit.status).toBe('ok');
    expect(JSON.stringify(audit)).toContain(
      'site-web (site-stack/web) is not installed: GET / of site-web:80 (Host: site.example.org) answers 302 to /core/install.php',
    );

    ids = await containerStates((c) => target.exec(c));
    for (const c of ['python-dev', 'python-tst', 'site-web']) expect(ids.get(c), c).toMatchObject({ state: 'running', health: 'healthy' });
    const head = await app.head();
    expect(
      (
        await target.exec(
          `docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' hostkit-app/python-dev:git`,
        )
      ).stdout.trim(),
    ).toBe(head);
    // A real request from the network NPM joins, to the service by name, answered by the app's own code.
    expect(await page('python-dev')).toBe('hello from main');
    expect(await page('python-tst')).toBe('hello from main');
    // The code came in the image, not through a mount; the instance folder is the data mount.
    expect((await target.exec('docker exec python-dev ls /app')).stdout.split('\n')).toEqual(
      expect.arrayContaining(['app.py', 'instance', 'requirements.txt']),
    );

    const second = await stacks(['--json']);
    timings.secondApplyS = secs(second.durationMs);
    expect(second.exitCode, second.stderr.slice(-3000)).toBe(0);
    expect(changedCount(parseReport(second.stdout)), JSON.stringify(drifts(parseReport(second.stdout)))).toBe(0);
  });

  it('--check: the uninstalled site is drift (exit 2), named with its request and answer; nothing else', async () => {
    const check = await stacks(['--check', '--json']);
    timings.checkS = secs(check.durationMs);
    expect(check.exitCode, check.stderr.slice(-2000)).toBe(2);
    expect(drifts(parseReport(check.stdout))).toEqual([
      'site-web (site-stack/web) is not installed: GET / of site-web:80 (Host: site.example.org) answers 302 to /core/install.php (a public installer); install the application (its database and code), its healthcheck passes anyway',
    ]);
  });

  it('new commits: --check names the deployed and the new commit; apply rebuilds and recreates only those services', async () => {
    const oldApp = await app.head();
    const oldSite = await site.head();
    await execGit(app.dir, ['checkout', '-q', 'develop']);
    const newApp = await app.commit({ 'app.py': pythonAppFiles('hello from develop\n')['app.py']! }, 'develop: new page');
    const newSite = await site.commit({ [DRUPAL_SETTINGS]: drupalSiteFiles({ installed: true })[DRUPAL_SETTINGS]! }, 'site installed');

    const check = await stacks(['--check', '--json']);
    expect(check.exitCode, check.stderr.slice(-2000)).toBe(2);
    const found = drifts(parseReport(check.stdout) as Report);
    expect(found).toEqual(
      expect.arrayContaining([
        `image hostkit-app/python-dev:git of python-stack/dev was built from commit ${oldApp.slice(0, 12)}, ${app.url}#develop is ${newApp.slice(0, 12)}: rebuild`,
        `image hostkit-app/site-web:git of site-stack/web was built from commit ${oldSite.slice(0, 12)}, ${site.url}#main is ${newSite.slice(0, 12)}: rebuild`,
      ]),
    );
    expect(found.join('\n')).not.toContain('python-tst');

    const apply = await stacks(['--json']);
    timings.rebuildS = secs(apply.durationMs);
    expect(apply.exitCode, apply.stderr.slice(-3000)).toBe(0);
    const changed = parseReport(apply.stdout)
      .hosts[0]!.resources.filter((r) => r.status === 'changed')
      .map((r) => r.id);
    expect(changed.sort()).toEqual(
      ['app image hostkit-app/python-dev:git', 'app image hostkit-app/site-web:git', 'stack python-stack', 'stack site-stack'].sort(),
    );
    const after = await containerStates((c) => target.exec(c));
    expect(after.get('python-tst')!.id, 'python-tst is not recreated').toBe(ids.get('python-tst')!.id);
    expect(after.get('python-dev')!.id).not.toBe(ids.get('python-dev')!.id);
    expect(after.get('site-web')!.id).not.toBe(ids.get('site-web')!.id);
    expect(await page('python-dev')).toBe('hello from develop');
    expect(await page('python-tst')).toBe('hello from main');

    const clean = await stacks(['--check', '--json']);
    expect(clean.exitCode, JSON.stringify(drifts(parseReport(clean.stdout)))).toBe(0);
  });
});

async function execGit(dir: string, args: string[]): Promise<void> {
  const { execa } = await import('execa');
  await execa('git', ['-C', dir, ...args]);
}
