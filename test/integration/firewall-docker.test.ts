import { describe, expect, it } from 'vitest';
import { runRole, sshTo, useTarget, parseReport as report, changedCount as changed, drifts as drift, reachable } from './harness.js';
import { busyboxImage, loadImage, type TestImage } from './images.js';

/**
 * Docker-aware firewall on a fresh Debian 13 target with real Docker inside: published ports get
 * the host's policy, survive restarts and recreation, --check audits real exposure, and a firewall
 * apply that locks out a fresh SSH login is rolled back by the host itself (dead-man switch).
 */
const PLATFORM = (extra: { localOnly?: string; timeout?: number } = {}) => `firewall:
  defaults: { incoming: deny, outgoing: allow }
  docker: true
  deadman_timeout: ${extra.timeout ?? 60}
  local_only: [${extra.localOnly ?? '81'}]
  rules:
    - { port: 22, proto: tcp, comment: ssh }
    - 80/tcp
    - 443/tcp
docker:
  daemon:
    live-restore: true
`;

describe('docker-aware firewall on a fresh target with Docker inside', () => {
  const sb = useTarget({ platformYaml: PLATFORM() });
  let image: TestImage;
  const firewall = (args: string[], env?: Record<string, string>) =>
    runRole('firewall', args, { inventory: sb.inventory, ...(env ? { env } : {}) });
  const runDb = () =>
    sb.target.exec(
      `docker run -d --restart unless-stopped --name db --network app -p 5432:5432 ${image.ref} nc -ll -p 5432 -e /bin/echo pg-hello`,
    );
  /** From a container on the same network, through Docker's DNS: the path the stacks use. */
  const containersReachDb = async () =>
    (await sb.target.exec(`docker run --rm --network app ${image.ref} nc -w 3 db 5432 </dev/null`)).stdout.includes('pg-hello');
  const outside = async () => ({
    web: await reachable(sb.target.containerIp, 80),
    db: await reachable(sb.target.containerIp, 5432),
    ssh: await reachable(sb.target.containerIp, 22),
  });
  const EXPECTED = { web: true, db: false, ssh: true };

  it('before the firewall: Docker publishes 5432 past everything; --check exits 2 naming the container, the port and the binding', async () => {
    const dockerApply = await runRole('docker', [], { inventory: sb.inventory });
    expect(dockerApply.exitCode, dockerApply.stdout + dockerApply.stderr).toBe(0);
    image = await busyboxImage();
    await loadImage(sb.target, image);
    const up = await sb.target.exec(
      `docker network create app >/dev/null && ${'docker run -d --restart unless-stopped --name web --network app -p 80:8080'} ${image.ref} httpd -f -p 8080 >/dev/null`,
    );
    expect(up.exitCode, up.stderr).toBe(0);
    expect((await runDb()).exitCode).toBe(0);
    // `docker run -d` returns before nc listens: until db answers (a refused connect reads as closed).
    for (let i = 0; i < 30 && !(await outside()).db; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await outside()).toEqual({ web: true, db: true, ssh: true }); // the bypass is real

    const check = await firewall(['--check', '--json']);
    expect(check.exitCode, check.stderr).toBe(2);
    expect(drift(report(check.stdout))).toContain(
      'container db publishes 5432/tcp on 0.0.0.0:5432: reachable from outside (DOCKER-USER does not drop it), firewall.rules does not allow 5432/tcp',
    );
  });

  it('apply: 80 reachable and 5432 dropped from outside, containers still reach 5432, target and containers reach the mirror; idempotent; fast --check', async () => {
    const apply = await firewall(['--json']);
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    const r = report(apply.stdout);
    expect(changed(r)).toBeGreaterThan(0);
    expect(r.hosts[0]!.safeguard).toMatchObject({ status: 'confirmed' });
    expect(await outside()).toEqual(EXPECTED);
    expect(await containersReachDb()).toBe(true);
    const mirror = await sb.target.exec('apt-get update -q >/dev/null 2>&1 && echo target-ok');
    expect(mirror.stdout.trim()).toBe('target-ok');
    const host =
      "grep -rhoE 'https?://[^/ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1 | sed -E 's|https?://||'";
    const fromContainer = await sb.target.exec(`docker run --rm ${image.ref} nc -w 5 "$(${host})" 80 </dev/null && echo container-ok`);
    expect(fromContainer.stdout.trim(), fromContainer.stderr).toBe('container-ok');

    const second = await firewall(['--json']);
    expect(second.exitCode).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    const check = await firewall(['--check', '--json']);
    expect(check.exitCode, check.stdout).toBe(0);
    const host0 = report(check.stdout).hosts[0]!;
    expect(host0.stats).toEqual({ connections: 1, execs: 1 }); // every probe in ONE exec round trip
    expect(host0.resources.find((x) => x.id === 'exposure audit')!.notes![0]).toMatch(
      /2 running container\(s\), 2 published port binding\(s\)/,
    );
    console.log(`[firewall --check] engine ${host0.durationMs} ms, wall ${Math.round(check.durationMs)} ms (node start included)`);
  });

  it('survives systemctl restart docker, ufw reload, recreating the container (new IP) and a target restart', async () => {
    const ipOf = async () =>
      (await sb.target.exec("docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' db")).stdout.trim();
    const steps: [string, () => Promise<unknown>][] = [
      ['systemctl restart docker', () => sb.target.exec('systemctl restart docker && sleep 1')],
      ['ufw reload', () => sb.target.exec('ufw reload')],
      [
        'recreate db with another IP',
        async () => {
          const old = await ipOf();
          // Hold the old address with another container so db cannot get it back.
          await sb.target.exec(
            `docker rm -f db >/dev/null && docker run -d --name ipthief --network app --ip ${old} ${image.ref} sleep 3600 >/dev/null || docker run -d --name ipthief --network app ${image.ref} sleep 3600 >/dev/null`,
          );
          await runDb();
          expect(await ipOf()).not.toBe(old);
        },
      ],
      ['target restart', () => sb.restart(sb.target)],
    ];
    for (const [name, step] of steps) {
      await step();
      // Containers with a restart policy come back a moment after dockerd.
      for (let i = 0; i < 20 && !(await outside()).web; i++) await new Promise((r) => setTimeout(r, 500));
      expect({ step: name, ...(await outside()) }).toEqual({ step: name, ...EXPECTED });
      expect(await containersReachDb(), name).toBe(true);
    }
    const check = await firewall(['--check']);
    expect(check.exitCode, check.stdout).toBe(0);
  });

  it('a flushed DOCKER-USER is drift (kernel rules and exposure), --dry-run changes nothing, apply repairs', async () => {
    await sb.target.exec('iptables -F DOCKER-USER && iptables -A DOCKER-USER -j RETURN');
    expect((await outside()).db).toBe(true);
    const check = await firewall(['--check', '--json']);
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      'DOCKER-USER rules loaded in the kernel (iptables) differ from /etc/ufw/after.rules: reload ufw',
      'container db publishes 5432/tcp on 0.0.0.0:5432: reachable from outside (DOCKER-USER does not drop it), firewall.rules does not allow 5432/tcp',
    ]);
    const rules = async () => (await sb.target.exec('iptables -S DOCKER-USER; cat /etc/ufw/after.rules')).stdout;
    const before = await rules();
    expect((await firewall(['--dry-run'])).exitCode).toBe(0);
    expect(await rules()).toBe(before);
    expect((await outside()).db).toBe(true);

    const apply = await firewall([]);
    expect(apply.exitCode, apply.stdout).toBe(0);
    expect(await outside()).toEqual(EXPECTED);
    expect((await firewall(['--check'])).exitCode).toBe(0);
  });

  it('--check reports a local-only port bound to 0.0.0.0 even though the firewall drops it', async () => {
    const inventory = await sb.writeInventory({ platformYaml: PLATFORM({ localOnly: '81, 5432' }) });
    const check = await runRole('firewall', ['--check', '--json'], { inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      'container db publishes 5432/tcp on 0.0.0.0:5432: 5432/tcp is declared local-only (firewall.local_only): publish it on 127.0.0.1:5432',
    ]);
    await sb.writeInventory();
  });

  it('dead-man: an apply that drops the SSH port (test-only hook) is reverted by the host within the timeout; SSH works again; the run reports it', async () => {
    const timeout = 20;
    const inventory = await sb.writeInventory({ platformYaml: PLATFORM({ timeout }) });
    const t0 = Date.now();
    const run = await runRole('firewall', ['--json'], { inventory, env: { HOSTKIT_TEST_FIREWALL_SABOTAGE: '1' } });
    const seconds = (Date.now() - t0) / 1000;
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    const host = report(run.stdout).hosts[0]!;
    expect(host.resources.find((x) => x.id === 'TEST-ONLY ssh sabotage')!.status).toBe('changed');
    expect(host.safeguard!.status).toBe('reverted');
    expect(host.safeguard!.detail).toMatch(
      new RegExp(
        `^a fresh connection failed after the apply \\(.*ETIMEDOUT.*\\); the host restored the previous firewall rules by itself after ${timeout} s and a fresh connection works again`,
      ),
    );
    expect(host.error).toMatch(/firewall: apply reverted: /);
    // The host rolled back at the deadline; the run waited for it (connect timeout 10 s < deadline).
    expect(seconds).toBeLessThan(timeout + 20);
    const restore = (await sb.target.exec('cat /var/lib/hostkit/safeguard/*/restore.log')).stdout;
    expect(restore).toMatch(/rollback finished rc=0/);

    expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);
    expect((await sb.target.exec('ufw status')).stdout).not.toMatch(/DENY/);
    expect(await outside()).toEqual(EXPECTED);
    await sb.writeInventory();
    expect((await firewall(['--check'])).exitCode).toBe(0);
  });
});
