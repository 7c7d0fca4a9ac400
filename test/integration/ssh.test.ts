import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  runRole,
  sshTo,
  useTarget,
  SUITES,
  type Target,
  parseReport as report,
  changedCount as changed,
  drifts as drift,
} from './harness.js';

const log = (...args: unknown[]) => console.log('[ssh.test]', ...args);

const DROP_IN = '/etc/ssh/sshd_config.d/00-hostkit.conf';
const PASSWORD = 'Corr3ct-h0rse-battery';
const ssh = (extra = '') => `ssh:
  permit_root_login: prohibit-password
  allow_users: [root, admin]
  deadman_timeout: 15
  extra:
    MaxAuthTries: 4
    ClientAliveInterval: 300
${extra}`;

describe.each(SUITES)('ssh role on $name: key-only sshd that never locks the operator out', ({ suite }) => {
  const sb = useTarget({ platformYaml: ssh(), suite });
  let askpassDir = '';

  beforeAll(async () => {
    // A password for admin, and an askpass program: a real client really types it.
    await sb.target.exec(`echo 'admin:${PASSWORD}' | chpasswd`);
    askpassDir = await mkdtemp(join(tmpdir(), 'hostkit-askpass-'));
    await writeFile(join(askpassDir, 'askpass'), `#!/bin/sh\necho '${PASSWORD}'\n`);
    await chmod(join(askpassDir, 'askpass'), 0o700);
  });
  afterAll(async () => {
    if (askpassDir) await rm(askpassDir, { recursive: true, force: true });
  });

  /** OpenSSH client, password (or keyboard-interactive) only, never a key. */
  const passwordLogin = async (t: Target) => {
    const r = await execa(
      'ssh',
      [
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'IdentityAgent=none',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
        '-o',
        'NumberOfPasswordPrompts=1',
        '-o',
        `UserKnownHostsFile=${t.knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'ConnectTimeout=5',
        '-o',
        'LogLevel=ERROR',
        '-p',
        String(t.port),
        `admin@${t.address}`,
        'echo logged-in',
      ],
      {
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
        env: { SSH_ASKPASS: join(askpassDir, 'askpass'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' },
      },
    );
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const liveState = async () =>
    (
      await sb.target.exec(
        `cat ${DROP_IN} 2>&1; ls /etc/ssh/sshd_config.d; sshd -T | sort; systemctl show -p MainPID ssh; journalctl -u ssh -o cat | grep -c 'Received SIGHUP'`,
      )
    ).stdout;

  it('applies: password login refused afterwards (a real client), key logins work; second apply 0 changed; --check exits 0', async () => {
    const before = await passwordLogin(sb.target);
    expect(before.stdout, before.stderr).toContain('logged-in'); // the fresh server takes passwords

    const first = await runRole('ssh', ['--json'], { inventory: sb.inventory });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const r = report(first.stdout);
    expect(changed(r)).toBe(1);
    expect(r.hosts[0]!.safeguard?.status).toBe('confirmed'); // a fresh login worked after the reload
    const second = await runRole('ssh', ['--json'], { inventory: sb.inventory });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(changed(report(second.stdout))).toBe(0);
    const check = await runRole('ssh', ['--check'], { inventory: sb.inventory });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    log(
      `timings: apply ${first.durationMs.toFixed(0)} ms, second apply ${second.durationMs.toFixed(0)} ms, check ${check.durationMs.toFixed(0)} ms`,
    );

    const after = await passwordLogin(sb.target);
    expect(after.exitCode).toBe(255);
    expect(after.stderr).toContain('Permission denied (publickey)');
    expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);
    expect((await sshTo(sb.target, 'sudo -n true', { user: 'admin' })).exitCode).toBe(0);
    expect(
      (
        await sb.target.exec(
          'sshd -T | grep -E "^(passwordauthentication|kbdinteractiveauthentication|authenticationmethods|allowusers|maxauthtries) "',
        )
      ).stdout,
    ).toBe(
      'maxauthtries 4\npasswordauthentication no\nkbdinteractiveauthentication no\nallowusers root\nallowusers admin\nauthenticationmethods publickey',
    );
  });

  it('finds hand-made drift (and a file that overrides the drop-in), --dry-run changes nothing, apply repairs', async () => {
    await sb.target.exec(
      `sed -i -e 's/^PasswordAuthentication no$/PasswordAuthentication yes/' -e '/^AuthenticationMethods publickey$/d' ${DROP_IN} && systemctl reload ssh`,
    );
    const check = await runRole('ssh', ['--check', '--json'], { inventory: sb.inventory });
    expect(check.exitCode).toBe(2);
    expect(drift(report(check.stdout))).toEqual([
      `content of ${DROP_IN} differs (+2 -1 lines)`,
      expect.stringMatching(
        new RegExp(`^sshd runs with passwordauthentication yes, declared no \\(set in ${DROP_IN}:\\d+:PasswordAuthentication yes\\)$`),
      ),
      'sshd runs with authenticationmethods any, declared publickey',
    ]);
    expect((await passwordLogin(sb.target)).stdout).toContain('logged-in');

    const before = await liveState();
    const dry = await runRole('ssh', ['--dry-run'], { inventory: sb.inventory });
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('+PasswordAuthentication no');
    expect(await liveState()).toBe(before);

    const apply = await runRole('ssh', [], { inventory: sb.inventory });
    expect(apply.exitCode, apply.stdout + apply.stderr).toBe(0);
    expect((await runRole('ssh', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
    expect((await passwordLogin(sb.target)).stderr).toContain('Permission denied (publickey)');

    // An earlier file wins over the drop-in: the audit names it (the role does not edit other files).
    await sb.target.exec('echo "PasswordAuthentication yes" > /etc/ssh/sshd_config.d/00-aaa.conf');
    const overridden = await runRole('ssh', ['--check', '--json'], { inventory: sb.inventory });
    expect(overridden.exitCode).toBe(2);
    expect(drift(report(overridden.stdout))).toEqual([
      expect.stringMatching(
        /^sshd runs with passwordauthentication yes, declared no \(set in \/etc\/ssh\/sshd_config\.d\/00-aaa\.conf:1:PasswordAuthentication yes; /,
      ),
    ]);
    await sb.target.exec('rm /etc/ssh/sshd_config.d/00-aaa.conf');
  });

  it('a broken drop-in is rejected by sshd -t: the old configuration stays in force', async () => {
    const before = await liveState();
    const inventory = await sb.writeInventory({ platformYaml: ssh('    MaxStartups: "ten"\n') });
    const run = await runRole('ssh', [], { inventory });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/MaxStartups/);
    expect(run.stdout).toContain(`rejected the new ${DROP_IN}; the previous file was put back`);
    expect(await liveState()).toBe(before);
    expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);
    expect((await passwordLogin(sb.target)).stderr).toContain('Permission denied (publickey)');
  });

  it('refuses settings that would lock out the management user, before changing anything', async () => {
    const before = await liveState();
    const inventory = await sb.writeInventory({ platformYaml: ssh().replace('allow_users: [root, admin]', 'allow_users: [admin]') });
    const run = await runRole('ssh', [], { inventory });
    expect(run.exitCode).toBe(1);
    expect(run.stdout + run.stderr).toContain(
      'refused: the declared sshd settings would lock out the management login: allow_users (admin) does not include the management user root',
    );
    expect(await liveState()).toBe(before);
  });

  it('a drop-in that passes sshd -t but breaks key login: the fresh login fails, the host restores the previous drop-in', async () => {
    const previous = (await sb.target.exec(`cat ${DROP_IN}`)).stdout;
    const inventory = await sb.writeInventory({ platformYaml: ssh('    AuthorizedKeysFile: /etc/ssh/no-such-keys\n') });
    const run = await runRole('ssh', ['--json'], { inventory });
    log(`lockout run: ${run.durationMs.toFixed(0)} ms, safeguard: ${JSON.stringify(report(run.stdout).hosts[0]?.safeguard)}`);
    expect(run.exitCode).toBe(1);
    const r = report(run.stdout);
    expect(r.hosts[0]!.safeguard?.status).toBe('reverted');
    expect(r.hosts[0]!.error).toMatch(/apply reverted/);
    expect((await sb.target.exec(`cat ${DROP_IN}`)).stdout).toBe(previous);
    expect((await sshTo(sb.target, 'true')).exitCode).toBe(0);
    await sb.writeInventory();
    expect((await runRole('ssh', ['--check'], { inventory: sb.inventory })).exitCode).toBe(0);
  });
});
