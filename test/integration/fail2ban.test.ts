import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import {
  runRole,
  sshTo,
  startTarget,
  useTarget,
  SUITES,
  type Target,
  parseReport as report,
  changedCount as changed,
  drifts as drift,
} from './harness.js';
import { connect } from '../../src/transports/index.js';
import type { HostConfig } from '../../src/inventory/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...args: unknown[]) => console.log('[fail2ban.test]', ...args);
/** Polls until `check` holds (ban actions run after fail2ban lists the ban); returns the last result. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) return false;
    await sleep(200);
  }
  return true;
}

const NET = `hk-f2b-${randomBytes(3).toString('hex')}`;
/** How long an unban may take to open the ports again (its actions run one after the other). */
const UNBAN_MS = 30_000;
const MAXRETRY = 5;
const BANTIME = 20;

/** ufw for the ban action, and fail2ban with a short bantime; the harness' own address is ignored. */
const platform = (gateway: string, extra = '') => `firewall:
  defaults: { incoming: deny, outgoing: allow }
  rules:
    - { port: 22, proto: tcp, comment: ssh }
fail2ban:
  bantime: ${BANTIME}
  findtime: 10m
  maxretry: ${MAXRETRY}
  ignoreip: [${gateway}]
${extra}`;

describe.each(SUITES)('fail2ban role on $name: real brute force from a second server', ({ suite, version }) => {
  const net = `${NET}-${version}`;
  // Registered first: runs after the targets are gone (afterAll hooks run in reverse).
  beforeAll(async () => {
    await execa('docker', ['network', 'create', net]);
  });
  afterAll(async () => {
    await execa('docker', ['network', 'rm', net], { reject: false });
  });

  const sb = useTarget({ network: net, platformYaml: '', suite });
  let attacker: Target;
  let gateway = '';
  let inventory = '';

  // biome-ignore lint/suspicious/noDuplicateTestHooks: ordered after useTarget's hooks on purpose
  beforeAll(async () => {
    attacker = await startTarget({ network: net });
    gateway = (await execa('docker', ['network', 'inspect', net, '-f', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
    inventory = await sb.writeInventory({ platformYaml: platform(gateway) });
    await attacker.exec("ssh-keygen -q -t ed25519 -N '' -f /root/wrong");
    const fw = await runRole('firewall', [], { inventory });
    expect(fw.exitCode, fw.stdout + fw.stderr).toBe(0);
  });
  // biome-ignore lint/suspicious/noDuplicateTestHooks: ordered after useTarget's hooks on purpose
  afterAll(async () => {
    await attacker?.remove();
  });

  const f2b = async (cmd: string) => (await sb.target.exec(`fail2ban-client ${cmd}`)).stdout;
  const banned = async () =>
    /Banned IP list:\s*(.*)$/m
      .exec(await f2b('status sshd'))?.[1]
      ?.split(/\s+/)
      .filter(Boolean) ?? [];
  /** The sshd jail's current failure count (what is left towards maxretry). */
  const failed = async () => Number(/Currently failed:\s*(\d+)/.exec(await f2b('status sshd'))?.[1] ?? Number.NaN);
  const liveState = async () =>
    (
      await sb.target.exec(
        'cat /etc/fail2ban/jail.local /etc/fail2ban/filter.d/sshd.local; systemctl show -p MainPID,ActiveState fail2ban; fail2ban-client status',
      )
    ).stdout;

  it('applies, a second apply changes nothing, --check exits 0; the jails run as configured', async () => {
    const first = await runRole('fail2ban', ['--json'], { inventory });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(changed(report(first.stdout))).toBeGreaterThan(0);
    const second = await runRole('fail2ban', ['--json'], { inventory });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    const check = await runRole('fail2ban', ['--check'], { inventory });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    log(
      `timings: apply ${first.durationMs.toFixed(0)} ms, second apply ${second.durationMs.toFixed(0)} ms, check ${check.durationMs.toFixed(0)} ms`,
    );

    expect(await f2b('status')).toMatch(/Jail list:\s*recidive, sshd$/m);
    // Debian's own files stay as shipped (Debian 12's jail.d/defaults-debian.conf included): jail.local wins over them.
    expect((await sb.target.exec('dpkg --verify fail2ban')).stdout).toBe('');
    const sshd = await f2b('status sshd');
    expect(sshd).toContain(
      'Journal matches:\t_SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session + SYSLOG_IDENTIFIER=sshd + SYSLOG_IDENTIFIER=sshd-session',
    );
    expect(
      (await sb.target.exec('fail2ban-client get sshd bantime; fail2ban-client get sshd maxretry; fail2ban-client get sshd ignoreip'))
        .stdout,
    ).toMatch(new RegExp(`^${BANTIME}\\n${MAXRETRY}\\n[\\s\\S]*${gateway.replace(/\./g, '\\.')}`));
  });

  it('finds hand-made drift, --dry-run changes nothing, apply repairs it', async () => {
    await sb.target.exec("sed -i '0,/^maxretry = 5$/s//maxretry = 50/' /etc/fail2ban/jail.local && fail2ban-client stop recidive");
    const check = await runRole('fail2ban', ['--check', '--json'], { inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      'content of /etc/fail2ban/jail.local differs (+1 -1 lines)',
      'jail recidive should be active and is not (active: sshd)',
    ]);
    const before = await liveState();
    const dry = await runRole('fail2ban', ['--dry-run'], { inventory });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('-maxretry = 50');
    expect(dry.stdout).toContain('+maxretry = 5');
    expect(await liveState()).toBe(before);
    const apply = await runRole('fail2ban', [], { inventory });
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect((await runRole('fail2ban', ['--check'], { inventory })).exitCode).toBe(0);
    expect(await f2b('status')).toMatch(/Jail list:\s*recidive, sshd$/m);

    // The service itself: stopped by hand, named by --check, started by apply.
    await sb.target.exec('systemctl stop fail2ban');
    const stopped = await runRole('fail2ban', ['--check', '--json'], { inventory });
    expect(stopped.exitCode).toBe(2);
    expect(drift(report(stopped.stdout))).toEqual([
      'start fail2ban (inactive)',
      expect.stringMatching(/^jails sshd, recidive should be active: fail2ban is inactive \(.*Is fail2ban running\?/),
    ]);
    expect((await runRole('fail2ban', [], { inventory })).exitCode).toBe(0);
    expect((await runRole('fail2ban', ['--check'], { inventory })).exitCode).toBe(0);
  });

  it('a configuration that fails validation: the run fails with the validator message, fail2ban is left as it was', async () => {
    const before = await liveState();
    const bad = await sb.writeInventory({
      platformYaml: platform(gateway, '  jails:\n    - { name: webapp, filter: no-such-filter, logpath: [/var/log/syslog] }\n'),
    });
    const run = await runRole('fail2ban', [], { inventory: bad });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("Unable to read the filter 'no-such-filter'");
    expect(run.stdout).toMatch(/rejected the new \/etc\/fail2ban\/jail\.local; the previous file was put back/);
    expect(await liveState()).toBe(before); // same files, same process, same jails
    inventory = await sb.writeInventory({ platformYaml: platform(gateway) });
  });

  it('bans a real wrong-key brute force, refuses its next TCP connection, keeps the operator in, lifts the ban after bantime', async () => {
    const targetIp = sb.target.containerIp;
    const attackerIp = attacker.containerIp;
    const host: HostConfig = {
      name: sb.target.name,
      address: sb.target.address,
      port: sb.target.port,
      user: 'root',
      identityFile: sb.target.keyFile,
      become: false,
      connection: 'ssh',
      protected: false,
      knownHosts: sb.target.knownHosts,
      hostKeyChecking: 'strict',
      connectTimeoutMs: 10_000,
      groups: ['all'],
    };
    const operator = await connect(host, { commandTimeoutMs: 20_000 }); // the operator's session, open through the attack
    try {
      const tcp22 = async () => (await attacker.exec(`nc -z -w 3 ${targetIp} 22`)).exitCode === 0;
      const wrongKeyLogin = () =>
        attacker.exec(
          `ssh -i /root/wrong -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
            `-o ConnectTimeout=3 -o LogLevel=ERROR root@${targetIp} true`,
        );
      expect(await tcp22()).toBe(true);
      // Debian 12 (fail2ban 1.0.2, OpenSSH 9.2) counts that bare TCP probe as a failure in aggressive
      // mode ("kex_exchange_identification: read: Connection reset by peer"); Debian 13 does not.
      await sleep(1500);
      const probed = await failed();
      log(`failures counted for the reachability probe: ${probed}`);
      expect(probed).toBe(version >= 13 ? 0 : 1);

      // Spaced attempts: OpenSSH 10's PerSourcePenalties (authfail 5 s, enforced from 15 s) never
      // kicks in, so each attempt is a real wrong-key authentication that fail2ban must count.
      let bannedAfter = 0;
      let listedMs = 0;
      let enforcedMs = 0;
      const outcomes: string[] = [];
      for (let i = 1; i <= 8; i++) {
        const r = await wrongKeyLogin();
        const done = Date.now();
        outcomes.push(`${i}: exit ${r.exitCode} ${r.stderr.trim().split('\n').pop()}`);
        expect(r.exitCode).not.toBe(0);
        if (bannedAfter) continue;
        while (Date.now() - done < 4000) {
          if ((await banned()).includes(attackerIp)) {
            bannedAfter = i;
            listedMs = Date.now() - done;
            break;
          }
          await sleep(200);
        }
        if (!bannedAfter) continue;
        // Listed first, enforced once the ban action (a ufw rule) is in place.
        while ((await tcp22()) && Date.now() - done < 15_000) await sleep(200);
        enforcedMs = Date.now() - done;
      }
      // fail2ban's own timestamps: the last failure it found and the ban.
      const f2bLog = (
        await sb.target.exec(`grep -E "\\[sshd\\] (Found|Ban) ${attackerIp}" /var/log/fail2ban.log | tail -n 2`)
      ).stdout.trim();
      log(`spaced brute force: ${outcomes.join(' | ')}`);
      log(
        `banned after attempt ${bannedAfter}: listed ${listedMs} ms and TCP refused ${enforcedMs} ms after it failed; fail2ban.log:\n${f2bLog}`,
      );
      expect(bannedAfter + probed).toBe(MAXRETRY); // every wrong key counted, none lost in the journal
      expect(outcomes.slice(MAXRETRY).every((o) => /Connection refused/.test(o))).toBe(true);
      expect(await banned()).toEqual([attackerIp]);
      expect(await tcp22()).toBe(false);
      expect((await sb.target.exec('ufw status')).stdout).toMatch(
        new RegExp(`REJECT\\s+${attackerIp.replace(/\./g, '\\.')}\\s+# by Fail2Ban`),
      );

      // The operator: the open session and a fresh key login from the management address.
      expect((await operator.exec('true')).exitCode).toBe(0);
      expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);

      // The ban is lifted after bantime.
      const t0 = Date.now();
      while ((await banned()).includes(attackerIp) && Date.now() - t0 < (BANTIME + 30) * 1000) await sleep(500);
      log(`unbanned ${((Date.now() - t0) / 1000).toFixed(1)} s after the ban was seen (bantime ${BANTIME} s)`);
      expect(await banned()).toEqual([]);
      expect(await eventually(tcp22)).toBe(true);

      // A fast burst: after a few failures sshd's own penalty drops the source and logs only
      // "drop connection ... penalty: failed authentication"; the jail counts those too.
      const penalties = (await sb.target.exec('sshd -T | grep -c "^persourcepenalties " || true')).stdout.trim() !== '0';
      log(`sshd has PerSourcePenalties: ${penalties}`);
      await sleep(1500);
      const beforeBurst = await failed(); // the probes that saw the ban lifted, where they count
      const burstStart = Date.now();
      const burst = await attacker.exec(
        `for i in 1 2 3 4 5 6 7 8; do ssh -i /root/wrong -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no ` +
          `-o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -o LogLevel=ERROR root@${targetIp} true 2>&1 | tail -n1; done`,
      );
      const burstMs = Date.now() - burstStart;
      let burstBanMs = -1;
      while (Date.now() - burstStart < burstMs + 5000) {
        if ((await banned()).includes(attackerIp)) {
          burstBanMs = Date.now() - burstStart;
          break;
        }
        await sleep(200);
      }
      log(`fast burst (${burstMs} ms): ${burst.stdout.trim().split('\n').join(' | ')}; banned ${burstBanMs} ms after its start`);
      expect(burstBanMs).toBeGreaterThan(0);
      const denied = burst.stdout.split('\n').filter((l) => l.includes('Permission denied')).length;
      const journal = (
        await sb.target.exec('journalctl -o cat --since "-60s" SYSLOG_IDENTIFIER=sshd | grep -c "penalty: failed authentication" || true')
      ).stdout.trim();
      log(`penalty drops logged by sshd during the burst: ${journal}`);
      if (penalties && denied < MAXRETRY) {
        // Fewer real authentications than maxretry got through: the penalty drops made up the rest.
        expect(denied + beforeBurst + Number(journal)).toBeGreaterThanOrEqual(MAXRETRY);
      } else {
        // No penalties, or sshd enforced them only after maxretry real failures (its listener learns
        // of a failure when the child exits: under load that is late, seen once in CI): the ban came
        // from real wrong-key authentications alone, as before OpenSSH 9.8.
        if (penalties) log(`sshd's penalty came after ${denied} real failures: the ban came from those`);
        // OpenSSH before 9.8 (Debian 12's 9.2) has no penalties: every attempt up to the ban is a real
        // wrong-key authentication, and the ban came from those.
        expect(denied + beforeBurst).toBeGreaterThanOrEqual(MAXRETRY);
        if (!penalties) expect(journal).toBe('0');
      }
      expect((await operator.exec('true')).exitCode).toBe(0);
    } finally {
      await operator.close();
      await sb.target.exec('fail2ban-client unban --all');
    }
  });

  it('a proxied-app jail also bans forwarded traffic: a published container port is closed to the banned address', async () => {
    const targetIp = sb.target.containerIp;
    const attackerIp = attacker.containerIp;
    // Docker in the target and a published web server (a busybox image built in place: no registry).
    const setup = await sb.target.exec(
      [
        'set -e',
        // Debian 12's docker.io has the client inside; Debian 13 splits it into docker-cli.
        `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io ${version >= 13 ? 'docker-cli ' : ''}busybox-static >/dev/null`,
        'mkdir -p /tmp/bb && cp /bin/busybox /tmp/bb/',
        'tar -C /tmp/bb -c . | docker import -c \'ENTRYPOINT ["/busybox"]\' - hostkit-bb:1 >/dev/null',
        'docker run -d --name web -p 8080:8080 hostkit-bb:1 httpd -f -p 8080 -h / >/dev/null',
        'touch /var/log/webapp.log',
      ].join('\n'),
    );
    expect(setup.exitCode, setup.stderr).toBe(0);
    const tcp = async (port: number) => (await attacker.exec(`nc -z -w 3 ${targetIp} ${port}`)).exitCode === 0;
    await sleep(1000);
    expect(await tcp(8080)).toBe(true); // ufw has no 8080 rule: Docker's published port bypasses it

    // A ufw ban (the sshd jail) closes the host's ports, not the published one.
    await sb.target.exec(`fail2ban-client set sshd banip ${attackerIp}`);
    expect(await eventually(async () => !(await tcp(22)))).toBe(true);
    expect(await tcp(8080)).toBe(true);
    await sb.target.exec('fail2ban-client unban --all');
    expect(await eventually(() => tcp(22), UNBAN_MS)).toBe(true);

    inventory = await sb.writeInventory({
      platformYaml: platform(
        gateway,
        '  jails:\n    - { name: webapp, filter: nginx-http-auth, logpath: [/var/log/webapp.log], port: "8080", proxied: true }\n' +
          // recidive counts the attacker's bans of this describe (4 by the end of this test, its maxretry
          // 5): one more (Debian 12 counts a bare TCP probe as an sshd failure; under load more probes
          // get in) and recidive closes every port for a week, whatever this jail's unban does (seen
          // twice under a full CI run): this test is about the proxied jail, not repeat offenders.
          '  recidive: { bantime: 1w, findtime: 1d, maxretry: 50 }\n',
      ),
    });
    const apply = await runRole('fail2ban', [], { inventory });
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect((await runRole('fail2ban', ['--check'], { inventory })).exitCode).toBe(0);

    expect(await f2b('get webapp actions')).toMatch(/ufw, nftables-docker$/m);

    // The jail's ban (fail2ban's own banip): a ufw rule plus fail2ban's nftables forward hook.
    await sb.target.exec(`fail2ban-client set webapp banip ${attackerIp}`);
    expect(await eventually(async () => !(await tcp(8080)) && !(await tcp(22)))).toBe(true);
    const nft = (await sb.target.exec('nft list table inet f2b-table')).stdout;
    expect(nft).toMatch(/hook forward priority filter - 1;[\s\S]*saddr @addr-set-webapp-docker reject/);
    expect(nft).toContain(attackerIp);
    await sb.target.exec('fail2ban-client unban --all');
    // Each of the jail's two actions is undone in turn (ufw's own Python start, then nft): under a
    // full CI run on 2 cores that took longer than 10 s once (Debian 12; 10.6 s for this whole test alone).
    expect(await eventually(async () => (await tcp(8080)) && (await tcp(22)), UNBAN_MS)).toBe(true);
  });
});
