import { describe, expect, it } from 'vitest';
import { planConfigKeys } from '../../src/resources/config-keys.js';
import { hardeningResources, hardeningRole, modprobeContent, kernelSysctlContent } from '../../src/roles/hardening.js';
import { buildRole } from '../../src/engine/role-input.js';
import { hardeningSchema } from '../../src/roles/hardening.schema.js';
import { KernelSysctl } from '../../src/resources/kernel-sysctl.js';
import { containerFact } from '../../src/facts/virt.js';
import { parseLynisReport } from '../../src/sandbox/lynis.js';
import { loadInventory } from '../../src/inventory/index.js';
import { RefusedError } from '../../src/engine/errors.js';
import type { FileState } from '../../src/facts/file.js';
import type { FactSet, PlanContext } from '../../src/engine/types.js';

const file = (content: string): FileState => ({
  path: '/etc/login.defs',
  exists: true,
  type: 'file',
  owner: 'root',
  group: 'root',
  mode: '0644',
  content: Buffer.from(content),
});
const LOGIN_DEFS = '# comment\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n#UMASK 022\nENCRYPT_METHOD YESCRYPT\n';

describe('ConfigKeys (login.defs, /etc/default)', () => {
  const keys = [
    { key: 'UMASK', value: '027', reason: 'private files' },
    { key: 'PASS_MIN_DAYS', value: '1', reason: 'aging' },
  ];

  it('names every differing key, replaces present ones, appends missing ones with their reason, one write', () => {
    const changes = planConfigKeys('/etc/login.defs', keys, file(LOGIN_DEFS));
    expect(changes.map((c) => c.summary)).toEqual([
      '/etc/login.defs: UMASK is unset, declared 027 (private files)',
      '/etc/login.defs: PASS_MIN_DAYS is 0, declared 1 (aging)',
    ]);
    expect(changes[0]?.actions).toEqual([]);
    const write = changes[1]?.actions[0];
    expect(write).toMatchObject({ kind: 'write', path: '/etc/login.defs', mode: '0644', owner: 'root', group: 'root' });
    const content = write?.kind === 'write' ? write.content : '';
    expect(content).toBe(
      '# comment\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t1\n#UMASK 022\nENCRYPT_METHOD YESCRYPT\n# hostkit (hardening): private files\nUMASK\t027\n',
    );
    // Converged: applying the written content plans nothing.
    expect(planConfigKeys('/etc/login.defs', keys, file(content))).toEqual([]);
  });

  it('reports a hand change back to 022 naming UMASK', () => {
    const drifted = 'PASS_MIN_DAYS\t1\nUMASK\t022\n';
    expect(planConfigKeys('/etc/login.defs', keys, file(drifted)).map((c) => c.summary)).toEqual([
      '/etc/login.defs: UMASK is 022, declared 027 (private files)',
    ]);
  });

  it('KEY=value files (/etc/default)', () => {
    const k = [{ key: 'ENABLED', value: '"true"', reason: 'collect' }];
    const changes = planConfigKeys('/etc/default/sysstat', k, file('# x\nENABLED="false"\n'), 'equals');
    expect(changes.map((c) => c.summary)).toEqual(['/etc/default/sysstat: ENABLED is "false", declared "true" (collect)']);
    const w = changes[0]?.actions[0];
    expect(w?.kind === 'write' && w.content).toBe('# x\nENABLED="true"\n');
  });

  it('KEY = value files (aide.conf)', () => {
    const k = [{ key: 'Checksums', value: 'sha512', reason: 'one hash' }];
    const w = planConfigKeys('/etc/aide/aide.conf', k, file('Checksums = H\nFull = InodeData+StaticFile\n'), 'spaced-equals')[0]
      ?.actions[0];
    expect(w?.kind === 'write' && w.content).toBe('Checksums = sha512\nFull = InodeData+StaticFile\n');
  });

  it('creates a missing file with the declared keys; refuses a directory', () => {
    const w = planConfigKeys('/etc/default/x', keys, { path: '/etc/default/x', exists: false }).at(-1)?.actions[0];
    expect(w?.kind === 'write' && w.content).toBe(
      '# hostkit (hardening): private files\nUMASK\t027\n# hostkit (hardening): aging\nPASS_MIN_DAYS\t1\n',
    );
    expect(() => planConfigKeys('/etc/x', keys, { path: '/etc/x', exists: true, type: 'other', kind: 'directory' })).toThrow(RefusedError);
  });
});

describe('hardening role', () => {
  it("the real inventory's hardening section: every setting has a reason, renders, builds", async () => {
    const inv = await loadInventory(['inventory.yaml']);
    const cfg = inv.doc.hardening;
    expect(cfg).toBeDefined();
    if (!cfg) return;
    expect(Object.keys(cfg.packages)).toContain('libpam-tmpdir');
    expect(cfg.login_defs.UMASK?.value).toBe('027');
    expect(modprobeContent(cfg)).toContain('install dccp /bin/false\nblacklist dccp\n');
    expect(kernelSysctlContent(cfg)).toMatch(/# no kernel addresses in \/proc for exploits\nkernel\.kptr_restrict = 2\n/);
    const ids = hardeningResources(cfg).map((r) => r.id);
    // ufw re-applies its own sysctl.conf at every reload: the network values go there too, before the live ones.
    expect(ids.indexOf('settings of /etc/ufw/sysctl.conf')).toBeLessThan(
      ids.findIndex((id) => id.startsWith('sysctl net.ipv4.conf.all.log_martians')),
    );
    const ufw = planConfigKeys(
      '/etc/ufw/sysctl.conf',
      [{ key: 'net/ipv4/conf/all/log_martians', value: '1', reason: 'r' }],
      file('net/ipv4/conf/all/log_martians=0\nnet/ipv4/icmp_echo_ignore_all=0\n'),
      'equals',
    );
    expect(ufw.map((c) => c.summary)).toEqual(['/etc/ufw/sysctl.conf: net/ipv4/conf/all/log_martians is 0, declared 1 (r)']);
    expect(ids.indexOf('file /etc/needrestart/conf.d/hostkit.conf')).toBeLessThan(ids.indexOf('packages hardening'));
    expect(ids).toContain('settings of /etc/login.defs');
    expect(ids).toContain('permissions of /etc/cron.d');
    // Docker's forwarding is never touched by the hardening role.
    expect(JSON.stringify(cfg)).not.toMatch(/ip_forward|forwarding/);
    expect(inv.doc.base?.sysctl).not.toHaveProperty('net.ipv4.ip_forward');
    expect(inv.doc.ssh?.extra.AllowTcpForwarding).toBe('local');
  });

  it('builds through the role contract: ids unique, every prerequisite declared before it, nothing without a section', async () => {
    const inv = await loadInventory(['inventory.yaml']);
    const host = inv.hosts[0]!;
    const { resources } = buildRole(hardeningRole, inv, host);
    expect(resources.length).toBeGreaterThan(20);
    const seen = new Set<string>();
    for (const r of resources) {
      expect(seen.has(r.id), r.id).toBe(false);
      expect(
        (r.requires ?? []).filter((id) => !seen.has(id)),
        r.id,
      ).toEqual([]);
      seen.add(r.id);
    }
    // The AIDE baseline is a guarded command: built once, after its configuration.
    const aide = resources.find((r) => r.id === 'command build the AIDE baseline (aideinit)');
    expect(aide?.requires).toEqual(['file /etc/aide/aide.conf.d/99_zz_hostkit', 'settings of /etc/aide/aide.conf']);
    expect(buildRole(hardeningRole, { ...inv, doc: { ...inv.doc, hardening: undefined } }, host).resources).toEqual([]);
  });

  it('refuses a setting without a reason', () => {
    expect(hardeningSchema.safeParse({ login_defs: { UMASK: { value: '027' } } }).success).toBe(false);
    expect(hardeningSchema.safeParse({ kernel_sysctl: { 'net.ipv4.ip_forward': { value: 0, reason: 'x' } } }).success).toBe(false);
  });

  it('kernel parameters: planned on a VM, left (with a note) inside a container', () => {
    const r = new KernelSysctl({
      path: '/etc/sysctl.d/91-hostkit-hardening.conf',
      content: 'kernel.sysrq = 0\n',
      settings: { 'kernel.sysrq': 0 },
    });
    const [, fileF, liveF] = r.facts();
    const facts = (virt: string) =>
      ({
        get: (f: { key: string }) =>
          f.key === containerFact.key
            ? virt
            : f.key === fileF?.key
              ? { path: r.spec.path, exists: false }
              : new Map([['kernel.sysrq', '438']]),
      }) as unknown as FactSet;
    const ctx = { host: { name: 'h' }, mode: 'check', pendingPrerequisites: [] } as unknown as PlanContext;
    expect(r.plan(facts('none'), ctx).map((c) => c.summary)).toEqual([
      'create /etc/sysctl.d/91-hostkit-hardening.conf (root:root 0644)',
      'sysctl kernel.sysrq 438 -> 0',
    ]);
    expect(r.plan(facts('docker'), ctx)).toEqual([]);
    expect(r.notes(facts('docker'))).toEqual(["inside a container (docker): kernel.sysrq belong to the host's kernel, left unset"]);
    expect(liveF?.key).toBe('host.sysctl(["kernel.sysrq"])');
  });
});

describe('Lynis report', () => {
  it('parses the index, warnings and suggestions of lynis-report.dat', () => {
    const dat = [
      'hardening_index=81',
      'lynis_tests_done=251',
      'warning[]=PKGS-7392|Found one or more vulnerable packages.|-|-|',
      'suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxSessions (set 10 to 2)|-|',
      'suggestion[]=FILE-6310|To decrease the impact of a full /home file system, place /home on a separate partition|-|-|',
    ].join('\n');
    const r = parseLynisReport(dat);
    expect(r.index).toBe(81);
    expect(r.tests).toBe(251);
    expect(r.warnings).toEqual([{ id: 'PKGS-7392', text: 'Found one or more vulnerable packages.', details: '' }]);
    expect(r.suggestions.map((s) => s.details)).toEqual(['MaxSessions (set 10 to 2)', '']);
    expect(() => parseLynisReport('')).toThrow(/hardening_index/);
  });
});
