import { describe, expect, it } from 'vitest';
import {
  runRole,
  useTarget,
  SUITES,
  sshTo,
  defaultPlatformYaml,
  parseReport as report,
  changedCount as changed,
  drifts as drift,
  reachable,
} from './harness.js';

describe.each(SUITES)('firewall and data roles on a fresh $name sandbox server', ({ suite }) => {
  const sb = useTarget({ suite });
  const liveState = async () =>
    (await sb.target.exec('ufw status verbose; cat /etc/ufw/user.rules /etc/ufw/user6.rules; stat -c "%n %a %U %G" /mnt/data /mnt/data/*'))
      .stdout;

  it('applies, then a second apply changes nothing and --check exits 0', async () => {
    for (const role of ['firewall', 'data']) {
      const first = await runRole(role, ['--json'], { inventory: sb.inventory });
      expect(first.exitCode, first.stderr).toBe(0);
      expect(changed(report(first.stdout))).toBeGreaterThan(0);
      const second = await runRole(role, ['--json'], { inventory: sb.inventory });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(changed(report(second.stdout))).toBe(0);
      const check = await runRole(role, ['--check'], { inventory: sb.inventory });
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    }
    const status = (await sb.target.exec('ufw status verbose')).stdout;
    expect(status).toContain('Status: active');
    expect(status).toMatch(/Default: deny \(incoming\), allow \(outgoing\)/);
    expect(status).toMatch(/^22\/tcp\s+ALLOW IN\s+Anywhere\s+# ssh$/m);
    expect(status).toMatch(/^80\/tcp \(v6\)\s+ALLOW IN\s+Anywhere \(v6\)\s*$/m);
    expect((await sb.target.exec('stat -c "%a %U:%G" /mnt/data/postgres-shared')).stdout.trim()).toBe('700 root:root');
  });

  it('blocks an undeclared listener and lets the declared one through (real packets)', async () => {
    await sb.target.exec('for p in 80 8080; do (setsid python3 -m http.server $p >/dev/null 2>&1 &); done; sleep 1');
    // Inside the target both answer: the difference below is the firewall, not the listeners.
    expect(
      (await sb.target.exec('python3 -c "import socket; [socket.create_connection((\'127.0.0.1\', p), 2) for p in (80, 8080)]"')).exitCode,
    ).toBe(0);
    expect(await reachable(sb.target.containerIp, 80)).toBe(true);
    expect(await reachable(sb.target.containerIp, 8080)).toBe(false);
  });

  it('finds hand-made drift, --dry-run changes nothing, apply repairs it', async () => {
    await sb.target.exec('ufw allow 8080 && ufw delete allow proto tcp from any to any port 80 && chmod 777 /mnt/data/nginx');
    const check = await runRole('firewall', ['--check', '--json'], { inventory: sb.inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      'add rule allow 80/tcp (v4+v6)',
      'delete undeclared rule allow 8080 (v4+v6)',
      // The exposure audit names what the hand-made rule really exposes.
      expect.stringMatching(
        /^python3 \(pid \d+\) listens on 0\.0\.0\.0:8080\/tcp: reachable from outside \(ufw allows 8080\), firewall\.rules does not allow 8080\/tcp$/,
      ),
    ]);
    const dataCheck = await runRole('data', ['--check'], { inventory: sb.inventory });
    expect(dataCheck.exitCode).toBe(2);
    expect(dataCheck.stdout).toContain('mode of /mnt/data/nginx 0777 -> 0750');

    const before = await liveState();
    const dry = await runRole('firewall', ['--dry-run'], { inventory: sb.inventory });
    const dryData = await runRole('data', ['--dry-run'], { inventory: sb.inventory });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('add rule allow 80/tcp (v4+v6)');
    expect(dry.stdout).toContain('delete undeclared rule allow 8080 (v4+v6)');
    expect(dryData.stdout).toContain('mode of /mnt/data/nginx 0777 -> 0750');
    expect(await liveState()).toBe(before);

    expect((await runRole('firewall', [], { inventory: sb.inventory })).exitCode).toBe(0);
    expect((await runRole('data', [], { inventory: sb.inventory })).exitCode).toBe(0);
    expect((await runRole('firewall', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
    expect((await runRole('data', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
    expect(await reachable(sb.target.containerIp, 80)).toBe(true);
    expect(await reachable(sb.target.containerIp, 8080)).toBe(false);
  });

  it('refuses a firewall that would lock out SSH, changes nothing, SSH keeps working', async () => {
    const before = await liveState();
    const noSsh = defaultPlatformYaml().replace(/^\s+- \{ port: 22, proto: tcp, comment: ssh \}\n/m, '');
    expect(noSsh).not.toContain('port: 22');
    const inventory = await sb.writeInventory({ platformYaml: noSsh });
    const run = await runRole('firewall', [], { inventory });
    expect(run.exitCode).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/refused: the declared firewall would lock out SSH.*no rule allows 22\/tcp/s);
    expect(await liveState()).toBe(before);
    expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);
    await sb.writeInventory();
  });

  it('works the same as a sudo user (become), the guard seeing the session through sudo', async () => {
    const inventory = await sb.writeInventory({ user: 'admin' });
    await sb.target.exec('ufw allow 8080');
    const check = await runRole('firewall', ['--check'], { inventory });
    expect(check.exitCode).toBe(2);
    const apply = await runRole('firewall', [], { inventory });
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect((await runRole('firewall', ['--check'], { inventory })).exitCode).toBe(0);
    await sb.writeInventory();
  });
});
