import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { factFixtureCases, factOutput } from '../fixtures/facts/fixture.mjs';
import {
  UFW_PROBE,
  parseDefaultUfw,
  parseUfwConf,
  parseUfwProbe,
  parseUfwStatusVerbose,
  parseUfwTuples,
  ufwState,
  ufwStateFromFiles,
  type UfwRule,
} from '../../src/facts/ufw.js';
import { matchKey, normalizeUfwAddress, ruleKey, toUfwArgs } from '../../src/resources/ufw-rules.js';

// Every input below was recorded from a real ufw 0.36.2 on Debian 13 (test/fixtures/ufw/README.md):
// the probe's stdout is the ufw.state fact fixture of each case; the raw files ufw status verbose,
// user.rules, user6.rules, /etc/default/ufw and ufw.conf are its sections (the probe cats them).
// The sections read here are the recordings of the earlier probe, which also ran `ufw status
// verbose` (test/fixtures/ufw/status-verbose/): they prove today's probe (no ufw start) equal.
const UFW_DIR = new URL('../fixtures/ufw/', import.meta.url);
const STATUS_VERBOSE = '../ufw/status-verbose';
const SECTION: Record<string, string> = {
  'status-verbose.txt': 'status',
  'user.rules': '/etc/ufw/user.rules',
  'user6.rules': '/etc/ufw/user6.rules',
  'default-ufw': '/etc/default/ufw',
  'ufw.conf': '/etc/ufw/ufw.conf',
};
const sections = (c: string): Map<string, string> => {
  const parts = factOutput(STATUS_VERBOSE, c).stdout.split(/\n@@hostkit-ufw ([^@\n]+)@@\n/);
  const map = new Map<string, string>();
  for (let i = 1; i + 1 < parts.length; i += 2) map.set(parts[i] ?? '', parts[i + 1] ?? '');
  // A probe that could not read the files (not root) has no usable raw files.
  return [...map.keys()].some((k) => k.endsWith(':unreadable')) ? new Map() : map;
};
const read = (c: string, file: string): string => {
  if (c === '.') return readFileSync(new URL(file, UFW_DIR), 'utf8');
  if (file === 'probe.txt') return factOutput(STATUS_VERBOSE, c).stdout;
  const text = sections(c).get(SECTION[file] ?? file);
  if (text === undefined) throw new Error(`ufw fixture ${c} has no ${file}`);
  return text;
};
const has = (c: string, file: string) => sections(c).has(SECTION[file] ?? file);
const probe = (c: string) => parseUfwProbe({ stdout: read(c, 'probe.txt'), stderr: '', exitCode: 0 });
// The recorded ufw cases (exposure-host is the exposure fixture's host, recorded separately).
const cases = factFixtureCases(STATUS_VERBOSE);
const statusCases = cases.filter((c) => has(c, 'status-verbose.txt'));
const activeCases = statusCases.filter((c) => read(c, 'status-verbose.txt').startsWith('Status: active'));
const tuples = (c: string) => [...parseUfwTuples(read(c, 'user.rules'), 'v4'), ...parseUfwTuples(read(c, 'user6.rules'), 'v6')];
const sorted = (rules: UfwRule[]) => [...rules].sort((a, b) => (ruleKey(a) + a.comment).localeCompare(ruleKey(b) + b.comment));

/** An "allow in, any address" rule with overrides. */
const r = (port: string, proto: UfwRule['proto'], family: UfwRule['family'], extra: Partial<UfwRule> = {}): UfwRule => ({
  action: 'allow',
  direction: 'in',
  proto,
  port,
  from: 'any',
  to: 'any',
  family,
  ...extra,
});
const both = (port: string, proto: UfwRule['proto'], extra: Partial<UfwRule> = {}) => [
  r(port, proto, 'v4', extra),
  r(port, proto, 'v6', extra),
];

describe('fixtures', () => {
  it('were recorded with the current probe', () => {
    expect(read('.', 'probe.sh')).toBe(`${UFW_PROBE}\n`);
  });
  it('cover the cases the firewall role meets', () => {
    expect(activeCases.length).toBeGreaterThan(15);
    expect(cases).toEqual(
      expect.arrayContaining(['not-installed', 'inactive-empty', 'inactive-rules', 'active-web', 'comments', 'v6-rules', 'limit']),
    );
  });
});

describe('parseUfwStatusVerbose', () => {
  it('inactive: ufw prints the status line only', () => {
    expect(parseUfwStatusVerbose(read('inactive-empty', 'status-verbose.txt'))).toEqual({
      active: false,
      defaults: null,
      logging: null,
      rules: [],
    });
    // Rules, policies and ENABLED=yes are all invisible while the firewall is not loaded.
    for (const c of ['inactive-rules', 'inactive-forwarding', 'enabled-not-loaded']) {
      expect(parseUfwStatusVerbose(read(c, 'status-verbose.txt')).active).toBe(false);
    }
  });

  it('active: header and the v4 + v6 rules', () => {
    expect(parseUfwStatusVerbose(read('active-web', 'status-verbose.txt'))).toEqual({
      active: true,
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
      logging: 'low',
      rules: [...['22', '80', '443'].map((p) => r(p, 'tcp', 'v4')), ...['22', '80', '443'].map((p) => r(p, 'tcp', 'v6'))],
    });
  });

  it('comments, including "#", non-ASCII and quotes', () => {
    const { rules } = parseUfwStatusVerbose(read('comments', 'status-verbose.txt'));
    expect(rules.filter((x) => x.family === 'v4')).toEqual([
      r('22', 'tcp', 'v4', { comment: 'ssh access' }),
      r('80', 'tcp', 'v4', { comment: 'web # public – ünïcode' }),
      r('443', 'tcp', 'v4', { comment: 'https "tls"' }),
      r('8443', 'tcp', 'v4'),
    ]);
    expect(rules.filter((x) => x.family === 'v6').map((x) => x.comment)).toEqual([
      'ssh access',
      'web # public – ünïcode',
      'https "tls"',
      undefined,
    ]);
  });

  it('v6 rules: "(v6)" markers, v6 addresses, single-family rules', () => {
    expect(parseUfwStatusVerbose(read('v6-rules', 'status-verbose.txt')).rules).toEqual([
      r('9091', 'tcp', 'v4'),
      r('22', 'tcp', 'v4'),
      r('443', 'tcp', 'v6', { from: '2001:db8::/32' }),
      r('8443', 'tcp', 'v6', { to: '2001:db8::1' }),
      r('9090', 'tcp', 'v6'),
      r('22', 'tcp', 'v6'),
    ]);
  });

  it('limit rules', () => {
    expect(parseUfwStatusVerbose(read('limit', 'status-verbose.txt')).rules).toEqual([
      r('22', 'tcp', 'v4', { action: 'limit' }),
      r('2222', 'tcp', 'v4', { action: 'limit', from: '192.0.2.0/24' }),
      r('22', 'tcp', 'v6', { action: 'limit' }),
    ]);
  });

  it('source-restricted rules (as ufw normalized the addresses)', () => {
    expect(parseUfwStatusVerbose(read('source-restricted', 'status-verbose.txt')).rules).toEqual([
      r('5432', 'tcp', 'v4', { from: '10.0.0.0/8' }),
      r('22', 'tcp', 'v4', { from: '192.0.2.10' }),
      r('6379', 'tcp', 'v4', { from: '172.16.0.0/12' }),
      r('3306', 'tcp', 'v4', { from: '198.51.100.7' }),
      r('any', 'any', 'v4', { from: '10.20.0.0/16' }),
    ]);
  });

  it('port ranges and lists', () => {
    const { rules } = parseUfwStatusVerbose(read('port-ranges', 'status-verbose.txt'));
    expect(rules.map((x) => `${x.port}/${x.proto} ${x.family}`)).toEqual([
      '6000:6007/udp v4',
      '60000:61000/tcp v4',
      '80,443/tcp v4',
      '8000:8010,9000/tcp v4',
      '6000:6007/udp v6',
      '60000:61000/tcp v6',
      '80,443/tcp v6',
      '8000:8010,9000/tcp v6',
    ]);
  });

  it('deny and reject, in and out', () => {
    const { rules } = parseUfwStatusVerbose(read('deny-reject', 'status-verbose.txt'));
    expect(rules.filter((x) => x.family === 'v4')).toEqual([
      r('22', 'tcp', 'v4'),
      r('23', 'tcp', 'v4', { action: 'deny' }),
      r('111', 'any', 'v4', { action: 'reject' }),
      r('any', 'any', 'v4', { action: 'deny', from: '203.0.113.0/24' }),
      r('25', 'tcp', 'v4', { action: 'deny', direction: 'out' }),
      r('6667', 'tcp', 'v4', { action: 'reject', direction: 'out' }),
    ]);
  });

  it('any-proto rules', () => {
    expect(parseUfwStatusVerbose(read('any-proto', 'status-verbose.txt')).rules).toEqual([
      ...['8080', '53'].map((p) => r(p, 'any', 'v4')),
      ...['8080', '53'].map((p) => r(p, 'any', 'v6')),
    ]);
  });

  it('interfaces and route rules ("on eth0", FWD)', () => {
    const { rules } = parseUfwStatusVerbose(read('iface-route', 'status-verbose.txt'));
    expect(rules.filter((x) => x.family === 'v4')).toEqual([
      r('9000', 'tcp', 'v4', { iface: 'eth0' }),
      r('25', 'tcp', 'v4', { action: 'deny', direction: 'out', iface: 'eth0' }),
      r('80', 'tcp', 'v4', { route: true, to: '10.1.0.0/16', iface: 'eth0', ifaceOut: 'eth1' }),
      r('53', 'udp', 'v4', { route: true, direction: 'out', iface: 'eth0' }),
      r('any', 'any', 'v4', { route: true, action: 'deny', iface: 'eth1' }),
      r('443', 'tcp', 'v4', { route: true, from: '10.2.0.0/16', comment: 'fwd' }),
    ]);
  });

  it('app profiles, log types, source ports, other protocols', () => {
    expect(parseUfwStatusVerbose(read('misc', 'status-verbose.txt')).rules.filter((x) => x.family === 'v4')).toEqual([
      r('22', 'tcp', 'v4', { app: 'OpenSSH' }),
      r('2223', 'tcp', 'v4', { log: 'log' }),
      r('2224', 'tcp', 'v4', { log: 'log-all' }),
      r('any', 'udp', 'v4', { fromPort: '53' }),
      r('any', 'esp', 'v4', { from: '192.0.2.0/24' }),
    ]);
  });

  it('lines whose "To" overflows the column', () => {
    expect(parseUfwStatusVerbose(read('long-columns', 'status-verbose.txt')).rules).toEqual([
      r('9000', 'tcp', 'v4', { iface: 'eth0' }),
      r('65000:65535', 'tcp', 'v6', { from: '2001:db8:aaaa:bbbb::/64', to: '2001:db8:1234:5678:9abc::1' }),
      r('9000', 'tcp', 'v6', { iface: 'eth0' }),
      r('60000:61000', 'udp', 'v4', {
        route: true,
        from: '192.168.100.0/24',
        fromPort: '5000:5100',
        to: '10.200.0.0/16',
        iface: 'eth0',
        ifaceOut: 'eth1',
        comment: 'a long route',
      }),
    ]);
  });

  it('logging levels and default policies', () => {
    for (const level of ['off', 'low', 'medium', 'high', 'full']) {
      expect(parseUfwStatusVerbose(read(`logging-${level}`, 'status-verbose.txt')).logging).toBe(level);
    }
    expect(parseUfwStatusVerbose(read('defaults-forwarding', 'status-verbose.txt')).defaults).toEqual({
      incoming: 'reject',
      outgoing: 'deny',
      routed: 'allow',
    });
  });

  it.each(activeCases)('%s: shows exactly the rules of the tuple files', (c) => {
    const fromTuples = c === 'ipv6-off' ? parseUfwTuples(read(c, 'user.rules'), 'v4') : tuples(c);
    expect(sorted(parseUfwStatusVerbose(read(c, 'status-verbose.txt')).rules)).toEqual(sorted(fromTuples));
  });

  it('refuses what it cannot read', () => {
    expect(() => parseUfwStatusVerbose('ERROR: You need to be root to run this script\n')).toThrow(/not a "ufw status verbose"/);
  });
});

describe('parseUfwTuples', () => {
  it('a fresh install has no tuples', () => {
    expect(parseUfwTuples(read('inactive-empty', 'user.rules'), 'v4')).toEqual([]);
    expect(parseUfwTuples(read('inactive-empty', 'user6.rules'), 'v6')).toEqual([]);
  });

  it('decodes hex comments', () => {
    expect(parseUfwTuples(read('comments', 'user.rules'), 'v4')).toEqual([
      r('22', 'tcp', 'v4', { comment: 'ssh access' }),
      r('80', 'tcp', 'v4', { comment: 'web # public – ünïcode' }),
      r('443', 'tcp', 'v4', { comment: 'https "tls"' }),
      r('8443', 'tcp', 'v4'),
    ]);
  });

  it('rules added while inactive, source-restricted', () => {
    expect(tuples('inactive-rules')).toEqual([
      r('22', 'tcp', 'v4', { comment: 'ssh access' }),
      r('80', 'tcp', 'v4'),
      r('5432', 'tcp', 'v4', { from: '10.0.0.0/8' }),
      r('22', 'tcp', 'v6', { comment: 'ssh access' }),
      r('80', 'tcp', 'v6'),
    ]);
  });

  it('v6 file: family from the file, addresses as stored', () => {
    expect(parseUfwTuples(read('v6-rules', 'user6.rules'), 'v6')).toEqual([
      r('443', 'tcp', 'v6', { from: '2001:db8::/32' }),
      r('8443', 'tcp', 'v6', { to: '2001:db8::1' }),
      r('9090', 'tcp', 'v6'),
      r('22', 'tcp', 'v6'),
    ]);
  });

  it('limit, ranges, any-proto, deny/reject out', () => {
    expect(parseUfwTuples(read('limit', 'user.rules'), 'v4')[0]).toEqual(r('22', 'tcp', 'v4', { action: 'limit' }));
    expect(parseUfwTuples(read('port-ranges', 'user.rules'), 'v4')[0]).toEqual(r('6000:6007', 'udp', 'v4'));
    expect(parseUfwTuples(read('any-proto', 'user.rules'), 'v4')[0]).toEqual(r('8080', 'any', 'v4'));
    expect(parseUfwTuples(read('deny-reject', 'user.rules'), 'v4').slice(3, 5)).toEqual([
      r('25', 'tcp', 'v4', { action: 'deny', direction: 'out' }),
      r('6667', 'tcp', 'v4', { action: 'reject', direction: 'out' }),
    ]);
  });

  it('route rules and interfaces (in_IF, out_IF, in_IF!out_IF)', () => {
    expect(parseUfwTuples(read('iface-route', 'user.rules'), 'v4')).toEqual([
      r('9000', 'tcp', 'v4', { iface: 'eth0' }),
      r('25', 'tcp', 'v4', { action: 'deny', direction: 'out', iface: 'eth0' }),
      r('80', 'tcp', 'v4', { route: true, to: '10.1.0.0/16', iface: 'eth0', ifaceOut: 'eth1' }),
      r('53', 'udp', 'v4', { route: true, direction: 'out', iface: 'eth0' }),
      r('any', 'any', 'v4', { route: true, action: 'deny', iface: 'eth1' }),
      r('443', 'tcp', 'v4', { route: true, from: '10.2.0.0/16', comment: 'fwd' }),
    ]);
  });

  it('app rules (9 fields), log types, source port', () => {
    expect(parseUfwTuples(read('misc', 'user.rules'), 'v4')).toEqual([
      r('22', 'tcp', 'v4', { app: 'OpenSSH' }),
      r('2223', 'tcp', 'v4', { log: 'log' }),
      r('2224', 'tcp', 'v4', { log: 'log-all' }),
      r('any', 'udp', 'v4', { fromPort: '53' }),
      r('any', 'esp', 'v4', { from: '192.0.2.0/24' }),
    ]);
  });

  it('refuses a malformed tuple instead of dropping a rule', () => {
    expect(() => parseUfwTuples('### tuple ### allow tcp 22\n', 'v4')).toThrow(/malformed tuple/);
  });
});

describe('parseDefaultUfw / parseUfwConf', () => {
  it('reads the policies as ufw names them, and IPV6', () => {
    expect(parseDefaultUfw(read('inactive-empty', 'default-ufw'))).toEqual({
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'deny' },
      ipv6: true,
    });
    expect(parseDefaultUfw(read('defaults-forwarding', 'default-ufw'))).toEqual({
      defaults: { incoming: 'reject', outgoing: 'deny', routed: 'allow' },
      ipv6: true,
    });
    expect(parseDefaultUfw(read('ipv6-off', 'default-ufw')).ipv6).toBe(false);
  });
  it('reads ENABLED and LOGLEVEL', () => {
    expect(parseUfwConf(read('inactive-empty', 'ufw.conf'))).toEqual({ enabled: false, logging: 'low' });
    expect(parseUfwConf(read('active-web', 'ufw.conf'))).toEqual({ enabled: true, logging: 'low' });
    expect(parseUfwConf(read('enabled-not-loaded', 'ufw.conf'))).toEqual({ enabled: true, logging: 'low' });
    expect(parseUfwConf(read('logging-off', 'ufw.conf')).logging).toBe('off');
  });
});

describe('ufwState fact', () => {
  it('is one read-only probe', () => {
    expect(ufwState.key).toBe('ufw.state');
    expect(ufwState.command).toBe(UFW_PROBE);
    expect(UFW_PROBE).not.toMatch(/ufw (allow|deny|reject|limit|delete|enable|disable|reset|reload|default|logging)/);
  });

  it('not installed: nothing active, what a fresh install would start with', () => {
    // Recorded in a container, where Docker turns ip_forward on: routed would show "deny".
    expect(probe('not-installed')).toEqual({
      installed: false,
      active: false,
      enabled: false,
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'deny' },
      logging: 'low',
      ipv6: true,
      rules: [],
    });
    expect(probe('purged')).toMatchObject({ installed: false, defaults: { routed: 'disabled' }, rules: [] });
  });

  it('removed but not purged: the leftover rules a reinstall would bring back', () => {
    expect(probe('removed-config-files')).toEqual({
      installed: false,
      active: false,
      enabled: false,
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
      logging: 'low',
      ipv6: true,
      rules: both('22', 'tcp', { comment: 'left over' }),
    });
  });

  it('inactive: rules from the tuple files, policies from /etc/default/ufw', () => {
    expect(probe('inactive-empty')).toEqual({
      installed: true,
      active: false,
      enabled: false,
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
      logging: 'low',
      ipv6: true,
      rules: [],
    });
    expect(probe('inactive-rules')).toMatchObject({ active: false, defaults: { incoming: 'reject' }, rules: tuples('inactive-rules') });
    expect(probe('inactive-forwarding')).toMatchObject({
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'allow' },
      logging: 'medium',
    });
    expect(probe('enabled-not-loaded')).toMatchObject({ active: false, enabled: true, rules: both('22', 'tcp') });
  });

  it('active', () => {
    expect(probe('active-web')).toEqual({
      installed: true,
      active: true,
      enabled: true,
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
      logging: 'low',
      ipv6: true,
      rules: [...['22', '80', '443'].map((p) => r(p, 'tcp', 'v4')), ...['22', '80', '443'].map((p) => r(p, 'tcp', 'v6'))],
    });
    expect(probe('logging-off').logging).toBe('off');
    expect(probe('defaults-forwarding').defaults).toEqual({ incoming: 'reject', outgoing: 'deny', routed: 'allow' });
  });

  it('IPV6=no: the rules ufw ignores in user6.rules are not reported', () => {
    expect(parseUfwTuples(read('ipv6-off', 'user6.rules'), 'v6')).toEqual([r('22', 'tcp', 'v6')]);
    expect(probe('ipv6-off')).toMatchObject({ ipv6: false, rules: [r('22', 'tcp', 'v4')] });
  });

  it.each(activeCases)('%s: policies read from the files agree with what ufw reports', (c) => {
    const status = parseUfwStatusVerbose(read(c, 'status-verbose.txt'));
    const state = probe(c);
    expect(state).toMatchObject({ active: true, defaults: status.defaults, logging: status.logging });
    // The inactive path on the same files (status section made "inactive") computes the same.
    const stdout = read(c, 'probe.txt').replace(
      /(@@hostkit-ufw status@@\n)[\s\S]*?(\n@@hostkit-ufw status\.exit@@)/,
      '$1Status: inactive\n$2',
    );
    const fromFiles = parseUfwProbe({ stdout, stderr: '', exitCode: 0 });
    expect(fromFiles).toEqual({ ...state, active: false });
  });

  it('never guesses: a failing probe throws', () => {
    expect(() => probe('not-root')).toThrow(/could not read \/etc\/ufw\/user\.rules, \/etc\/ufw\/user6\.rules/);
    const failed = read('not-root', 'probe.txt').replace(/\n@@hostkit-ufw \/etc\/ufw\/user6?\.rules:unreadable@@\n/g, '\n');
    expect(() => parseUfwProbe({ stdout: failed, stderr: '', exitCode: 0 })).toThrow(
      /ufw status verbose failed: ERROR: You need to be root/,
    );
    const cut = read('active-web', 'probe.txt').split('@@hostkit-ufw /etc/ufw/user.rules@@')[0] ?? '';
    expect(() => parseUfwProbe({ stdout: cut, stderr: '', exitCode: 0 })).toThrow(/incomplete/);
  });
});

describe('ruleKey / matchKey', () => {
  const ssh = r('22', 'tcp', 'v4', { comment: 'ssh' });
  it('ruleKey ignores the comment only', () => {
    expect(ruleKey(ssh)).toBe(ruleKey({ ...ssh, comment: undefined }));
    expect(ruleKey(ssh)).not.toBe(ruleKey({ ...ssh, family: 'v6' }));
    expect(ruleKey(ssh)).not.toBe(ruleKey({ ...ssh, action: 'limit' }));
    expect(ruleKey(ssh)).not.toBe(ruleKey({ ...ssh, log: 'log' }));
    expect(ruleKey(ssh)).not.toBe(ruleKey({ ...ssh, from: '10.0.0.0/8' }));
  });
  it('matchKey also ignores action and log type (ufw updates such a rule in place)', () => {
    expect(matchKey(ssh)).toBe(matchKey({ ...ssh, action: 'deny', log: 'log-all', comment: undefined }));
    expect(matchKey(ssh)).not.toBe(matchKey({ ...ssh, proto: 'any' }));
  });
  it('every recorded rule has a distinct key', () => {
    for (const c of statusCases) {
      const keys = tuples(c).map(ruleKey);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});

describe('toUfwArgs', () => {
  it('canonical long form; "both" keeps "any" so ufw writes v4 and v6', () => {
    expect(toUfwArgs({ ...r('22', 'tcp', 'v4', { comment: 'ssh' }), family: 'both' }, 'add')).toEqual([
      'ufw',
      'allow',
      'proto',
      'tcp',
      'from',
      'any',
      'to',
      'any',
      'port',
      '22',
      'comment',
      'ssh',
    ]);
    expect(toUfwArgs({ ...r('22', 'tcp', 'v4', { comment: 'ssh' }), family: 'both' }, 'delete')).toEqual([
      'ufw',
      '--force',
      'delete',
      'allow',
      'proto',
      'tcp',
      'from',
      'any',
      'to',
      'any',
      'port',
      '22',
    ]);
  });

  // Each argv below was run on the real ufw against its recorded rule: delete removed exactly that
  // tuple, add re-created it identically (comment included).
  const verified: [string, string, number, string][] = [
    ['comments', 'user.rules', 0, 'ufw allow proto tcp from 0.0.0.0/0 to 0.0.0.0/0 port 22 comment ssh access'],
    ['comments', 'user6.rules', 0, 'ufw allow proto tcp from ::/0 to ::/0 port 22 comment ssh access'],
    ['limit', 'user.rules', 1, 'ufw limit proto tcp from 192.0.2.0/24 to 0.0.0.0/0 port 2222'],
    ['source-restricted', 'user.rules', 0, 'ufw allow proto tcp from 10.0.0.0/8 to 0.0.0.0/0 port 5432'],
    ['source-restricted', 'user.rules', 4, 'ufw allow from 10.20.0.0/16 to 0.0.0.0/0'],
    ['v6-rules', 'user6.rules', 0, 'ufw allow proto tcp from 2001:db8::/32 to ::/0 port 443'],
    ['v6-rules', 'user6.rules', 1, 'ufw allow proto tcp from ::/0 to 2001:db8::1 port 8443'],
    ['port-ranges', 'user.rules', 0, 'ufw allow proto udp from 0.0.0.0/0 to 0.0.0.0/0 port 6000:6007'],
    ['port-ranges', 'user6.rules', 3, 'ufw allow proto tcp from ::/0 to ::/0 port 8000:8010,9000'],
    ['any-proto', 'user.rules', 0, 'ufw allow from 0.0.0.0/0 to 0.0.0.0/0 port 8080'],
    ['deny-reject', 'user.rules', 2, 'ufw reject from 0.0.0.0/0 to 0.0.0.0/0 port 111'],
    ['deny-reject', 'user6.rules', 3, 'ufw deny out proto tcp from ::/0 to ::/0 port 25'],
    ['iface-route', 'user.rules', 0, 'ufw allow in on eth0 proto tcp from 0.0.0.0/0 to 0.0.0.0/0 port 9000'],
    ['iface-route', 'user.rules', 1, 'ufw deny out on eth0 proto tcp from 0.0.0.0/0 to 0.0.0.0/0 port 25'],
    ['iface-route', 'user.rules', 2, 'ufw route allow in on eth0 out on eth1 proto tcp from 0.0.0.0/0 to 10.1.0.0/16 port 80'],
    ['iface-route', 'user.rules', 3, 'ufw route allow out on eth0 proto udp from 0.0.0.0/0 to 0.0.0.0/0 port 53'],
    ['iface-route', 'user.rules', 5, 'ufw route allow proto tcp from 10.2.0.0/16 to 0.0.0.0/0 port 443 comment fwd'],
    ['misc', 'user.rules', 0, 'ufw allow from 0.0.0.0/0 to 0.0.0.0/0 app OpenSSH'],
    ['misc', 'user6.rules', 2, 'ufw allow log-all proto tcp from ::/0 to ::/0 port 2224'],
    ['misc', 'user.rules', 3, 'ufw allow proto udp from 0.0.0.0/0 port 53 to 0.0.0.0/0'],
    ['misc', 'user.rules', 4, 'ufw allow proto esp from 192.0.2.0/24 to 0.0.0.0/0'],
  ];
  it.each(verified)('%s %s #%i', (c, file, index, add) => {
    const rule = parseUfwTuples(read(c, file), file === 'user6.rules' ? 'v6' : 'v4')[index];
    if (!rule) throw new Error('no such rule');
    const words = add.split(' ');
    const argv = rule.comment ? [...words.slice(0, words.indexOf('comment') + 1), rule.comment] : words;
    expect(toUfwArgs(rule, 'add')).toEqual(argv);
    const bare = rule.comment ? argv.slice(0, -2) : argv;
    const routed =
      bare[1] === 'route' ? ['ufw', '--force', 'route', 'delete', ...bare.slice(2)] : ['ufw', '--force', 'delete', ...bare.slice(1)];
    expect(toUfwArgs(rule, 'delete')).toEqual(routed);
  });

  it('refuses a comment ufw would refuse', () => {
    expect(() => toUfwArgs(r('22', 'tcp', 'v4', { comment: "it's" }), 'add')).toThrow(/cannot contain/);
  });
});

describe('normalizeUfwAddress', () => {
  // Left: given to `ufw allow from X ...`; right: what ufw stored in the tuple.
  it.each([
    ['10.0.0.5/8', '10.0.0.0/8'],
    ['172.16.5.4/12', '172.16.0.0/12'],
    ['10.1.2.3/20', '10.1.0.0/20'],
    ['10.0.0.5/255.0.0.0', '10.0.0.0/8'],
    ['198.51.100.7/32', '198.51.100.7'],
    ['192.0.2.1/255.255.255.255', '192.0.2.1'],
    ['0.0.0.0/0', 'any'],
    ['2001:DB8::0/32', '2001:db8::/32'],
    ['2001:db8::5/32', '2001:db8::5/32'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001/128', '2001:db8::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80:0:0:0::1/64', 'fe80::1/64'],
    ['0:0:0:0:0:0:0:0/0', 'any'],
    ['::/0', 'any'],
    ['any', 'any'],
  ])('%s -> %s', (given, stored) => {
    expect(normalizeUfwAddress(given)).toBe(stored);
  });
  it.each(['010.1.1.1', '10.0.0.256', '10.0.0.0/33', 'example.com', '1:2:3', '2001:db8::/129'])('refuses %s', (bad) => {
    expect(() => normalizeUfwAddress(bad)).toThrow();
  });
});

describe('the state without `ufw status verbose` (ufwStateFromFiles)', () => {
  // ufw's status is its files plus one test, "are its chains loaded": given that bit (here the
  // recorded status line), the files alone must give exactly what status verbose gave.
  const loaded = (c: string) => has(c, 'status-verbose.txt') && read(c, 'status-verbose.txt').startsWith('Status: active');
  const usable = cases.filter((c) => c !== 'not-root');
  it.each(usable)('%s: equal to the status-verbose parse', (c) => {
    expect(ufwStateFromFiles(sections(c), loaded(c))).toEqual(probe(c));
  });
  it.each(usable)("%s: today's probe, re-recorded in the same state, parses to the same state", (c) => {
    const now = factOutput('ufw.state', c);
    expect(now.stdout).not.toContain('@@hostkit-ufw status@@');
    expect(parseUfwProbe(now)).toEqual(probe(c));
  });
  it('covers every active case and the inactive ones', () => {
    expect(activeCases.length).toBeGreaterThanOrEqual(15);
    expect(usable.filter(loaded)).toEqual(activeCases);
  });
  it('a missing or unknown LOGLEVEL reads "unknown" when loaded, as ufw prints it', () => {
    const s = sections('active-web');
    s.set('/etc/ufw/ufw.conf', 'ENABLED=yes\n');
    expect(ufwStateFromFiles(s, true).logging).toBe('unknown');
    s.set('/etc/ufw/ufw.conf', 'ENABLED=yes\nLOGLEVEL=loud\n');
    expect(ufwStateFromFiles(s, true).logging).toBe('unknown');
  });
});
