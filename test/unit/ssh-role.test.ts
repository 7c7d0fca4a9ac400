import { describe, expect, it } from 'vitest';
import { buildRole } from '../../src/engine/role-input.js';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { parseSshdEffective } from '../../src/facts/sshd.js';
import { planSshdSettings } from '../../src/resources/sshd-settings.js';
import { sshDropIn, sshdEffective, sshLockoutProblems, sshRole, SSHD_DROP_IN, RELOAD_AND_WAIT } from '../../src/roles/ssh.js';
import { inventorySchema, sshSchema } from '../../src/inventory/schema.js';
import { factSetFrom } from '../../src/engine/gather.js';
import type { HostConfig } from '../../src/inventory/types.js';

/** The recorded sshd probes, now sshd.effective fact fixtures (test/fixtures/facts/sshd.effective/). */
const MOVED: Record<string, string> = { 'probe-cloud-default.txt': 'cloud-default', 'probe-broken.txt': 'broken-drop-in' };
const fixture = (name: string) => factOutput('sshd.effective', MOVED[name]!).stdout;
const cfg = (over: object = {}) => sshSchema.parse(over);
const host: HostConfig = {
  name: 'h',
  address: '127.0.0.1',
  port: 22,
  user: 'root',
  become: false,
  connection: 'ssh',
  protected: false,
  hostKeyChecking: 'strict',
  connectTimeoutMs: 1000,
  groups: ['all'],
};

describe('sshd drop-in (template)', () => {
  it('defaults: key only (no passwords, no keyboard-interactive), root by key, crypto trimmed', () => {
    const text = sshDropIn(cfg());
    expect(text).toContain(
      'PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitEmptyPasswords no\nAuthenticationMethods publickey\nPermitRootLogin prohibit-password\nX11Forwarding no\n',
    );
    expect(text).not.toMatch(/^Port |^AllowUsers /m);
    expect(text).toMatch(/^KexAlgorithms -ecdh-sha2-nistp256,/m);
    expect(text).toMatch(/^MACs -umac-64-etm@openssh.com,.*hmac-sha1$/m);
  });

  it('port, allowed users, vetted extra options (booleans as yes/no, sorted, override the defaults)', () => {
    const text = sshDropIn(
      cfg({
        port: 2222,
        allow_users: ['root', 'admin'],
        permit_root_login: 'no',
        extra: { X11Forwarding: true, MaxAuthTries: 3, LogLevel: 'VERBOSE' },
      }),
    );
    expect(text).toMatch(/^Port 2222\n/m);
    expect(text).toContain('PermitRootLogin no\nAllowUsers root admin\nLogLevel VERBOSE\nMaxAuthTries 3\nX11Forwarding yes\n');
  });

  it('password_authentication true drops AuthenticationMethods publickey', () => {
    const text = sshDropIn(cfg({ password_authentication: true }));
    expect(text).toContain('PasswordAuthentication yes\n');
    expect(text).not.toContain('AuthenticationMethods');
  });
});

describe('ssh inventory section', () => {
  it('accepts only the vetted extra keywords and sane values', () => {
    expect(sshSchema.safeParse({ extra: { PermitRootLogin: 'yes' } }).success).toBe(false); // owned by the role
    expect(sshSchema.safeParse({ extra: { Match: 'all' } }).success).toBe(false);
    expect(sshSchema.safeParse({ extra: { Banner: '/etc/issue\nPasswordAuthentication yes' } }).success).toBe(false);
    expect(sshSchema.safeParse({ extra: { LogLevel: 'QUIET' } }).success).toBe(false);
    expect(sshSchema.safeParse({ extra: { MaxSessions: 2 } }).success).toBe(false);
    expect(sshSchema.safeParse({ permit_root_login: 'without-password' }).success).toBe(false);
    expect(sshSchema.safeParse({ allow_users: ['bad user'] }).success).toBe(false);
    expect(sshSchema.safeParse({ deadman_timeout: 5 }).success).toBe(false);
    expect(cfg()).toEqual({
      permit_root_login: 'prohibit-password',
      allow_users: [],
      password_authentication: false,
      extra: {},
      deadman_timeout: 60,
    });
  });
});

describe('lockout guard', () => {
  it('refuses what would lock out the management login', () => {
    expect(sshLockoutProblems(cfg(), host)).toEqual([]);
    expect(sshLockoutProblems(cfg({ permit_root_login: 'no' }), host)).toEqual(['permit_root_login is "no" and hostkit logs in as root']);
    expect(sshLockoutProblems(cfg({ permit_root_login: 'no' }), { ...host, user: 'admin' })).toEqual([]);
    expect(sshLockoutProblems(cfg({ allow_users: ['admin'] }), host)).toEqual([
      'allow_users (admin) does not include the management user root',
    ]);
    expect(sshLockoutProblems(cfg({ port: 2222 }), host)[0]).toMatch(
      /^ssh\.port 2222 differs from the port this session reaches sshd on \(22\)/,
    );
    // Behind a port map (127.0.0.1:32855 -> 22) what counts is the port sshd sees the session on.
    expect(sshLockoutProblems(cfg({ port: 22 }), { ...host, port: 32855 }, 22)).toEqual([]);
    expect(sshLockoutProblems(cfg({ port: 2222 }), { ...host, port: 2222 }, 22)).toHaveLength(1);
  });

  it('the guard refuses the whole role before anything is applied', () => {
    const inventory = { sources: [], hosts: [host], groups: {}, doc: inventorySchema.parse({ all: {}, ssh: { allow_users: ['admin'] } }) };
    const { resources } = buildRole(sshRole, inventory, host);
    const settings = resources.find((r) => r.id === 'sshd effective settings')!;
    const facts = factSetFrom(settings.facts().map((f) => [f, { stdout: fixture('probe-cloud-default.txt'), stderr: '', exitCode: 0 }]));
    expect(() => settings.guard!([], facts, { host, mode: 'apply', pendingPrerequisites: [] })).toThrow(
      /h: ssh: refused: the declared sshd settings would lock out the management login: allow_users \(admin\)/,
    );
  });
});

describe('sshd -T facts and the effective-settings audit', () => {
  it('parses sshd -T and where the watched keywords are set', () => {
    const eff = parseSshdEffective(fixture('probe-cloud-default.txt'));
    expect(eff.ok).toBe(true);
    expect(eff.settings.get('permitrootlogin')).toEqual(['without-password']);
    expect(eff.settings.get('passwordauthentication')).toEqual(['yes']);
    expect(eff.setBy).toEqual([
      '/etc/ssh/sshd_config.d/00-cloud.conf:1:PermitRootLogin prohibit-password',
      '/etc/ssh/sshd_config:64:KbdInteractiveAuthentication no',
    ]);
  });

  it('a fresh cloud image: password login still on, named as drift', () => {
    const eff = parseSshdEffective(fixture('probe-cloud-default.txt'));
    expect(planSshdSettings(sshdEffective(cfg({ allow_users: ['root'] })), eff).map((c) => c.summary)).toEqual([
      'sshd runs with passwordauthentication yes, declared no',
      'sshd runs with authenticationmethods any, declared publickey',
      'sshd runs with allowusers (unset), declared root',
    ]);
  });

  it('names the file that sets a keyword before the drop-in', () => {
    const eff = parseSshdEffective(fixture('probe-cloud-default.txt'));
    expect(planSshdSettings(new Map([['permitrootlogin', 'no']]), eff)[0]!.summary).toBe(
      'sshd runs with permitrootlogin without-password, declared no (set in /etc/ssh/sshd_config.d/00-cloud.conf:1:PermitRootLogin prohibit-password)',
    );
  });

  it('a configuration sshd cannot parse', () => {
    const eff = parseSshdEffective(fixture('probe-broken.txt'));
    expect(eff).toMatchObject({ ok: false, error: '/etc/ssh/sshd_config.d/50-broken.conf line 1: unsupported option "maybe".' });
    expect(planSshdSettings(sshdEffective(cfg()), eff)[0]!.summary).toBe(
      'sshd -T fails, sshd would not start: /etc/ssh/sshd_config.d/50-broken.conf line 1: unsupported option "maybe".',
    );
  });
});

describe('ssh role', () => {
  it('drop-in validated by sshd -t, audit, reload handler, a dead-man switch on the drop-in', () => {
    const inventory = { sources: [], hosts: [host], groups: {}, doc: inventorySchema.parse({ all: {}, ssh: { deadman_timeout: 30 } }) };
    const build = buildRole(sshRole, inventory, host);
    expect(build.resources.map((r) => r.id)).toEqual([`file ${SSHD_DROP_IN}`, 'sshd effective settings']);
    expect((build.resources[0] as unknown as { spec: { validate: string } }).spec.validate).toBe('/usr/sbin/sshd -t');
    expect(build.handlers).toEqual([
      {
        id: 'reload sshd',
        actions: [{ kind: 'exec', script: RELOAD_AND_WAIT, display: 'systemctl reload ssh (then wait for "Server listening")' }],
      },
    ]);
    expect(RELOAD_AND_WAIT).toContain("grep -q '^Server listening'");
    expect(build.safeguard).toMatchObject({ protects: [`file ${SSHD_DROP_IN}`], timeoutSeconds: 30 });
    expect(build.safeguard!.arm).toContain(SSHD_DROP_IN);
  });
});
