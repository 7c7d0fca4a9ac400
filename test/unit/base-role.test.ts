import { describe, expect, it } from 'vitest';
import { buildRole } from '../../src/engine/role-input.js';
import { parseSysctl } from '../../src/facts/sysctl.js';
import { planSysctl } from '../../src/resources/sysctl.js';
import { parseTimezoneProbe } from '../../src/facts/timezone.js';
import { planTimezone } from '../../src/resources/timezone.js';
import { hostsResolves, parseHostnameProbe } from '../../src/facts/hostname.js';
import { hostsWithName, planHostname } from '../../src/resources/hostname.js';
import { baseRole, basePackages, sysctlFileContent, AUTO_UPGRADES, SYSCTL_FILE } from '../../src/roles/base.js';
import { baseSchema, inventorySchema } from '../../src/inventory/schema.js';
import { renderTemplate } from '../../src/templates.js';
import { RefusedError } from '../../src/engine/errors.js';
import type { HostConfig } from '../../src/inventory/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const cfg = (over: object = {}) => baseSchema.parse(over);

describe('sysctl', () => {
  it('parses values (tabs folded to spaces) and absent keys', () => {
    const out = (stdout: string, exitCode = 0) => ({ stdout, stderr: exitCode ? 'sysctl: not found' : '', exitCode });
    const v = parseSysctl(out('net.ipv4.ip_local_port_range = 32768\t60999\nnet.ipv4.tcp_syncookies = 1\n'), [
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_syncookies',
      'net.nope',
    ]);
    expect([...v]).toEqual([
      ['net.ipv4.ip_local_port_range', '32768 60999'],
      ['net.ipv4.tcp_syncookies', '1'],
      ['net.nope', undefined],
    ]);
    // A value of several lines is one value; keys not asked for (a directory's keys) are left out.
    expect([...parseSysctl(out('a.b = x\ny z\nc.d = 2\n'), ['a.b'])]).toEqual([['a.b', 'x y z']]);
    expect(() => parseSysctl(out('', 127), ['a.b'])).toThrow(/sysctl failed \(exit 127\): sysctl: not found/);
  });

  it('plans one sysctl -w per differing key; refuses a key the kernel lacks', () => {
    const live = new Map([
      ['net.ipv4.tcp_syncookies', '0'],
      ['net.ipv4.ip_local_port_range', '32768 60999'],
    ]);
    const desired = new Map([
      ['net.ipv4.tcp_syncookies', '1'],
      ['net.ipv4.ip_local_port_range', '32768 60999'],
    ]);
    expect(planSysctl(desired, live).map((c) => [c.summary, c.actions])).toEqual([
      ['sysctl net.ipv4.tcp_syncookies 0 -> 1', [{ kind: 'exec', script: 'sysctl -q -w net.ipv4.tcp_syncookies=1' }]],
    ]);
    expect(() => planSysctl(new Map([['net.nope', '1']]), new Map([['net.nope', undefined]]))).toThrow(RefusedError);
  });

  it('the persisted file, sorted', () => {
    expect(sysctlFileContent(cfg({ sysctl: { 'net.ipv4.tcp_syncookies': 1, 'net.ipv4.conf.all.accept_redirects': 0 } }))).toMatch(
      /^# Managed by hostkit.*\n.*\nnet\.ipv4\.conf\.all\.accept_redirects = 0\nnet\.ipv4\.tcp_syncookies = 1\n$/,
    );
  });
});

describe('timezone', () => {
  const probe = (link: string, wanted: boolean, same: boolean, legacy?: string) =>
    parseTimezoneProbe(`link=${link}\nwanted=${wanted ? 'yes' : 'no'}\nsame=${same ? 'yes' : 'no'}\n${legacy ? `legacy=${legacy}\n` : ''}`);

  it('parses the probe', () => {
    expect(probe('/usr/share/zoneinfo/Etc/UTC', true, true)).toEqual({ zone: 'Etc/UTC', sameAsWanted: true, wantedExists: true });
    expect(probe('', true, false, 'Europe/Moscow')).toEqual({ sameAsWanted: false, wantedExists: true, legacy: 'Europe/Moscow' });
  });

  it('UTC and Etc/UTC are the same zone: no change', () => {
    expect(planTimezone('UTC', probe('/usr/share/zoneinfo/Etc/UTC', true, true))).toEqual([]);
  });

  it('plans the link (and the legacy file when present)', () => {
    const [c] = planTimezone('Europe/Moscow', probe('/usr/share/zoneinfo/Etc/UTC', true, false));
    expect(c!.summary).toBe('timezone Etc/UTC -> Europe/Moscow');
    expect(c!.actions[0]).toMatchObject({ kind: 'exec', display: 'ln -sfn /usr/share/zoneinfo/Europe/Moscow /etc/localtime' });
    expect(planTimezone('UTC', probe('/usr/share/zoneinfo/Etc/UTC', true, true, 'Asia/Tokyo'))[0]!.summary).toBe(
      'timezone /etc/timezone Asia/Tokyo -> UTC',
    );
  });

  it('refuses an unknown zone, unless a package install is still pending', () => {
    expect(() => planTimezone('Mars/Olympus', probe('/usr/share/zoneinfo/Etc/UTC', false, false))).toThrow(/does not exist/);
    expect(planTimezone('Mars/Olympus', probe('/usr/share/zoneinfo/Etc/UTC', false, false), 'h', true)).toHaveLength(1);
  });
});

describe('hostname', () => {
  const dockerHosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.19.0.2\thkx-target\n';

  it('parses the probe', () => {
    expect(parseHostnameProbe(`kernel=web1\nfile=web1\nhosts=${b64(dockerHosts)}\n`)).toEqual({
      kernel: 'web1',
      file: 'web1',
      hosts: dockerHosts,
    });
    expect(parseHostnameProbe(`kernel=web1\nfile!\nhosts=\n`)).toEqual({ kernel: 'web1', hosts: '' });
  });

  it('/etc/hosts: resolves only on non-comment lines; 127.0.1.1 replaced or appended', () => {
    expect(hostsResolves(dockerHosts, 'hkx-target')).toBe(true);
    expect(hostsResolves('# 127.0.1.1 web1\n', 'web1')).toBe(false);
    expect(hostsWithName(dockerHosts, 'web1')).toBe(`${dockerHosts}127.0.1.1\tweb1\n`);
    expect(hostsWithName('127.0.0.1 localhost\n127.0.1.1 old.example old\n', 'web1')).toBe('127.0.0.1 localhost\n127.0.1.1\tweb1\n');
  });

  it('plans /etc/hostname, the running name and /etc/hosts separately', () => {
    const changes = planHostname('web1', { kernel: 'hkx-target', file: 'hkx-target', hosts: dockerHosts });
    expect(changes.map((c) => c.summary)).toEqual([
      '/etc/hostname hkx-target -> web1',
      'running hostname hkx-target -> web1',
      '/etc/hosts does not map web1: set 127.0.1.1 web1',
    ]);
    expect(planHostname('web1', { kernel: 'web1', file: 'web1', hosts: `${dockerHosts}127.0.1.1 web1\n` })).toEqual([]);
  });
});

describe('base role', () => {
  const host: HostConfig = {
    name: 'h',
    address: 'a',
    port: 22,
    user: 'root',
    become: false,
    connection: 'ssh',
    protected: false,
    hostKeyChecking: 'strict',
    connectTimeoutMs: 1000,
    groups: ['all'],
  };
  const build = (base: object) =>
    buildRole(baseRole, { sources: [], hosts: [host], groups: {}, doc: inventorySchema.parse({ all: {}, base }) }, host);

  it('defaults: UTC, unattended upgrades on', () => {
    expect(cfg()).toEqual({ packages: [], timezone: 'UTC', unattended_upgrades: true, sysctl: {} });
    expect(basePackages(cfg({ packages: ['curl', 'unattended-upgrades'] }))).toEqual(['curl', 'unattended-upgrades']);
    expect(basePackages(cfg({ packages: ['curl'], unattended_upgrades: false }))).toEqual(['curl']);
  });

  it('rejects bad names, zones and sysctl keys', () => {
    expect(baseSchema.safeParse({ packages: ['Curl!'] }).success).toBe(false);
    expect(baseSchema.safeParse({ hostname: 'web_1' }).success).toBe(false);
    expect(baseSchema.safeParse({ timezone: '../../etc/passwd' }).success).toBe(false);
    expect(baseSchema.safeParse({ sysctl: { swappiness: 10 } }).success).toBe(false);
    expect(baseSchema.safeParse({ sysctl: { 'vm.swappiness': '10\nkernel.x = 1' } }).success).toBe(false);
  });

  it('resources in order', () => {
    expect(build({ packages: ['curl'], hostname: 'web1', sysctl: { 'net.ipv4.tcp_syncookies': 1 } }).resources.map((r) => r.id)).toEqual([
      'packages',
      'hostname web1',
      'timezone UTC',
      `file ${AUTO_UPGRADES}`,
      'service apt-daily.timer',
      'service apt-daily-upgrade.timer',
      `file ${SYSCTL_FILE}`,
      'sysctl net.ipv4.tcp_syncookies',
    ]);
    expect(build({ unattended_upgrades: false }).resources.map((r) => r.id)).toEqual([
      'timezone UTC',
      `file ${AUTO_UPGRADES}`,
      `file ${SYSCTL_FILE}`,
    ]);
  });

  it('20auto-upgrades', () => {
    expect(renderTemplate('base/20auto-upgrades.hbs', { flag: '1' })).toMatch(
      /APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n$/,
    );
  });
});
