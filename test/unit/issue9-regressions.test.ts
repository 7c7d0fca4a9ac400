import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { backupModel } from '../../src/backup/model.js';
import { backupScript, envFile, timerUnit } from '../../src/backup/script.js';
import { parseRunOptions } from '../../src/cli/options.js';
import { clearSecrets, redact, registerSecrets } from '../../src/engine/redact.js';
import { cliReporter, loadTargets } from '../../src/cli/session.js';
import { playbookOptions, runPlaybook } from '../../src/engine/run.js';
import { InventoryError, loadInventory, parseInventory, parseInventorySources, selectHosts } from '../../src/inventory/index.js';
import { renderCompose } from '../../src/platform/compose.js';
import { platformOf } from '../../src/platform/model.js';
import { preparePlatform } from '../../src/platform/prepare.js';
import { parseSecretsFile } from '../../src/platform/secrets.js';
import { backupRole } from '../../src/roles/backup.js';
import { jailLocalData } from '../../src/roles/fail2ban.js';
import { fail2banSchema } from '../../src/roles/fail2ban.schema.js';
import { renderTemplate } from '../../src/templates.js';

/**
 * One case per finding of issue 9 in the input half (values, secrets, protection, CLI); each
 * failed on the code before the fix. The runtime half (lock, signals, dropped links) is elsewhere.
 */

const HOSTS = 'all:\n  hosts:\n    web1: { address: 10.0.0.5 }\n';
const BACKUP = 'backup:\n  repository: /srv/restic\n  password_secret: restic_password\n';

/** The positioned problems of an inventory text, or [] when it loads. */
function problems(text: string): string[] {
  try {
    parseInventory(text, 'inv.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path}`);
  }
}

const bash = (script: string, cwd?: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
const tmp = () => mkdtemp(join(tmpdir(), 'hostkit-issue9-'));

afterEach(() => clearSecrets());

describe('issue 9 HIGH: no inventory value runs as root', () => {
  it('data.root with a line break is a positioned error; the script header never carries the data root', () => {
    expect(problems(`${HOSTS}data:\n  root: "/mnt/data\\ntouch /tmp/pwned"\n${BACKUP}`)).toEqual(['inv.yaml:5:9: data.root']);
    // A hostile but single-line root is only ever quoted code, never comment text.
    const inv = parseInventory(`${HOSTS}data:\n  root: "/mnt/data # x $(id)"\n${BACKUP}`, 'inv.yaml');
    const script = backupScript(backupModel(inv)!, 'web1');
    const comments = script.split('\n').filter((l) => /^\s*#/.test(l));
    expect(comments.join('\n')).not.toContain('/mnt/data');
    expect(bash(`bash -n <<'EOF'\n${script}\nEOF`).status).toBe(0);
  });

  it('backup.repository is shell-quoted in the sourced env file: $(), ; and backticks stay text, & in an S3 URL survives', async () => {
    const dir = await tmp();
    for (const repo of [
      '/srv/restic/$(touch${IFS}pwned1);touch${IFS}pwned2',
      '/srv/`touch${IFS}pwned3`',
      's3:https://s3.example/bucket?a=1&b=2',
    ]) {
      const inv = parseInventory(`${HOSTS}backup:\n  repository: '${repo}'\n  password_secret: restic_password\n`, 'inv.yaml');
      await writeFile(join(dir, 'env'), envFile(backupModel(inv)!));
      const r = bash('set -a; . ./env; set +a; printf %s "$RESTIC_REPOSITORY"', dir);
      expect(r.stdout).toBe(repo);
    }
    for (const f of ['pwned1', 'pwned2', 'pwned3']) expect(existsSync(join(dir, f))).toBe(false);
  });

  it('fail2ban journalmatch and filter with a CR (universal newlines) are positioned errors', () => {
    const jail = (field: string) =>
      `${HOSTS}fail2ban:\n  jails:\n    - name: app\n      filter: ${field === 'filter' ? '"sshd\\rignorecommand = touch /tmp/x"' : 'sshd'}\n      journalmatch: ${field === 'journalmatch' ? '"_SYSTEMD_UNIT=a.service\\rignorecommand = touch /tmp/x"' : '_SYSTEMD_UNIT=a.service'}\n`;
    expect(problems(jail('journalmatch'))).toEqual(['inv.yaml:8:21: fail2ban.jails[0].journalmatch']);
    expect(problems(jail('filter'))).toEqual(['inv.yaml:7:15: fail2ban.jails[0].filter']);
  });
});

describe('issue 9 MEDIUM', () => {
  it('backup.schedule / check_schedule with a CR are positioned errors; the timer carries one OnCalendar line', () => {
    expect(problems(`${HOSTS}${BACKUP}  schedule: "daily\\rExecStartPre=/bin/touch /tmp/x"\n`)).toEqual(['inv.yaml:7:13: backup.schedule']);
    expect(problems(`${HOSTS}${BACKUP}  check_schedule: "weekly\\rOnBootSec=1"\n`)).toEqual(['inv.yaml:7:19: backup.check_schedule']);
    expect(() => timerUnit('run', 'daily\rExecStartPre=/bin/touch /tmp/x')).toThrow(/systemd unit/);
    // systemd's own parser checks the spec on the host before the timer file is replaced.
    const inv = parseInventory(`${HOSTS}${BACKUP}  schedule: "Mon..Fri 02:30"\n`, 'inv.yaml');
    const build = backupRole.build(backupRole.config!(inv)!, inv.hosts[0]!, { password: 'restic-password-0123' });
    const timer = build.resources.find((r) => r.id.includes('hostkit-backup.timer') && 'spec' in r) as unknown as {
      spec: { validate?: string };
    };
    expect(timer.spec.validate).toBe("systemd-analyze calendar 'Mon..Fri 02:30'");
  });

  it('firewall.rules[].from is an address or network, refused with its position at load time', () => {
    const rule = (from: string) => `${HOSTS}firewall:\n  rules:\n    - { port: 22, from: "${from}" }\n`;
    expect(problems(rule('10.0.0.0/8'))).toEqual([]);
    expect(problems(rule('1.2.3.4 port 22 proto tcp'))).toEqual(['inv.yaml:6:25: firewall.rules[0].from']);
    expect(problems(rule('999.0.0.1'))).toEqual(['inv.yaml:6:25: firewall.rules[0].from']);
  });

  it('numeric and boolean secrets are refused, naming the key, never the value', () => {
    for (const value of ['01234567', '123456789012345678901234567890', '1e3', 'true']) {
      const err = (() => {
        try {
          parseSecretsFile(`db_password: ${value}\n`, 's.yaml');
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message, value).toMatch(/db_password/);
      expect(err?.message).not.toContain(value);
    }
    expect(parseSecretsFile('db_password: "01234567"\n', 's.yaml').get('db_password')).toBe('01234567');
  });

  it('--check that selects no host exits 1 ("no host selected")', async () => {
    const dir = await tmp();
    const file = join(dir, 'inventory.yaml');
    await writeFile(file, 'all:\n  hosts:\n    prod: { address: 203.0.113.10, protected: true }\n');
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) !== 0 } as unknown as NodeJS.WritableStream;
    const { options } = parseRunOptions(['--check', '-i', file]);
    const { inventory, hosts, skipped } = await loadTargets(options);
    const reporter = cliReporter(options, { out: sink, err: sink });
    const r = await runPlaybook(inventory, [], { ...playbookOptions(options), hosts, skipped, reporter });
    expect(out.join('')).toContain('no host selected');
    expect(r.exitCode).toBe(1);
  });

  it('an overlay with protected: null cannot unprotect a host (error at the overlay, before any connection)', () => {
    const base = 'all:\n  hosts:\n    prod: { address: 203.0.113.10, protected: true }\n';
    expect(() =>
      parseInventorySources([
        { file: 'inventory.yaml', text: base },
        { file: 'overlay.yaml', text: 'all:\n  hosts:\n    prod:\n      protected: null\n' },
      ]),
    ).toThrow(/overlay\.yaml:4:7: .*cannot unprotect host "prod"/);
  });

  it('connection: local honours protection unless the run is on that very machine', () => {
    const inv = parseInventory('all:\n  hosts:\n    prod: { connection: local, protected: true }\n', 'inv.yaml');
    expect(selectHosts(inv, { local: false, thisMachine: 'workstation' }).hosts).toEqual([]);
    expect(selectHosts(inv, { local: true, thisMachine: 'workstation' }).hosts).toEqual([]);
    expect(selectHosts(inv, { local: false, thisMachine: 'prod' }).hosts.map((h) => h.name)).toEqual(['prod']);
  });
});

describe('issue 9 LOW', () => {
  it('secrets shorter than 8 characters are refused, and a registered short value never redacts ordinary text', () => {
    expect(() => parseSecretsFile('restic_password: data\n', 's.yaml')).toThrow(/restic_password/);
    expect(() => parseSecretsFile('restic_password: ab\n', 's.yaml')).toThrow(/at least 8 characters/);
    registerSecrets(['data']);
    expect(redact('/mnt/data')).toBe('/mnt/data');
  });

  it('the backup script runs under umask 077 (dumps are 0600 while written)', () => {
    const inv = parseInventory(`${HOSTS}${BACKUP}`, 'inv.yaml');
    const script = backupScript(backupModel(inv)!, 'web1');
    expect(script.split('\n').indexOf('umask 077')).toBeGreaterThan(0);
    expect(script.indexOf('umask 077')).toBeLessThan(script.indexOf('case "${1:-run}"'));
  });

  it('build contexts are packed into a private (0700) directory', async () => {
    const dir = await tmp();
    await mkdir(join(dir, 'ctx'));
    await writeFile(join(dir, 'ctx', 'Dockerfile'), 'FROM busybox:1.36\n');
    await writeFile(
      join(dir, 'inventory.yaml'),
      `${HOSTS}data: { root: /mnt/data, directories: [{ path: app }] }\nimages:\n  "app:1.0": { source: build, context: ctx }\nstacks:\n  app:\n    layer: development\n    networks: { n: { name: app_n } }\n    services:\n      web: { container_name: app-web, image: "app:1.0", networks: [n] }\n`,
    );
    const prepared = await preparePlatform(platformOf(await loadInventory([join(dir, 'inventory.yaml')])));
    const tar = [...prepared.contexts.values()][0]!.tar;
    expect(statSync(dirname(tar)).mode & 0o777).toBe(0o700);
  });

  it('healthcheck and volume strings are $-escaped for compose', () => {
    const inv = parseInventory(
      `${HOSTS}data: { root: /mnt/data, directories: [{ path: app }] }\nstacks:\n  app:\n    layer: development\n    networks: { n: { name: app_n } }\n    services:\n      web:\n        container_name: app-web\n        image: "busybox:1.36"\n        networks: [n]\n        volumes: ["app/$HOME:/data"]\n        healthcheck: { test: "test -n $PATH" }\n`,
      'inv.yaml',
    );
    const doc = parse(renderCompose(platformOf(inv).stacks[0]!)) as {
      services: { web: { volumes: string[]; healthcheck: { test: string[] } } };
    };
    expect(doc.services.web.volumes).toEqual(['/mnt/data/app/$$HOME:/data']);
    expect(doc.services.web.healthcheck.test).toEqual(['CMD-SHELL', 'test -n $$PATH']);
  });

  it('docker repository URLs are https only, without spaces', () => {
    const repo = (url: string) => `${HOSTS}docker:\n  source: docker-ce\n  repository:\n    url: "${url}"\n`;
    expect(problems(repo('https://docker-apt.example.net/linux/debian'))).toEqual([]);
    expect(problems(repo('file:///srv/repo'))).toEqual(['inv.yaml:7:10: docker.repository.url']);
    expect(problems(repo('https://x.example/a b'))).toEqual(['inv.yaml:7:10: docker.repository.url']);
  });

  it('ufw comments cannot contain line breaks', () => {
    expect(problems(`${HOSTS}firewall:\n  rules:\n    - { port: 22, comment: "ssh\\nallow 23" }\n`)).toEqual([
      'inv.yaml:6:28: firewall.rules[0].comment',
    ]);
  });

  it('positional arguments and --forks 1e3 are usage errors', () => {
    expect(() => parseRunOptions(['--check', 'firewall'])).toThrow(/firewall|positional/);
    expect(() => parseRunOptions(['--forks', '1e3'])).toThrow(/--forks/);
    expect(() => parseRunOptions(['--forks', '0x10'])).toThrow(/--forks/);
    expect(parseRunOptions(['--forks', '12']).options.forks).toBe(12);
  });

  it('fail2ban values are INI-escaped: a % stays literal for fail2ban interpolation', () => {
    const cfg = fail2banSchema.parse({ jails: [{ name: 'app', filter: 'app', journalmatch: '_SYSTEMD_UNIT=a%(x)s.service' }] });
    expect(renderTemplate('fail2ban/jail.local.hbs', jailLocalData(cfg))).toContain('journalmatch = _SYSTEMD_UNIT=a%%(x)s.service\n');
  });
});
