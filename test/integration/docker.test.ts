import { describe, expect, it } from 'vitest';
import { runRole, sshTo, useTarget, parseReport as report, changedCount as changed, drifts as drift } from './harness.js';
import { busyboxImage, loadImage } from './images.js';

/** The docker: section of the seed inventory (inventory.yaml), on a fresh Debian 13 target. */
const DOCKER_YAML = `docker:
  source: debian
  min_version: "26.0"
  compose_min_version: "2.20"
  daemon:
    log-driver: json-file
    log-opts: { max-size: "10m", max-file: "3" }
    live-restore: true
    default-address-pools:
      - { base: "172.30.0.0/16", size: 24 }
`;

describe('docker role on a fresh Debian 13 target', () => {
  const sb = useTarget({ platformYaml: DOCKER_YAML });
  const timings: Record<string, number> = {};
  const docker = (args: string[]) => runRole('docker', args, { inventory: sb.inventory });

  it('installs Docker and compose v2; a container runs from a docker-loaded image; second apply 0 changed; --check 0', async () => {
    const before = await docker(['--check', '--json']);
    expect(before.exitCode, before.stderr).toBe(2);
    expect(drift(report(before.stdout))).toContain('install docker.io, docker-cli, docker-compose');

    const first = await docker(['--json']);
    timings.apply = first.durationMs;
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(changed(report(first.stdout))).toBeGreaterThan(0);

    const compose = await sshTo(
      sb.target,
      'docker compose version --short && docker info --format "{{.LoggingDriver}} {{.LiveRestoreEnabled}}"',
    );
    expect(compose.exitCode, compose.stderr).toBe(0);
    expect(compose.stdout).toMatch(/^2\.\d+\.\d+/);
    expect(compose.stdout).toContain('json-file true'); // daemon.json is in effect
    const image = await busyboxImage();
    await loadImage(sb.target, image);
    const run = await sshTo(sb.target, `docker run --rm ${image.ref} echo hello-from-busybox`);
    expect(run.stdout.trim(), run.stderr).toBe('hello-from-busybox');

    const second = await docker(['--json']);
    timings.secondApply = second.durationMs;
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);

    const check = await docker(['--check']);
    timings.check = check.durationMs;
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/docker engine 26\.\d+\.\d+\S* \(minimum 26\.0\), compose 2\.\d+\.\d+\S* \(minimum 2\.20\)/);
  });

  it('a hand edit of daemon.json: --check exits 2 with a JSON diff, --dry-run changes nothing, apply restores it and restarts dockerd once', async () => {
    const original = (await sb.target.exec('cat /etc/docker/daemon.json')).stdout;
    await sb.target.exec(
      `python3 -c "import json; p='/etc/docker/daemon.json'; d=json.load(open(p)); d['log-opts']['max-size']='50m'; d['debug']=True; json.dump(d, open(p,'w'))"`,
    );
    const invocation = async () => (await sb.target.exec('systemctl show -p InvocationID --value docker.service')).stdout.trim();
    const before = await invocation();

    const check = await docker(['--check', '--json']);
    expect(check.exitCode).toBe(2);
    const r = report(check.stdout);
    const file = r.hosts[0]!.resources.find((x) => x.id === 'file /etc/docker/daemon.json')!;
    expect(file.changes.map((c) => c.summary)).toEqual(['/etc/docker/daemon.json differs from docker.daemon (debug, log-opts.max-size)']);
    expect(file.changes[0]!.diff).toContain('-  "debug": true,');
    expect(file.changes[0]!.diff).toContain('-    "max-size": "50m"');
    expect(file.changes[0]!.diff).toContain('+    "max-size": "10m"');
    expect(r.hosts[0]!.handlers).toEqual([{ id: 'restart docker', status: 'would-run' }]);
    const text = await docker(['--check']);
    expect(text.stdout).toContain('+    "max-size": "10m"');

    const edited = (await sb.target.exec('cat /etc/docker/daemon.json')).stdout;
    const dry = await docker(['--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('differs from docker.daemon');
    expect((await sb.target.exec('cat /etc/docker/daemon.json')).stdout).toBe(edited);
    expect(await invocation()).toBe(before);

    const since = (await sb.target.exec('date +%s')).stdout.trim();
    const apply = await docker(['--json']);
    expect(apply.exitCode, apply.stderr).toBe(0);
    expect(report(apply.stdout).hosts[0]!.handlers).toEqual([{ id: 'restart docker', status: 'ran' }]);
    expect(JSON.parse((await sb.target.exec('cat /etc/docker/daemon.json')).stdout)).toEqual(JSON.parse(original));
    expect(await invocation()).not.toBe(before);
    const starts = (
      await sb.target.exec(`journalctl -u docker.service --since @${since} -o cat | grep -c '^Started docker.service'`)
    ).stdout.trim();
    expect(starts).toBe('1');
    expect((await docker(['--check'])).exitCode).toBe(0);
  });

  it('a stopped and disabled engine is drift; apply enables and starts it', async () => {
    await sb.target.exec('systemctl disable --now docker.service docker.socket');
    const check = await docker(['--check', '--json']);
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual(
      expect.arrayContaining(['enable docker.service (disabled)', 'start docker.service (inactive)']),
    );
    const apply = await docker([]);
    expect(apply.exitCode, apply.stdout).toBe(0);
    expect((await sb.target.exec('systemctl is-enabled docker.service; systemctl is-active docker.service')).stdout).toBe(
      'enabled\nactive',
    );
    expect((await docker(['--check'])).exitCode).toBe(0);
  });

  it('below a declared minimum: --check exits 2 naming both versions, apply fails', async () => {
    const inventory = await sb.writeInventory({ platformYaml: DOCKER_YAML.replace('min_version: "26.0"', 'min_version: "99.1"') });
    const check = await runRole('docker', ['--check', '--json'], { inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      expect.stringMatching(/^docker engine 26\.\S+ is below the declared minimum 99\.1 \(docker\.min_version\)$/),
    ]);
    const apply = await runRole('docker', [], { inventory });
    expect(apply.exitCode).toBe(1);
    expect(apply.stdout + apply.stderr).toMatch(/below the declared minimum 99\.1/);
    await sb.writeInventory();
    console.log(
      `[docker role timings] apply ${(timings.apply! / 1000).toFixed(1)} s, second apply ${(timings.secondApply! / 1000).toFixed(2)} s, ` +
        `--check ${(timings.check! / 1000).toFixed(2)} s (wall, node start included)`,
    );
  });
});

// Debian 12's own docker-compose is v1, and Docker's apt repository (its Debian 12 path) cannot
// be reached from the sandbox: that path is covered by plan tests (test/unit/docker-plan.test.ts).
// On a real Debian 12 target the role refuses source "debian" before it changes anything.
describe('docker role on a fresh Debian 12 target: source debian is refused, nothing changes', () => {
  const sb = useTarget({ platformYaml: DOCKER_YAML, suite: 'bookworm' });
  it('--check and apply exit 1 naming docker.source: docker-ce; no package is installed', async () => {
    const before = (await sb.target.exec("dpkg-query -W -f='${Package}\\n' | sort | md5sum")).stdout;
    for (const args of [['--check'], []]) {
      const r = await runRole('docker', args, { inventory: sb.inventory });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toContain(
        'Debian 12 (bookworm) has no Compose v2 package (its docker-compose is v1): use docker.source: docker-ce',
      );
    }
    expect((await sb.target.exec("dpkg-query -W -f='${Package}\\n' | sort | md5sum")).stdout).toBe(before);
    expect((await sb.target.exec('test -e /etc/docker/daemon.json; echo $?')).stdout.trim()).toBe('1');
  });
});
