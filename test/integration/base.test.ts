import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { runRole, useTarget, SUITES, parseReport as report, changedCount as changed, drifts as drift } from './harness.js';

const log = (...args: unknown[]) => console.log('[base.test]', ...args);

// Only network-namespaced sysctls: the sandbox shares the kernel with the machine running the tests.
const BASE = `base:
  packages: [ca-certificates, curl, jq]
  hostname: web-base
  timezone: Europe/Moscow
  unattended_upgrades: true
  sysctl:
    net.ipv4.tcp_syncookies: 1
    net.ipv4.conf.all.accept_redirects: 0
    net.ipv4.conf.default.accept_redirects: 0
    net.ipv4.conf.all.send_redirects: 0
`;
const SYSCTLS =
  'net.ipv4.tcp_syncookies net.ipv4.conf.all.accept_redirects net.ipv4.conf.default.accept_redirects net.ipv4.conf.all.send_redirects';

describe.each(SUITES)('base role on a fresh $name sandbox server', ({ suite }) => {
  const sb = useTarget({ platformYaml: BASE, suite });
  const liveState = async () =>
    (
      await sb.target.exec(
        [
          "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' curl jq unattended-upgrades 2>&1",
          'hostname; cat /etc/hostname /etc/hosts; readlink /etc/localtime',
          'cat /etc/apt/apt.conf.d/20auto-upgrades 2>&1; cat /etc/sysctl.d/90-hostkit.conf 2>&1',
          `sysctl ${SYSCTLS}`,
          'systemctl is-active apt-daily.timer apt-daily-upgrade.timer',
        ].join('; '),
      )
    ).stdout;

  it('applies, then a second apply changes nothing and --check exits 0', async () => {
    const first = await runRole('base', ['--json'], { inventory: sb.inventory });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(changed(report(first.stdout))).toBeGreaterThan(0);
    const second = await runRole('base', ['--json'], { inventory: sb.inventory });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    const check = await runRole('base', ['--check'], { inventory: sb.inventory });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    log(
      `timings: apply ${first.durationMs.toFixed(0)} ms, second apply ${second.durationMs.toFixed(0)} ms, check ${check.durationMs.toFixed(0)} ms`,
    );

    const t = (cmd: string) => sb.target.exec(cmd).then((r) => r.stdout.trim());
    expect(await t("dpkg-query -W -f='${db:Status-Abbrev}|' curl jq unattended-upgrades")).toBe('ii |ii |ii |');
    expect(await t('hostname; cat /etc/hostname; getent hosts web-base')).toMatch(/^web-base\nweb-base\n127\.0\.1\.1\s+web-base$/);
    expect(await t('date +%Z; readlink /etc/localtime')).toBe('MSK\n/usr/share/zoneinfo/Europe/Moscow');
    expect(await t('apt-config dump | grep -E "^APT::Periodic::(Update-Package-Lists|Unattended-Upgrade) "')).toBe(
      'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";',
    );
    expect(await t(`sysctl ${SYSCTLS}`)).toBe(
      'net.ipv4.tcp_syncookies = 1\nnet.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\nnet.ipv4.conf.all.send_redirects = 0',
    );
    expect(await t('grep -v "^#" /etc/sysctl.d/90-hostkit.conf')).toBe(
      'net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\nnet.ipv4.tcp_syncookies = 1',
    );
  });

  it('finds hand-made drift, --dry-run changes nothing, apply repairs it while apt lists are locked', async () => {
    await sb.target.exec(
      [
        'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q jq >/dev/null',
        'ln -sfn /usr/share/zoneinfo/Asia/Tokyo /etc/localtime',
        'sysctl -q -w net.ipv4.conf.all.send_redirects=1',
        'hostname other',
        'rm /etc/apt/apt.conf.d/20auto-upgrades',
        'systemctl stop apt-daily.timer',
      ].join(' && '),
    );
    const check = await runRole('base', ['--check', '--json'], { inventory: sb.inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      'install jq',
      'running hostname other -> web-base',
      'timezone Asia/Tokyo -> Europe/Moscow',
      'create /etc/apt/apt.conf.d/20auto-upgrades (root:root 0644)',
      'start apt-daily.timer (inactive)',
      'sysctl net.ipv4.conf.all.send_redirects 1 -> 0',
    ]);

    const before = await liveState();
    const dry = await runRole('base', ['--dry-run'], { inventory: sb.inventory });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('install jq');
    expect(await liveState()).toBe(before);

    // apt-daily style: another process holds the lists lock for 12 s while the apply needs apt.
    const HOLD_S = 12;
    await execa('docker', [
      'exec',
      '-d',
      sb.target.name,
      'python3',
      '-c',
      `import fcntl, time; f = open('/var/lib/apt/lists/lock', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); time.sleep(${HOLD_S})`,
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const apply = await runRole('base', [], { inventory: sb.inventory });
    log(`repair with the apt lists lock held ${HOLD_S} s: ${apply.durationMs.toFixed(0)} ms`);
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect(apply.durationMs).toBeGreaterThan((HOLD_S - 2) * 1000); // it waited instead of failing
    expect((await runRole('base', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
    expect((await sb.target.exec("dpkg-query -W -f='${db:Status-Abbrev}' jq")).stdout).toBe('ii ');
  });
});
