import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { changedCount, drifts, parseReport, runRole, sshTo, throughTunnel, useTarget } from './harness.js';
import { repoRoot } from '../../src/sandbox/index.js';

const log = (...args: unknown[]) => console.log('[hardening.test]', ...args);
const DROP_IN = '/etc/ssh/sshd_config.d/00-hostkit.conf';

/** The real inventory's ssh and hardening sections: the test audits the declaration itself. */
function realSections(): string {
  const doc = parse(readFileSync(join(repoRoot(), 'inventory.yaml'), 'utf8')) as Record<string, unknown>;
  return stringify({ ssh: doc.ssh, hardening: doc.hardening });
}

/** A listener on the target's 127.0.0.1:81 (NPM's admin port) answering one fixed line per connection. */
const LISTENER =
  "nohup perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalAddr=>q(127.0.0.1),LocalPort=>81,Listen=>5,ReuseAddr=>1) or die; " +
  "while($c=$s->accept){print $c qq(hostkit-tunnel-ok\\n); close $c}' >/dev/null 2>&1 &";

describe('hardening role (with the ssh role): the real declaration on a bare target', () => {
  const sb = useTarget({ platformYaml: realSections() });
  const both = async (args: string[]) => {
    const ssh = await runRole('ssh', args, { inventory: sb.inventory });
    const hard = await runRole('hardening', args, { inventory: sb.inventory, timeoutMs: 600_000 });
    return { ssh, hard };
  };

  it('applies; a second apply changes nothing; --check exits 0', async () => {
    const first = await both(['--json']);
    expect(first.ssh.exitCode, first.ssh.stderr.slice(-2000)).toBe(0);
    expect(first.hard.exitCode, first.hard.stderr.slice(-3000)).toBe(0);
    log(`first apply: ssh ${Math.round(first.ssh.durationMs)} ms, hardening ${Math.round(first.hard.durationMs)} ms`);
    const second = await both(['--json']);
    for (const r of [second.ssh, second.hard]) {
      expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
      expect(changedCount(parseReport(r.stdout)), JSON.stringify(drifts(parseReport(r.stdout)))).toBe(0);
    }
    const check = await both(['--check']);
    expect(check.ssh.exitCode, check.ssh.stdout).toBe(0);
    expect(check.hard.exitCode, check.hard.stdout).toBe(0);
    // What the settings look like on the host.
    expect(
      (await sb.target.exec(`sshd -T | grep -E '^(maxauthtries|allowtcpforwarding|loglevel|tcpkeepalive) '`)).stdout.split('\n').sort(),
    ).toEqual(['allowtcpforwarding local', 'loglevel VERBOSE', 'maxauthtries 3', 'tcpkeepalive no']);
    expect((await sb.target.exec(`grep -E '^UMASK' /etc/login.defs`)).stdout.trim()).toBe('UMASK\t027');
    expect((await sb.target.exec('stat -c %a /etc/cron.d /etc/ssh/sshd_config')).stdout.split('\n')).toEqual(['700', '600']);
    // Inside the sandbox the kernel belongs to the host: no host-wide parameter was written.
    expect((await sb.target.exec('test -e /etc/sysctl.d/91-hostkit-hardening.conf; echo $?')).stdout.trim()).toBe('1');
    const notes = parseReport((await runRole('hardening', ['--check', '--json'], { inventory: sb.inventory })).stdout).hosts.flatMap((h) =>
      h.resources.flatMap((r) => (r as { notes?: string[] }).notes ?? []),
    );
    expect(notes.join('\n')).toMatch(/inside a container \(docker\): .*kernel\.kptr_restrict.* belong to the host's kernel, left unset/);
  });

  it('key login for root still works on a fresh connection; the ssh -L tunnel to port 81 works', async () => {
    const login = await sshTo(sb.target, 'id -un; umask');
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout.split('\n')[0]).toBe('root');
    await sb.target.exec(LISTENER);
    expect(await throughTunnel(sb.target)).toBe('hostkit-tunnel-ok');
  });

  it('a hand change (MaxAuthTries 6, UMASK 022) makes --check exit 2 naming the setting; apply repairs it', async () => {
    await sb.target.exec(`sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' ${DROP_IN}`);
    await sb.target.exec(`sed -i 's/^UMASK.*/UMASK\t022/' /etc/login.defs`);
    const check = await both(['--check']);
    expect(check.ssh.exitCode, check.ssh.stdout).toBe(2);
    expect(check.ssh.stdout).toContain('sshd runs with maxauthtries 6, declared 3');
    expect(check.hard.exitCode, check.hard.stdout).toBe(2);
    expect(check.hard.stdout).toContain('/etc/login.defs: UMASK is 022, declared 027');
    const repair = await both([]);
    expect(repair.ssh.exitCode, repair.ssh.stderr.slice(-2000)).toBe(0);
    expect(repair.hard.exitCode, repair.hard.stderr.slice(-2000)).toBe(0);
    const again = await both(['--check']);
    expect(again.ssh.exitCode, again.ssh.stdout).toBe(0);
    expect(again.hard.exitCode, again.hard.stdout).toBe(0);
  });
});

/**
 * Acceptance 1 of issue 12 on the whole platform (heavy: a full provision, ~2-4 min on 2 cores):
 * Lynis inside the provisioned target reaches >= 80, Docker's forwarding is untouched, the host
 * still reaches Debian's mirror, and the tunnel to NPM's admin port works.
 */
