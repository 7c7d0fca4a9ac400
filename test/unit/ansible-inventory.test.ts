import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  expandHostPattern,
  formatProblem,
  InventoryError,
  LimitError,
  loadInventory,
  matchPattern,
  parseInventory,
  PROTECTED_REASON,
  selectHosts,
} from '../../src/inventory/index.js';
import { looksLikeIni, pythonLiteral } from '../../src/inventory/ini.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.problems.map((p) => formatProblem({ ...p, file: p.file.startsWith('/') ? relative(FIXTURES, p.file) : p.file }));
  }
  throw new Error('expected an InventoryError');
}

describe('the four inputs of issue 14', () => {
  it('YAML with ansible_host, ansible_user, ansible_port', () => {
    const inv = parseInventory(
      'all:\n  hosts:\n    web1:\n      ansible_host: 192.0.2.5\n      ansible_user: deploy\n      ansible_port: 2222\n',
      'inv.yaml',
    );
    expect(inv.hosts[0]).toMatchObject({ name: 'web1', address: '192.0.2.5', user: 'deploy', port: 2222, connection: 'ssh' });
  });

  it('a host with no address connects to its name', async () => {
    const inv = parseInventory('all:\n  hosts:\n    mail.example.com:\n', 'inv.yaml');
    expect(inv.hosts[0]).toMatchObject({ name: 'mail.example.com', address: 'mail.example.com', port: 22, user: 'root' });
    // Formerly refused for a missing address (test/fixtures/inventory/no-address.yaml).
    const web = (await loadInventory([join(FIXTURES, 'inventory/no-address.yaml')])).hosts.find((h) => h.name === 'web1');
    expect(web).toMatchObject({ address: 'web1', port: 2222, connection: 'ssh' });
  });

  it('a host range expands', () => {
    const inv = parseInventory('all:\n  children:\n    www:\n      hosts:\n        www[01:03].example.com:\n', 'inv.yaml');
    expect(inv.hosts.map((h) => h.name)).toEqual(['www01.example.com', 'www02.example.com', 'www03.example.com']);
    expect(inv.groups.www).toEqual(['www01.example.com', 'www02.example.com', 'www03.example.com']);
  });

  it('an INI inventory', () => {
    const inv = parseInventory('[web]\ndb1 ansible_host=192.0.2.9\n', 'hosts');
    expect(inv.hosts[0]).toMatchObject({ name: 'db1', address: '192.0.2.9', groups: ['all', 'web'] });
    expect(inv.warnings).toEqual([]);
  });
});

describe('INI format', () => {
  it('reads groups, :children, :vars, inline vars, comments, ranges and name:port', () => {
    const text = [
      '# comment',
      'loose',
      '[web]   ; header comment',
      'web[1:2] ansible_user=deploy  # inline comment',
      'api.example.com:2200',
      '[web:vars]',
      'ansible_become=yes',
      '[prod:children]',
      'web',
      '',
    ].join('\n');
    const inv = parseInventory(text, 'hosts.ini');
    expect(inv.hosts.map((h) => [h.name, h.address, h.port, h.user, h.become])).toEqual([
      ['loose', 'loose', 22, 'root', false],
      ['web1', 'web1', 22, 'deploy', true],
      ['web2', 'web2', 22, 'deploy', true],
      ['api.example.com', 'api.example.com', 2200, 'root', true],
    ]);
    expect(inv.groups.prod).toEqual(['web1', 'web2', 'api.example.com']);
  });

  it('positions every problem at file:line:col', () => {
    const text = [
      '[web',
      '[db:hosts]', // Ansible's long form of [db]
      '[app:stuff]',
      '[app]',
      'app1 ansible_port=70000 colour=blue',
      'app2 novalue',
      'app[3:1]',
      '[app:vars]',
      'just words',
      '[top:children]',
      'missing',
      '',
    ].join('\n');
    expect(problemsOf(() => parseInventory(text, 'hosts.ini'))).toEqual([
      'hosts.ini:1:1: INI: invalid section header "[web" (expected [group], [group:vars] or [group:children], no spaces)',
      'hosts.ini:3:6: INI: section [app:stuff] has unknown type "stuff" (expected vars or children)',
      'hosts.ini:6:6: INI: expected key=value host variable after host "app2", got "novalue"',
      'hosts.ini:9:1: INI: expected key=value in [app:vars], got "just words"',
      'hosts.ini:11:1: INI: [top:children] lists "missing", which has no section of its own ([missing]) in this file',
    ]);
    // Syntax fine: schema problems and bad ranges point into the INI text too.
    expect(problemsOf(() => parseInventory('[app]\napp1 ansible_port=70000 colour=blue\n', 'hosts.ini'))).toEqual([
      'hosts.ini:2:19: all.children.app.hosts.app1.ansible_port: expected an integer 1..65535, got 70000',
      'hosts.ini:2:25: all.children.app.hosts.app1.colour: unknown key "colour"; allowed keys: address, port, user, identity_file, become, connection, protected, known_hosts, host_key_checking, connect_timeout',
    ]);
    expect(problemsOf(() => parseInventory('[app]\napp[3:1]\n', 'hosts.ini'))).toEqual([
      'hosts.ini:2:1: all.children.app.hosts["app[3:1]"]: host range [3:1] in "app[3:1]" must have begin <= end',
    ]);
  });

  it('reads values as Python literals, like Ansible', () => {
    expect([pythonLiteral('22'), pythonLiteral("'22'"), pythonLiteral('True'), pythonLiteral('yes'), pythonLiteral('1.5')]).toEqual([
      22,
      '22',
      true,
      'yes',
      1.5,
    ]);
    expect(pythonLiteral('10.0.0.1')).toBe('10.0.0.1');
  });

  it('is chosen by extension, else by content', () => {
    expect(looksLikeIni('hosts.yaml', '[web]\n')).toBe(false);
    expect(looksLikeIni('hosts.ini', 'all:\n')).toBe(true);
    expect(looksLikeIni('hosts', '# c\n\n[web]\nweb1\n')).toBe(true);
    expect(looksLikeIni('hosts', 'mail.example.com\n[web]\n')).toBe(true);
    expect(looksLikeIni('hosts', '# c\nall:\n  hosts:\n')).toBe(false);
    expect(looksLikeIni('hosts', '---\nall:\n')).toBe(false);
  });
});

describe('ansible_* connection variables', () => {
  it('map to hostkit settings', () => {
    const text = `[web]
w1 ansible_ssh_host=192.0.2.1 ansible_ssh_port=2201 ansible_ssh_user=a ansible_private_key_file=/k ansible_become=true ansible_become_user=root ansible_become_method=sudo
w2 ansible_connection=local
w3 ansible_ssh_common_args='-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/kh -o ConnectTimeout=5 -i /id'
`;
    const [w1, w2, w3] = parseInventory(text, 'hosts').hosts;
    expect(w1).toMatchObject({ address: '192.0.2.1', port: 2201, user: 'a', identityFile: '/k', become: true });
    expect(w2).toMatchObject({ connection: 'local', address: 'localhost' });
    expect(w3).toMatchObject({ hostKeyChecking: 'accept-new', knownHosts: '/kh', connectTimeoutMs: 5000, identityFile: '/id' });
    // Python literals that are numbers stay text where Ansible uses text.
    expect(parseInventory('h ansible_host=10 ansible_user=1000\n', 'hosts').hosts[0]).toMatchObject({ address: '10', user: '1000' });
  });

  it('refuses two spellings of one setting for a host, and what hostkit cannot do', () => {
    const text = `all:
  vars:
    user: root
  hosts:
    h1:
      ansible_user: deploy
    h2:
      address: 192.0.2.2
      ansible_host: 192.0.2.3
    h4:
      ansible_ssh_common_args: -o ProxyJump=bastion
`;
    expect(problemsOf(() => parseInventory(text, 'inv.yaml'))).toEqual([
      'inv.yaml:6:7: all.hosts.h1.ansible_user: host "h1" gets user from "user" and "ansible_user"; use one spelling (hostkit\'s "user" or Ansible\'s)',
      'inv.yaml:9:7: all.hosts.h2.ansible_host: host "h2" gets address from "address" and "ansible_host"; use one spelling (hostkit\'s "address" or Ansible\'s)',
      'inv.yaml:11:32: all.hosts.h4.ansible_ssh_common_args: "-o ProxyJump=bastion" in ansible_ssh_common_args has no hostkit setting (supported: -p, -l, -i, -o Port/User/IdentityFile/UserKnownHostsFile/StrictHostKeyChecking=yes|accept-new/ConnectTimeout)',
    ]);
    const cannot = `all:
  hosts:
    h3:
      ansible_connection: docker
      ansible_become_user: postgres
      ansible_become_method: su
`;
    expect(problemsOf(() => parseInventory(cannot, 'inv.yaml'))).toEqual([
      'inv.yaml:4:27: all.hosts.h3.ansible_connection: expected one of "ssh", "local" (hostkit has no other connection), got "docker"',
      'inv.yaml:5:28: all.hosts.h3.ansible_become_user: expected "root" (hostkit becomes root only), got "postgres"',
      'inv.yaml:6:30: all.hosts.h3.ansible_become_method: expected "sudo" (hostkit escalates with sudo only), got "su"',
    ]);
  });

  it('warns about, and ignores, the ansible_* variables hostkit does not use', () => {
    const inv = parseInventory(
      '[web]\nweb1 ansible_python_interpreter=/usr/bin/python3\n[web:vars]\nansible_ssh_pipelining=true\n',
      'hosts',
    );
    expect(inv.warnings.map(formatProblem)).toEqual([
      'hosts:2:6: all.children.web.hosts.web1.ansible_python_interpreter: "ansible_python_interpreter" is not used by hostkit; ignored',
      'hosts:4:1: all.children.web.vars.ansible_ssh_pipelining: "ansible_ssh_pipelining" is not used by hostkit; ignored',
    ]);
  });
});

describe('group_vars and host_vars', () => {
  it('positions a bad value in the vars file that holds it', async () => {
    const err = await loadInventory([join(FIXTURES, 'inventory/ansible-bad/hosts.ini')]).catch((e: unknown) => e);
    expect(
      problemsOf(() => {
        throw err;
      }),
    ).toEqual(['inventory/ansible-bad/group_vars/web.yml:2:15: group_vars.web.ansible_port: expected an integer 1..65535, got "lots"']);
  });

  it('apply with Ansible precedence', async () => {
    const inv = await loadInventory([join(FIXTURES, 'ansible/vars-files/hosts.ini')]);
    expect(inv.hosts.map((h) => [h.name, h.user, h.port, h.address])).toEqual([
      ['web1', 'groupvars-web', 2002, 'web1'],
      ['web2', 'hostvars-web2', 2002, 'web2'],
      ['db1', 'groupvars-all', 2002, '192.0.2.40'],
    ]);
  });
});

describe('host ranges', () => {
  it('pad, step, use letters and multiply', () => {
    expect(expandHostPattern('www[08:10]').names).toEqual(['www08', 'www09', 'www10']);
    expect(expandHostPattern('n[1:7:3]').names).toEqual(['n1', 'n4', 'n7']);
    expect(expandHostPattern('db-[a:c]').names).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostPattern('r[1:2]-[a:b]').names).toEqual(['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    expect(expandHostPattern('h[:2]').names).toEqual(['h0', 'h1', 'h2']);
    expect(expandHostPattern('web[1:2].example.com:2222')).toEqual({ names: ['web1.example.com', 'web2.example.com'], port: 2222 });
  });

  it('name what is wrong', () => {
    expect(() => expandHostPattern('w[01:100]')).toThrow('equal length');
    expect(() => expandHostPattern('w[1]')).toThrow('[begin:end]');
    expect(() => expandHostPattern('w[1:]')).toThrow('no end value');
    expect(() => expandHostPattern('w[1:3')).toThrow('without "]"');
    expect(() => expandHostPattern('w[a:3]')).toThrow('numbers or single letters');
    expect(() => expandHostPattern('w[1:3:0]')).toThrow('step');
    expect(() => expandHostPattern('w:99999')).toThrow('port');
    expect(() => expandHostPattern('a:b')).toThrow('expected a host name');
  });
});

describe('--limit patterns and protected hosts', () => {
  const inv = parseInventory(
    `all:
  hosts:
    prod1: { protected: true }
    web1:
    web2:
  children:
    production:
      hosts:
        prod1:
    web:
      hosts:
        web1:
        web2:
`,
    'inv.yaml',
  );
  const sel = (limit: string) => {
    const s = selectHosts(inv, { limit, local: false });
    return { hosts: s.hosts.map((h) => h.name), skipped: s.skipped.map((k) => k.host) };
  };

  it('a glob, a regex or a group never names a protected host', () => {
    expect(sel('*')).toEqual({ hosts: ['web1', 'web2'], skipped: ['prod1'] });
    expect(sel('prod*')).toEqual({ hosts: [], skipped: ['prod1'] });
    expect(sel('~prod')).toEqual({ hosts: [], skipped: ['prod1'] });
    expect(sel('production')).toEqual({ hosts: [], skipped: ['prod1'] });
    expect(sel('all:!web')).toEqual({ hosts: [], skipped: ['prod1'] });
    expect(selectHosts(inv, { limit: 'production', local: false }).skipped[0]?.reason).toBe(PROTECTED_REASON);
  });

  it('its exact name does, also with & and from an @file; ! never does', async () => {
    expect(sel('prod1')).toEqual({ hosts: ['prod1'], skipped: [] });
    expect(sel('web:prod1')).toEqual({ hosts: ['prod1', 'web1', 'web2'], skipped: [] });
    expect(sel('production:&prod1')).toEqual({ hosts: ['prod1'], skipped: [] });
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-limit-'));
    await writeFile(join(dir, 'list'), 'prod1\nweb1\n');
    expect(sel(`@${join(dir, 'list')}`)).toEqual({ hosts: ['prod1', 'web1'], skipped: [] });
  });

  it('an empty match, a plain unknown name or a missing @file is an error', () => {
    const groups = { hosts: inv.hosts.map((h) => h.name), groups: inv.groups };
    expect(() => matchPattern('web:&production', groups)).toThrow(/matches no host/);
    expect(() => matchPattern('zz*', groups)).toThrow(LimitError);
    expect(() => matchPattern('web:nope', groups)).toThrow(/no host or group named "nope"/);
    expect(() => matchPattern('@/nonexistent/limit', groups)).toThrow(/cannot read the limit file/);
    expect(() => matchPattern('~(', groups)).toThrow(/invalid regular expression/);
  });
});
