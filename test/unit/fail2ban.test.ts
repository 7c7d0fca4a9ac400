import { describe, expect, it } from 'vitest';
import { buildRole } from '../../src/engine/role-input.js';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFail2banProbe, parseJailActions, parseJailStatus, parseServerStatus } from '../../src/facts/fail2ban.js';
import { planJails } from '../../src/resources/fail2ban-jails.js';
import { expectedJails, fail2banRole, jailLocalData, reloadScript, SSHD_JOURNALMATCH } from '../../src/roles/fail2ban.js';
import { fail2banSchema, inventorySchema } from '../../src/inventory/schema.js';
import { renderTemplate } from '../../src/templates.js';
import type { Inventory } from '../../src/inventory/types.js';

/** probe-<case>.txt: the recorded fail2ban.state fact fixtures (test/fixtures/facts/fail2ban.state/). */
const fixture = (name: string) => factOutput('fail2ban.state', name.replace(/^probe-(.*)\.txt$/, '$1')).stdout;

describe('fail2ban probe parser (outputs recorded on Debian 13, fail2ban 1.1.0)', () => {
  it('a running server: jails, counters, journal matches, file lists', () => {
    const s = parseFail2banProbe(fixture('probe-running.txt'));
    expect(s).toMatchObject({ installed: true, active: 'active', running: true, ufwActive: true, jails: ['recidive', 'sshd', 'webapp'] });
    expect(s.status.get('sshd')).toEqual({
      name: 'sshd',
      currentlyFailed: 0,
      totalFailed: 0,
      currentlyBanned: 0,
      totalBanned: 0,
      banned: [],
      journalMatches: SSHD_JOURNALMATCH,
      actions: ['ufw'],
    });
    expect(s.status.get('recidive')?.files).toEqual(['/var/log/fail2ban.log']);
    expect(s.status.get('webapp')?.actions).toEqual(['ufw', 'nftables-docker']);
  });

  it('banned addresses', () => {
    const s = parseFail2banProbe(fixture('probe-banned.txt'));
    expect(s.status.get('sshd')).toMatchObject({ currentlyBanned: 2, banned: ['172.19.0.3', '198.51.100.7'] });
  });

  it('a stopped server: not running, the client words kept', () => {
    const s = parseFail2banProbe(fixture('probe-stopped.txt'));
    expect(s).toMatchObject({ installed: true, active: 'inactive', running: false, jails: [] });
    expect(s.error).toContain('Failed to access socket path');
  });

  it('not installed (and no ufw)', () => {
    expect(parseFail2banProbe(fixture('probe-not-installed.txt'))).toMatchObject({ installed: false, running: false, ufwActive: false });
  });

  it('refuses output it does not understand instead of guessing', () => {
    expect(() => parseFail2banProbe('garbage')).toThrow(/unexpected fail2ban probe output/);
    expect(() => parseServerStatus('Status\n')).toThrow(/Jail list/);
    expect(() => parseJailStatus('sshd', 'Status for the jail: sshd\n')).toThrow(/currently failed/);
    expect(() => parseJailActions('x', "Sorry but the jail 'x' does not exist\n")).toThrow(/unexpected output/);
    expect(parseJailActions('x', 'The jail x has the following actions:\n\n')).toEqual([]);
  });
});

const config = (over: object = {}) => fail2banSchema.parse(over);

describe('jail.local and the sshd filter (templates)', () => {
  it('defaults: sshd on the journal in aggressive mode, with sshd-session and SYSLOG_IDENTIFIER, recidive, ufw', () => {
    const text = renderTemplate('fail2ban/jail.local.hbs', jailLocalData(config({ ignoreip: ['203.0.113.7'] })));
    expect(text).toContain('ignoreip = 127.0.0.1/8 ::1 203.0.113.7\n');
    expect(text).toContain('banaction = ufw\nbanaction_allports = ufw\n');
    expect(text).toMatch(/\[sshd\]\nenabled = true\n(#.*\n)*backend = systemd\n(#.*\n)*mode = aggressive\n/);
    expect(text).toContain(`journalmatch = ${SSHD_JOURNALMATCH}\n`);
    expect(SSHD_JOURNALMATCH).toContain('_COMM=sshd-session');
    expect(SSHD_JOURNALMATCH).toContain('SYSLOG_IDENTIFIER=sshd-session');
    expect(text).toMatch(
      /\[recidive\]\nenabled = true\n[\s\S]*action = ufw\[blocktype=deny\]\nbantime = 1w\nfindtime = 1d\nmaxretry = 5\n/,
    );
    expect(text).not.toContain('chain_hook=forward');
    expect(text).not.toMatch(/undefined|\[object/);
  });

  it('per-jail overrides, disabled jails, nftables', () => {
    const text = renderTemplate(
      'fail2ban/jail.local.hbs',
      jailLocalData(config({ banaction: 'nftables', sshd: { maxretry: 3, bantime: '2h' }, recidive: { enabled: false } })),
    );
    expect(text).toContain('banaction = nftables\nbanaction_allports = nftables[type=allports]\n');
    expect(text).toMatch(/port = ssh\nmaxretry = 3\nbantime = 2h\n/);
    expect(text).toMatch(/\[recidive\]\nenabled = false\n/);
  });

  it('a proxied-app jail also bans forwarded traffic (nftables forward hook); a journal jail uses the systemd backend', () => {
    const text = renderTemplate(
      'fail2ban/jail.local.hbs',
      jailLocalData(
        config({
          jails: [
            {
              name: 'npm',
              filter: 'nginx-http-auth',
              logpath: ['/mnt/data/nginx/logs/a.log', '/mnt/data/nginx/logs/b.log'],
              proxied: true,
              maxretry: 10,
            },
            { name: 'app', filter: 'sshd[mode=ddos]', journalmatch: '_SYSTEMD_UNIT=app.service', port: '8080' },
          ],
        }),
      ),
    );
    expect(text).toContain(
      '[npm]\nenabled = true\nfilter = nginx-http-auth\nbackend = auto\nlogpath = /mnt/data/nginx/logs/a.log\n          /mnt/data/nginx/logs/b.log\nport = http,https\nmaxretry = 10\n',
    );
    expect(text).toMatch(/action = %\(action_\)s\n\s+nftables\[type=allports, name=npm-docker, chain=f2b-forward, chain_hook=forward\]\n/);
    expect(text).toContain(
      '[app]\nenabled = true\nfilter = sshd[mode=ddos]\nbackend = systemd\njournalmatch = _SYSTEMD_UNIT=app.service\nport = 8080\n',
    );
  });

  it('the sshd filter extension also counts OpenSSH penalty drops', () => {
    const text = renderTemplate('fail2ban/sshd.local.hbs', {});
    expect(text).toContain('failregex = %(known/failregex)s\n');
    expect(text).toContain('^drop connection #\\d+ from \\[<HOST>\\]:\\d+ on \\[\\S+\\]:\\d+ penalty: failed authentication');
  });
});

describe('fail2ban inventory section', () => {
  it('rejects bad times, addresses, duplicate or built-in jail names, a jail with both sources', () => {
    expect(fail2banSchema.safeParse({ bantime: '1 hour' }).success).toBe(false);
    expect(fail2banSchema.safeParse({ ignoreip: ['my-laptop'] }).success).toBe(false);
    expect(fail2banSchema.safeParse({ jails: [{ name: 'sshd', filter: 'sshd', journalmatch: 'X=1' }] }).success).toBe(false);
    expect(fail2banSchema.safeParse({ jails: [{ name: 'a', filter: 'f', journalmatch: 'X=1', logpath: ['/x'] }] }).success).toBe(false);
    expect(fail2banSchema.safeParse({ jails: [{ name: 'a', filter: 'f' }] }).success).toBe(false);
    expect(fail2banSchema.safeParse({ sshd: { mode: 'paranoid' } }).success).toBe(false);
    expect(fail2banSchema.safeParse({ unknown: 1 }).success).toBe(false);
  });

  it('defaults', () => {
    expect(config()).toMatchObject({
      bantime: '1h',
      findtime: '10m',
      maxretry: 5,
      banaction: 'ufw',
      sshd: { enabled: true, mode: 'aggressive', port: 'ssh' },
      recidive: { enabled: true, bantime: '1w', findtime: '1d', maxretry: 5 },
      jails: [],
    });
  });
});

describe('jails planner (facts in, changes out)', () => {
  const running = parseFail2banProbe(fixture('probe-running.txt'));
  const expected = expectedJails(
    config({ jails: [{ name: 'webapp', filter: 'nginx-http-auth', logpath: ['/var/log/webapp.log'], proxied: true }] }),
  );

  it('nothing when every jail runs with the configured journal matches', () => {
    expect(planJails(expected, running)).toEqual([]);
  });

  it('names each jail that should be active and is not', () => {
    const changes = planJails([...expected, { name: 'nginx-botsearch', actions: 1 }], running);
    expect(changes.map((c) => c.summary)).toEqual(['jail nginx-botsearch should be active and is not (active: recidive, sshd, webapp)']);
    expect(changes[0]!.actions).toEqual([]); // the reload handler acts
  });

  it('a jail running with Debian journal matches means the configuration is not loaded', () => {
    const stale = parseFail2banProbe(fixture('probe-running.txt').replace(SSHD_JOURNALMATCH, '_SYSTEMD_UNIT=ssh.service + _COMM=sshd'));
    expect(planJails(expected, stale).map((c) => c.summary)).toEqual([
      `jail sshd runs with journal matches "_SYSTEMD_UNIT=ssh.service + _COMM=sshd", configured "${SSHD_JOURNALMATCH}" (configuration not loaded)`,
    ]);
  });

  it('a jail running without its configured ban actions (fail2ban reload does not add a new kind)', () => {
    const plain = expectedJails(config({ jails: [{ name: 'webapp', filter: 'nginx-http-auth', logpath: ['/var/log/webapp.log'] }] }));
    expect(planJails(plain, running).map((c) => c.summary)).toEqual([
      'jail webapp runs 2 ban action(s) (ufw, nftables-docker), configured 1 (configuration not loaded)',
    ]);
  });

  it('the service state when the server does not answer or is missing', () => {
    expect(planJails(expected, parseFail2banProbe(fixture('probe-stopped.txt')))[0]!.summary).toMatch(
      /^jails sshd, recidive, webapp should be active: fail2ban is inactive \(.*Failed to access socket path/,
    );
    expect(planJails(expected, parseFail2banProbe(fixture('probe-not-installed.txt')))[0]!.summary).toBe(
      'jails sshd, recidive, webapp should be active (fail2ban is not installed)',
    );
  });
});

describe('fail2ban role', () => {
  const inventory = (fail2ban: object): Inventory => ({
    sources: [],
    hosts: [],
    groups: {},
    doc: inventorySchema.parse({ all: {}, fail2ban }),
  });
  const host = {
    name: 'h',
    address: 'a',
    port: 22,
    user: 'root',
    become: false,
    connection: 'ssh',
    protected: false,
    hostKeyChecking: 'strict',
    connectTimeoutMs: 1000,
    groups: [],
  } as const;

  it('packages, both files validated by fail2ban-client -t, service, jails, the ufw audit; one reload handler', () => {
    const { resources, handlers } = buildRole(
      fail2banRole,
      inventory({ jails: [{ name: 'npm', filter: 'nginx-http-auth', logpath: ['/x.log'], proxied: true }] }),
      host,
    );
    expect(resources.map((r) => r.id)).toEqual([
      'packages fail2ban',
      'file /etc/fail2ban/filter.d/sshd.local',
      'file /etc/fail2ban/jail.local',
      'service fail2ban',
      'fail2ban jails sshd, recidive, npm',
      'fail2ban ban action ufw needs an active ufw',
    ]);
    expect((resources[0] as unknown as { names: string[] }).names).toEqual(['fail2ban', 'python3-systemd', 'nftables']);
    expect((resources[2] as unknown as { spec: { validate: string } }).spec.validate).toBe('fail2ban-client -t');
    expect(handlers?.map((h) => h.id)).toEqual(['reload fail2ban']);
  });

  it('no fail2ban section, no resources', () => {
    expect(
      buildRole(fail2banRole, { sources: [], hosts: [], groups: {}, doc: inventorySchema.parse({ all: {} }) }, host).resources,
    ).toEqual([]);
  });
});

describe('reload handler script (run against a fake fail2ban-client)', () => {
  async function runWithFake(
    jailList: string,
    active = 'active',
    actionsBefore = "'ufw, nftables-docker'",
  ): Promise<{ exitCode: number; stderr: string; calls: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-f2b-'));
    try {
      const log = join(dir, 'calls');
      await writeFile(
        join(dir, 'fail2ban-client'),
        [
          '#!/bin/sh',
          `echo "f2b $*" >> ${log}`,
          `[ "$1" = status ] && printf 'Status\\n|- Number of jail:\\t2\\n\`- Jail list:\\t${jailList}\\n'`,
          // Before a restart, the running jails lack the action a reload did not add.
          `[ "$1" = get ] && { printf 'The jail %s has the following actions:\\n' "$2"; if [ -f ${dir}/restarted ]; then echo 'ufw, nftables-docker'; else echo ${actionsBefore}; fi; }`,
          'exit 0',
        ].join('\n'),
      );
      await writeFile(
        join(dir, 'systemctl'),
        `#!/bin/sh\necho "systemctl $*" >> ${log}\n[ "$1" = is-active ] && { [ "${active}" = active ]; exit $?; }\n[ "$1" = restart ] && touch ${dir}/restarted\nexit 0\n`,
      );
      await writeFile(join(dir, 'sleep'), '#!/bin/sh\nexit 0\n');
      await writeFile(join(dir, 'tail'), '#!/bin/sh\nexit 0\n');
      await Promise.all(['fail2ban-client', 'systemctl', 'sleep', 'tail'].map((f) => chmod(join(dir, f), 0o755)));
      const jails = [
        { name: 'sshd', actions: 2 },
        { name: 'recidive', actions: 2 },
      ];
      const r = await execa('sh', ['-c', reloadScript(jails)], { reject: false, env: { PATH: `${dir}:${process.env.PATH}` } });
      return { exitCode: r.exitCode ?? -1, stderr: r.stderr, calls: readFileSync(log, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('reloads a running server and succeeds once every jail is listed', async () => {
    const r = await runWithFake('recidive, sshd');
    expect(r.exitCode).toBe(0);
    expect(r.calls).toContain('f2b reload');
    expect(r.calls).not.toContain('systemctl restart');
  });

  it('restarts a stopped server', async () => {
    const r = await runWithFake('recidive, sshd', 'inactive');
    expect(r.exitCode).toBe(0);
    expect(r.calls).toContain('systemctl restart fail2ban');
  });

  it('restarts when the reload left a jail without a configured action, and proves it after', async () => {
    const r = await runWithFake('recidive, sshd', 'active', "'ufw'");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.calls).toMatch(/f2b reload[\s\S]*systemctl restart fail2ban/);
  });

  it('fails naming the jails that did not come up', async () => {
    const r = await runWithFake('sshd');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('after the reload these jails are not active: recidive (active: sshd)');
  });
});
