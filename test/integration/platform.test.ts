import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget, type Target, throughTunnel } from './harness.js';
import { formatLynis, runLynis } from '../../src/sandbox/lynis.js';
import { loadInventory } from '../../src/inventory/index.js';
import { allServices, platformOf, secretsOf, type PlatformModel } from '../../src/platform/model.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { changedCount, containerStates, drifts, parseReport, reachable, roleTimes, runScript } from './platform-harness.js';

/**
 * Issue 5, acceptance 1, 2, 3 and 5 on ONE fresh Debian 13 target: the real inventory.yaml with
 * its hosts replaced by the target and each upstream image by a busybox stand-in (archive source).
 * The tests run in order: bare-server dry-run, full provision, idempotence, reachability, drift.
 */
describe('the whole platform on a bare server (scripts/provision.mjs)', () => {
  let target: Target;
  let dir: string;
  let inv: PlatformInventory;
  let platform: PlatformModel;
  const timings: Record<string, unknown> = {};
  const provision = (args: string[]) => runScript('scripts/provision.mjs', args, inv.paths);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-platform-'));
    target = await startTarget();
    inv = await writePlatformInventory([target], dir);
    platform = platformOf(await loadInventory(inv.paths));
  });
  afterAll(async () => {
    console.log(`[platform timings] ${JSON.stringify(timings)}`);
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('5. --dry-run on the bare target lists the whole rebuild plan without failing, and changes nothing', async () => {
    const snapshot = () => target.exec('ls /opt /mnt 2>&1; command -v docker ufw fail2ban-client; dpkg -l | wc -l').then((r) => r.stdout);
    const before = await snapshot();
    const dry = await provision(['--dry-run']);
    timings.dryRunS = Math.round(dry.durationMs / 100) / 10;
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0);
    for (const stack of platform.stacks) {
      expect(dry.stdout).toContain(`create compose.yaml of ${stack.name}`);
      for (const svc of stack.services) expect(dry.stdout).toContain(`container ${svc.containerName} (service ${svc.key}) missing`);
    }
    expect(dry.stdout).toContain('image jc21/nginx-proxy-manager:2.12.3 absent: load from');
    expect(dry.stdout).toContain('connect pro-0kt-nginx to seller1-prod-stack_seller1-prod-network (proxy container not created yet)');
    expect(dry.stdout).toMatch(/install .*docker/);
    expect(await snapshot()).toBe(before);
  });

  it('1. provisions the bare server: every container running and healthy, NPM on 7 networks; again 0 changed; --check 0', async () => {
    const first = await provision(['--json']);
    timings.provisionS = Math.round(first.durationMs / 100) / 10;
    expect(first.exitCode, first.stderr.slice(-3000)).toBe(0);
    timings.provisionRoles = roleTimes(parseReport(first.stdout));

    const states = await containerStates((c) => target.exec(c));
    for (const svc of allServices(platform)) {
      const s = states.get(svc.containerName);
      expect(s?.state, svc.containerName).toBe('running');
      expect(s?.health, svc.containerName).toBe(svc.healthcheck ? 'healthy' : 'none');
    }
    expect(states.size).toBe(35);
    const npmNets = (
      await target.exec(`docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' pro-0kt-nginx`)
    ).stdout
      .trim()
      .split(' ')
      .sort();
    expect(npmNets).toEqual(platform.stacks.flatMap((s) => s.networks.map((n) => n.name)).sort());
    expect((await target.exec('ufw status')).stdout).toContain('Status: active');
    const inventory = await loadInventory(inv.paths);
    if (inventory.doc.fail2ban) expect((await target.exec('systemctl is-active fail2ban')).stdout.trim()).toBe('active');
    expect((await target.exec('stat -c "%a %U" /opt/hostkit/stacks/seller1-prod-stack/.env')).stdout.trim()).toBe('600 root');

    const second = await provision(['--json']);
    timings.secondRunS = Math.round(second.durationMs / 100) / 10;
    expect(second.exitCode, second.stderr.slice(-3000)).toBe(0);
    expect(changedCount(parseReport(second.stdout)), JSON.stringify(drifts(parseReport(second.stdout)))).toBe(0);

    const check = await runScript('scripts/audit.mjs', [], inv.paths);
    timings.checkS = Math.round(check.durationMs / 100) / 10;
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/RECAP/);
    // Secrets never appear in any output.
    const secrets = Object.values((await import('yaml')).parse(await readFile(inv.secretsFile, 'utf8')) as Record<string, string>);
    for (const out of [first.stdout, first.stderr, second.stdout, check.stdout]) for (const v of secrets) expect(out).not.toContain(v);
  });

  it('2. from outside only 22/80/443 answer; from inside NPM every web container answers by name', async () => {
    const ip = target.containerIp;
    expect(await reachable(ip, 22)).toBe(true);
    expect(await reachable(ip, 80)).toBe(true);
    expect(await reachable(ip, 443)).toBe(true);
    const internal = [...new Set([81, ...allServices(platform).flatMap((s) => [...s.expose, ...s.ports.map((p) => p.hostPort)])])].filter(
      (p) => p !== 80 && p !== 443,
    );
    expect(internal).toEqual(expect.arrayContaining([81, 5432, 3306, 6379, 9000]));
    const open = (await Promise.all(internal.map(async (p) => ((await reachable(ip, p, 1000)) ? p : undefined)))).filter(
      (p) => p !== undefined,
    );
    expect(open).toEqual([]);
    // NPM admin answers on the server's loopback only (what an SSH tunnel reaches).
    expect((await target.exec(`python3 -c "import socket; socket.create_connection(('127.0.0.1', 81), 2)"`)).exitCode).toBe(0);

    const webs = platform.stacks.flatMap((s) =>
      s.services.filter((svc) => svc.domains.length || svc.key === 'web' || s.name === 'python-stack'),
    );
    expect(webs.length).toBeGreaterThanOrEqual(8);
    for (const svc of webs) {
      const port = svc.expose[0]!;
      const r = await target.exec(`docker exec pro-0kt-nginx wget -qO- http://${svc.containerName}:${port}/`);
      // The Python apps are real Flask code built from their (local test) repositories; the rest are stand-ins.
      const want = svc.build && svc.image.startsWith('python:') ? `hostkit sandbox app (${svc.image})` : `stand-in for ${svc.image}`;
      expect(r.stdout, `${svc.containerName}:${port} from NPM: ${r.stderr}`).toContain(want);
    }
  });

  // Issue 12 on this fully provisioned target (read-only: Lynis only writes its own log and report).
  it('4. hardening: Lynis index >= 80; ip_forward still 1; apt reaches the mirror; NPM admin through the ssh -L tunnel', async () => {
    const lynis = await runLynis(target);
    console.log(`[platform.test] ${formatLynis(lynis)}`);
    timings.lynisIndex = lynis.index;
    expect(lynis.index).toBeGreaterThanOrEqual(80);
    expect((await target.exec('sysctl -n net.ipv4.ip_forward')).stdout.trim()).toBe('1');
    expect((await target.exec('apt-get update -q >/dev/null 2>&1; echo $?')).stdout.trim()).toBe('0');
    // NPM's admin port is published on the target's loopback only: the tunnel reaches it.
    expect(await throughTunnel(target)).not.toMatch(/^no answer/);
  });

  it('3. drift: each found by --check (exit 2, named) and repaired by apply without touching anything else', async () => {
    // A secret changes in the secrets file: only its users are recreated.
    const rotated = 'seller1_dev_n8n_encryption_key';
    const users = allServices(platform)
      .filter((s) => secretsOf(s).includes(rotated))
      .map((s) => s.containerName);
    expect(users).toEqual(['seller1-dev-n8n']);
    const secrets = await readFile(inv.secretsFile, 'utf8');
    await writeFile(inv.secretsFile, secrets.replace(new RegExp(`^${rotated}: .*$`, 'm'), `${rotated}: rotated-${Date.now()}`));

    const compose = '/opt/hostkit/stacks/python-stack/compose.yaml';
    await target.exec(
      [
        'docker stop -t 1 myshop-redis', // stopped
        'docker rm -f varbase-db', // removed
        'docker network disconnect commerce-stack_commerce-network pro-0kt-nginx', // NPM disconnected
        `sed -i 's/retries: 3/retries: 4/' ${compose}`, // edited by hand
        'docker run -d --name intruder --network seller1-prod-stack_seller1-prod-network --entrypoint sleep redis:7.4.1 100000', // foreign
      ].join(' && '),
    );
    const before = await containerStates((c) => target.exec(c));

    const check = await runScript('scripts/audit.mjs', ['--only', 'stacks,networks', '--json'], inv.paths);
    expect(check.exitCode, check.stderr).toBe(2);
    const found = drifts(parseReport(check.stdout));
    expect(found).toEqual(
      expect.arrayContaining([
        'container myshop-redis exited (0)',
        'container varbase-db (service db) missing',
        'connect pro-0kt-nginx to commerce-stack_commerce-network',
        'compose.yaml of python-stack differs from the inventory',
        'foreign container intruder is attached to production network seller1-prod-stack_seller1-prod-network: disconnect',
        '.env of seller1-dev-stack differs (secrets changed)',
        `container seller1-dev-n8n uses changed secret ${rotated}: would be recreated`,
      ]),
    );
    expect(found).toHaveLength(8); // the seven above + "bring python-stack up to date ..." (after its file)
    expect(check.stdout).not.toContain('rotated-');

    const apply = await provision(['--only', 'stacks,networks', '--json']);
    timings.driftRepairS = Math.round(apply.durationMs / 100) / 10;
    expect(apply.exitCode, apply.stderr.slice(-3000)).toBe(0);
    const after = await containerStates((c) => target.exec(c));

    const recreated = [...after]
      .filter(([name, s]) => before.get(name)?.id !== s.id)
      .map(([name]) => name)
      .sort();
    expect(recreated).toEqual(['seller1-dev-n8n', 'varbase-db']); // the secret's user + the removed one
    expect(after.get('myshop-redis')).toMatchObject({ id: before.get('myshop-redis')!.id, state: 'running' });
    expect(after.get('intruder')?.state).toBe('running'); // disconnected, not removed
    expect(
      (await target.exec(`docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' intruder`)).stdout.trim(),
    ).toBe('');
    expect((await target.exec(`grep -c 'retries: 4' ${compose}`)).stdout.trim()).toBe('0');
    for (const svc of allServices(platform)) expect(after.get(svc.containerName)?.state, svc.containerName).toBe('running');

    const clean = await runScript('scripts/audit.mjs', ['--only', 'stacks,networks'], inv.paths);
    expect(clean.exitCode, clean.stdout).toBe(0);
  });
});
