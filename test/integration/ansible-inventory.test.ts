import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedCount, defaultPlatformYaml, drifts, parseReport, type Report, runRole, useTargets } from './harness.js';

/**
 * A target reached through an inventory written the Ansible way (INI, ansible_host / ansible_port /
 * ansible_user / ansible_ssh_private_key_file, ssh options in group_vars/all.yml) is provisioned
 * and audited exactly like a twin target written with hostkit's names.
 */
describe('an Ansible-style inventory provisions like a hostkit one', () => {
  const sb = useTargets({ count: 2 });
  let dir = '';
  let ansibleArgs: string[] = [];
  let hostkitInventory = '';

  beforeAll(async () => {
    const [a, b] = sb.targets as [(typeof sb.targets)[0], (typeof sb.targets)[0]];
    dir = await mkdtemp(join(tmpdir(), 'hostkit-ansible-it-'));
    await mkdir(join(dir, 'group_vars'));
    await writeFile(
      join(dir, 'hosts'),
      `# Ansible INI inventory: no hostkit names anywhere.
[sandbox]
ansible-target ansible_host=${a.address} ansible_port=${a.port}

[sandbox:vars]
ansible_user=root
ansible_ssh_private_key_file=${a.keyFile}
`,
    );
    await writeFile(
      join(dir, 'group_vars', 'all.yml'),
      `ansible_ssh_common_args: "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=${a.knownHosts} -o ConnectTimeout=10"
ansible_python_interpreter: /usr/bin/python3
`,
    );
    // The platform (firewall, data) is hostkit's own section; the INI file only has hosts.
    await writeFile(join(dir, 'platform.yaml'), `${defaultPlatformYaml()}\n`);
    ansibleArgs = ['-i', join(dir, 'platform.yaml'), '-i', join(dir, 'hosts')];
    // Its own folder: the group_vars/ above belong to the Ansible inventory only.
    await mkdir(join(dir, 'hostkit'));
    hostkitInventory = join(dir, 'hostkit', 'inventory.yaml');
    await writeFile(
      hostkitInventory,
      `all:
  vars:
    user: root
    identity_file: ${b.keyFile}
    known_hosts: ${b.knownHosts}
    host_key_checking: strict
    connect_timeout: 10
  children:
    sandbox:
      hosts:
        hostkit-target: { address: ${b.address}, port: ${b.port} }
${defaultPlatformYaml()}
`,
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A report without the host names: what was planned and done, resource by resource. */
  const shape = (r: Report) =>
    r.hosts.map((h) => ({
      role: h.role,
      resources: h.resources.map((x) => ({ id: x.id, status: x.status, changes: x.changes.map((c) => c.summary) })),
    }));
  const viaAnsible = (role: string, args: string[]) => runRole(role, [...args, ...ansibleArgs.slice(0, 2)], { inventory: ansibleArgs[3]! });
  const viaHostkit = (role: string, args: string[]) => runRole(role, args, { inventory: hostkitInventory });

  it('firewall + data: same apply, second apply 0 changed, --check 0, same state', async () => {
    for (const role of ['firewall', 'data']) {
      const [a, b] = await Promise.all([viaAnsible(role, ['--json']), viaHostkit(role, ['--json'])]);
      expect(a.exitCode, a.stderr).toBe(0);
      expect(b.exitCode, b.stderr).toBe(0);
      const [ra, rb] = [parseReport(a.stdout), parseReport(b.stdout)];
      expect(ra.hosts.map((h) => h.host)).toEqual(ra.hosts.map(() => 'ansible-target'));
      expect(changedCount(ra)).toBeGreaterThan(0);
      expect(shape(ra)).toEqual(shape(rb));
      // The ignored Ansible variable is named, not fatal.
      expect(a.stderr + a.stdout).toContain('"ansible_python_interpreter" is not used by hostkit; ignored');

      const second = await viaAnsible(role, ['--json']);
      expect(second.exitCode, second.stderr).toBe(0);
      expect(changedCount(parseReport(second.stdout))).toBe(0);
      const check = await viaAnsible(role, ['--check', '--json']);
      expect(check.exitCode, check.stdout + check.stderr).toBe(0);
      expect(drifts(parseReport(check.stdout))).toEqual([]);
    }
    const [ta, tb] = sb.targets as [(typeof sb.targets)[0], (typeof sb.targets)[0]];
    const state = 'ufw status verbose; stat -c "%n %a %U %G" /mnt/data /mnt/data/*';
    expect((await ta.exec(state)).stdout).toBe((await tb.exec(state)).stdout);
  });

  it('audits hand-made drift the same way', async () => {
    const [ta, tb] = sb.targets as [(typeof sb.targets)[0], (typeof sb.targets)[0]];
    await Promise.all([ta, tb].map((t) => t.exec('ufw allow 8080 && chmod 777 /mnt/data/nginx')));
    for (const role of ['firewall', 'data']) {
      const [a, b] = await Promise.all([viaAnsible(role, ['--check', '--json']), viaHostkit(role, ['--check', '--json'])]);
      expect(a.exitCode).toBe(2);
      expect(b.exitCode).toBe(2);
      expect(drifts(parseReport(a.stdout))).toEqual(drifts(parseReport(b.stdout)));
      expect(drifts(parseReport(a.stdout)).length).toBeGreaterThan(0);
    }
  });

  it('refuses an invalid Ansible inventory with file:line:col before contacting anything', async () => {
    const bad = join(dir, 'bad.ini');
    await writeFile(bad, '[sandbox]\nansible-target ansible_port=notaport ansible_connection=docker\n');
    const r = await runRole('firewall', ['--check', '-i', join(dir, 'platform.yaml')], { inventory: bad });
    expect(r.exitCode).toBe(1);
    expect(r.stderr + r.stdout).toContain(
      `${bad}:2:29: all.children.sandbox.hosts.ansible-target.ansible_port: expected an integer 1..65535`,
    );
    expect(r.stderr + r.stdout).toContain(
      `${bad}:2:57: all.children.sandbox.hosts.ansible-target.ansible_connection: expected one of "ssh", "local"`,
    );
    expect(r.stdout).not.toContain('ansible-target:');
  });
});
