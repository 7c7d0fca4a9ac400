import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expandHome,
  formatProblem,
  InventoryError,
  LimitError,
  loadInventory,
  parseInventory,
  parseInventorySources,
  PROTECTED_REASON,
  selectHosts,
  type Inventory,
} from '../../src/inventory/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

/** The InventoryError's problems, one formatted line each, file names relative to the fixtures. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.problems.map((p) => formatProblem({ ...p, file: p.file.startsWith('/') ? relative(FIXTURES, p.file) : p.file }));
  }
  throw new Error('expected an InventoryError');
}

async function loadProblems(...names: string[]): Promise<string[]> {
  const err = await loadInventory(names.map(fixture)).then(
    () => new Error('expected an InventoryError'),
    (e: unknown) => e,
  );
  return problemsOf(() => {
    throw err;
  });
}

const HOST_KEYS = 'address, port, user, identity_file, become, connection, protected, known_hosts, host_key_checking, connect_timeout';

describe('bad inventories: every problem with file, line, column and what was expected', () => {
  const cases: [string, string[]][] = [
    ['syntax.yaml', ['bad/syntax.yaml:3:11: YAML syntax: Nested mappings are not allowed in compact mappings']],
    ['duplicate-key.yaml', ['bad/duplicate-key.yaml:7:7: all.hosts.web1.port: duplicate key "port" (first given at line 5, column 7)']],
    ['wrong-type.yaml', ['bad/wrong-type.yaml:5:13: all.hosts.web1.port: expected an integer 1..65535, got "abc"']],
    [
      'unknown-key-host.yaml',
      [`bad/unknown-key-host.yaml:6:7: all.hosts.web1.adress: unknown key "adress" (did you mean "address"?); allowed keys: ${HOST_KEYS}`],
    ],
    [
      'unknown-key-rule.yaml',
      ['bad/unknown-key-rule.yaml:8:39: firewall.rules[1].to: unknown key "to"; allowed keys: port, proto, action, from, comment'],
    ],
    [
      'unknown-key-top.yaml',
      [
        // The list of allowed keys grows with the platform model: match its start only.
        expect.stringMatching(
          /^bad\/unknown-key-top\.yaml:5:1: firewal: unknown key "firewal" \(did you mean "firewall"\?\); allowed keys: all, firewall, data, /,
        ),
      ],
    ],
    ['bad-port.yaml', ['bad/bad-port.yaml:5:13: all.hosts.web1.port: expected an integer 1..65535, got 70000']],
    [
      'bad-mode.yaml',
      ['bad/bad-mode.yaml:9:13: data.directories[0].mode: expected an octal mode as a quoted string, e.g. "0750", got "777x"'],
    ],
    [
      'unquoted-mode.yaml',
      [
        'bad/unquoted-mode.yaml:7:9: data.mode: expected an octal mode as a quoted string, e.g. "0750", got 0750, which YAML reads as the number 750',
      ],
    ],
    ['bad-rule.yaml', ['bad/bad-rule.yaml:8:7: firewall.rules[1]: expected a rule like "22/tcp", "80", "6000:6007/udp", got "22/tcpx"']],
    [
      'duplicate-host.yaml',
      [
        'bad/duplicate-host.yaml:8:9: all.children.web.hosts.web1: duplicate host definition: "web1" already has vars at line 3, column 5; list it here with an empty value ("web1:")',
      ],
    ],
    [
      'group-clash.yaml',
      ['bad/group-clash.yaml:6:5: all.children.db: group "db" has the same name as a host; --limit db would be ambiguous, rename one'],
    ],
    ['relative-root.yaml', ['bad/relative-root.yaml:6:9: data.root: expected an absolute path, got "mnt/data"']],
    ['dotdot.yaml', ['bad/dotdot.yaml:9:13: data.directories[1].path: expected a path without ".." components, got "nginx/../../etc"']],
    [
      'duplicate-address.yaml',
      [
        'bad/duplicate-address.yaml:8:16: all.hosts.web2.address: address 10.0.0.1 port 2222 is also host "web1"; one machine, one inventory name',
      ],
    ],
    [
      'several.yaml',
      [
        'bad/several.yaml:6:15: all.hosts.web1.become: expected true or false, got "yes"',
        'bad/several.yaml:9:19: all.hosts.web2.connection: expected one of "ssh", "local", got "telnet"',
        'bad/several.yaml:13:15: firewall.rules[1].port: expected an integer 1..65535, got 70000',
        'bad/several.yaml:15:3: data: missing required key "root" (expected an absolute path)',
      ],
    ],
  ];

  it.each(cases)('%s', async (name, expected) => {
    expect(await loadProblems(`bad/${name}`)).toEqual(expected);
  });

  it('throws one InventoryError with structured problems and a message listing them all', async () => {
    const err = await loadInventory([fixture('bad/several.yaml')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InventoryError);
    const { problems, message } = err as InventoryError;
    expect(problems[0]).toEqual({
      file: fixture('bad/several.yaml'),
      line: 6,
      col: 15,
      path: 'all.hosts.web1.become',
      message: 'expected true or false, got "yes"',
    });
    const lines = message.split('\n');
    expect(lines[0]).toBe('invalid inventory (4 problems):');
    expect(lines.slice(1)).toEqual(problems.map(formatProblem));
  });

  it('reports a duplicate key together with schema problems', () => {
    const text = 'all:\n  hosts:\n    web1:\n      address: 10.0.0.1\n      address: 10.0.0.2\n      port: 0\n';
    expect(problemsOf(() => parseInventory(text, 'inv.yaml'))).toEqual([
      'inv.yaml:5:7: all.hosts.web1.address: duplicate key "address" (first given at line 4, column 7)',
      'inv.yaml:6:13: all.hosts.web1.port: expected an integer 1..65535, got 0',
    ]);
  });

  it('points a missing key at its parent map, and an invalid host name at the key', () => {
    const text = 'all:\n  hosts:\n    "web 1":\n      address: 10.0.0.1\nfirewall:\n  rules:\n    - { proto: udp }\n';
    expect(problemsOf(() => parseInventory(text, 'inv.yaml'))).toEqual([
      'inv.yaml:3:5: all.hosts["web 1"]: expected a host name: letters, digits, "_", "." and "-", got "web 1"',
      'inv.yaml:7:7: firewall.rules[0]: missing required key "port" (expected a port 1..65535 or a range like "6000:6007")',
    ]);
  });

  it('reports group cycles, "all" as a child and group vars given twice', () => {
    const text = [
      'all:',
      '  children:',
      '    a:',
      '      children:',
      '        b:',
      '          vars: { user: x }',
      '          children:',
      '            a:',
      '    b:',
      '      vars: { user: y }',
      '    c:',
      '      children:',
      '        all:',
    ].join('\n');
    expect(problemsOf(() => parseInventory(text, 'inv.yaml'))).toEqual([
      'inv.yaml:3:5: all.children.a: group "a" contains itself: a > b > a',
      'inv.yaml:10:7: all.children.b.vars: vars of group "b" are already given at line 6, column 11; give them in one place',
      'inv.yaml:13:9: all.children.c.children.all: "all" is the implicit top group and cannot be a child group',
    ]);
  });

  it('refuses empty files, non-map documents, self-referencing aliases and unreadable files', async () => {
    expect(problemsOf(() => parseInventory('', 'inv.yaml'))).toEqual([
      'inv.yaml:1:1: expected a map with "all:" at the top, the inventory is empty',
    ]);
    expect(problemsOf(() => parseInventory('- web1\n', 'inv.yaml'))).toEqual([
      'inv.yaml:1:1: expected a map with "all:" at the top, got a list',
    ]);
    expect(problemsOf(() => parseInventory('all: &a\n  children:\n    x: *a\n', 'inv.yaml'))).toEqual([
      'inv.yaml:3:8: YAML: alias *a refers to a node that contains it',
    ]);
    expect(await loadProblems('does-not-exist.yaml')).toEqual([expect.stringMatching(/^does-not-exist\.yaml: cannot read: ENOENT/)]);
  });
});

describe('YAML anchors', () => {
  it('accepts merge keys, with anchors kept under top-level x- keys', () => {
    const text = 'x-ssh: &ssh\n  user: deploy\n  port: 2222\nall:\n  hosts:\n    web1:\n      <<: *ssh\n      address: 10.0.0.1\n';
    expect(parseInventory(text, 'inv.yaml').hosts[0]).toMatchObject({ user: 'deploy', port: 2222 });
  });

  it('points a bad merged value at the anchor that holds it', () => {
    const text = 'x-ssh: &ssh { user: deploy, port: "22" }\nall:\n  hosts:\n    web1:\n      <<: *ssh\n      address: 10.0.0.1\n';
    expect(problemsOf(() => parseInventory(text, 'inv.yaml'))).toEqual([
      'inv.yaml:1:35: all.hosts.web1.port: expected an integer 1..65535, got "22"',
    ]);
  });
});

describe('good inventory', () => {
  const load = () => loadInventory([fixture('good.yaml')]);

  it('resolves every host with defaults, group vars and host vars', async () => {
    const inv = await load();
    expect(inv.sources).toEqual([fixture('good.yaml')]);
    expect(inv.hosts.map((h) => h.name)).toEqual(['workstation', 'web1', 'web2', 'db1']);
    const byName = Object.fromEntries(inv.hosts.map((h) => [h.name, h]));
    const key = join(homedir(), '.ssh/hostkit_ed25519');
    expect(byName.web1).toEqual({
      name: 'web1',
      address: '10.0.1.11',
      port: 2222, // web group
      user: 'deploy', // all.vars
      identityFile: key,
      become: true,
      connection: 'ssh',
      protected: false,
      hostKeyChecking: 'strict',
      connectTimeoutMs: 20_000, // monitored overrides all.vars (5 s)
      groups: ['all', 'monitored', 'prod', 'web'],
    });
    expect(byName.web2).toMatchObject({ user: 'admin', port: 2222, connectTimeoutMs: 5000 });
    expect(byName.db1).toMatchObject({ port: 22, protected: true, knownHosts: join(homedir(), '.ssh/known_hosts.prod') });
    expect(byName.workstation).toMatchObject({ connection: 'local', address: 'localhost', groups: ['all'] });
    expect(inv.groups).toEqual({
      all: ['workstation', 'web1', 'web2', 'db1'],
      prod: ['web1', 'web2', 'db1'],
      web: ['web1', 'web2'],
      db: ['db1'],
      monitored: ['web1', 'db1'],
    });
  });

  it('keeps the validated document with schema defaults for the roles', async () => {
    const { doc } = await load();
    expect(doc.firewall?.defaults).toEqual({ incoming: 'deny', outgoing: 'allow', routed: 'disabled' });
    expect(doc.firewall?.rules[0]).toBe('22/tcp');
    expect(doc.firewall?.rules[5]).toEqual({
      port: 9100,
      proto: 'tcp',
      action: 'allow',
      from: '10.0.0.0/8',
      comment: 'node exporter, monitoring network only',
    });
    expect(doc.data?.root).toBe('/mnt/data');
    expect(doc.data?.directories.map((d) => [d.path, d.mode])).toEqual([
      ['nginx', '0750'],
      ['postgres', '0700'],
      ['backups/restic', '0700'],
    ]);
  });

  it('applies the defaults for a bare host', () => {
    const inv = parseInventory('all:\n  hosts:\n    web1:\n      address: 10.0.0.1\n', 'inv.yaml');
    expect(inv.hosts).toEqual([
      {
        name: 'web1',
        address: '10.0.0.1',
        port: 22,
        user: 'root',
        become: false,
        connection: 'ssh',
        protected: false,
        hostKeyChecking: 'strict',
        connectTimeoutMs: 10_000,
        groups: ['all'],
      },
    ]);
    expect(inv.hosts[0]!.knownHosts).toBeUndefined();
    expect(inv.hosts[0]!.identityFile).toBeUndefined();
  });

  it('orders vars all < parent group < child group < host, whatever the YAML order', () => {
    const text = `
all:
  vars: { user: a, port: 1001, connect_timeout: 1 }
  children:
    leaf: # written before its parent, still applied after it
      vars: { user: c, port: 1003 }
      hosts:
        h1: { address: 10.0.0.1, user: d }
        h2: { address: 10.0.0.2 }
    prod:
      vars: { user: b, port: 1002, become: true }
      children:
        leaf:
      hosts:
        h3: { address: 10.0.0.3 }
`;
    const hosts = Object.fromEntries(parseInventory(text, 'inv.yaml').hosts.map((h) => [h.name, h]));
    expect(hosts.h1).toMatchObject({ user: 'd', port: 1003, become: true, connectTimeoutMs: 1000, groups: ['all', 'prod', 'leaf'] });
    expect(hosts.h2).toMatchObject({ user: 'c', port: 1003, become: true });
    expect(hosts.h3).toMatchObject({ user: 'b', port: 1002, become: true, groups: ['all', 'prod'] });
  });

  it('orders groups of equal depth by name, as Ansible does', () => {
    const text = `
all:
  hosts:
    h1: { address: 10.0.0.1 }
  children:
    zeta: { vars: { user: z }, hosts: { h1: } }
    alpha: { vars: { user: a, port: 2200 }, hosts: { h1: } }
`;
    expect(parseInventory(text, 'inv.yaml').hosts[0]).toMatchObject({ user: 'z', port: 2200, groups: ['all', 'alpha', 'zeta'] });
  });

  it('accepts a local host with an address, and expands ~ in key and known_hosts paths', () => {
    const text =
      'all:\n  hosts:\n    self:\n      connection: local\n      address: 192.168.1.5\n      identity_file: ~/k\n      known_hosts: "~"\n';
    expect(parseInventory(text, 'inv.yaml').hosts[0]).toMatchObject({
      address: '192.168.1.5',
      connection: 'local',
      identityFile: join(homedir(), 'k'),
      knownHosts: homedir(),
    });
    // A bare ~ is YAML's null: the error says so instead of "expected a string".
    expect(problemsOf(() => parseInventory(text.replace('"~"', '~'), 'inv.yaml'))).toEqual([
      'inv.yaml:7:20: all.hosts.self.known_hosts: expected a string, got ~, which YAML reads as null',
    ]);
    expect(expandHome('~/.ssh/id', '/home/ops')).toBe('/home/ops/.ssh/id');
    expect(expandHome('~', '/home/ops')).toBe('/home/ops');
    expect(expandHome('~bob/.ssh/id', '/home/ops')).toBe('~bob/.ssh/id');
    expect(expandHome('/etc/ssh/key', '/home/ops')).toBe('/etc/ssh/key');
  });
});

describe('several inventory files', () => {
  it('deep-merges in order: maps merge, lists replace, null deletes', async () => {
    const inv = await loadInventory([fixture('overlay/base.yaml'), fixture('overlay/sandbox.yaml')]);
    expect(inv.sources).toEqual([fixture('overlay/base.yaml'), fixture('overlay/sandbox.yaml')]);
    expect(inv.hosts.map((h) => [h.name, h.address, h.port, h.user, h.hostKeyChecking])).toEqual([
      ['web1', '127.0.0.1', 2201, 'deploy', 'accept-new'],
      ['web2', '127.0.0.1', 2202, 'deploy', 'accept-new'],
    ]);
    expect(inv.hosts[0]!.identityFile).toBe(join(homedir(), '.cache/hostkit/sandbox_ed25519'));
    expect(inv.groups.all).toEqual(['web1', 'web2']);
    expect(inv.doc.firewall?.rules).toEqual(['22/tcp']);
  });

  it('reports a problem of the merged result in the last file that set it', async () => {
    expect(await loadProblems('overlay/base.yaml', 'overlay/sandbox.yaml', 'overlay/bad-overlay.yaml')).toEqual([
      'overlay/bad-overlay.yaml:4:13: all.hosts.web2.port: expected an integer 1..65535, got "2202"',
      `overlay/bad-overlay.yaml:5:7: all.hosts.web2.protectd: unknown key "protectd" (did you mean "protected"?); allowed keys: ${HOST_KEYS}`,
    ]);
  });

  it('points into the earlier file when the later one did not touch the value', () => {
    const base = 'all:\n  hosts:\n    web1:\n      address: 10.0.0.1\n      port: 70000\n';
    const overlay = 'all:\n  hosts:\n    web1:\n      user: admin\n    web2:\n      address: 10.0.0.1\n';
    expect(
      problemsOf(() =>
        parseInventorySources([
          { file: 'base.yaml', text: base },
          { file: 'over.yaml', text: overlay },
        ]),
      ),
    ).toEqual(['base.yaml:5:13: all.hosts.web1.port: expected an integer 1..65535, got 70000']);
    const fixed = 'all:\n  hosts:\n    web1:\n      port: 22\n    web2:\n      address: 10.0.0.1\n';
    expect(
      problemsOf(() =>
        parseInventorySources([
          { file: 'base.yaml', text: base },
          { file: 'over.yaml', text: fixed },
        ]),
      ),
    ).toEqual(['over.yaml:6:16: all.hosts.web2.address: address 10.0.0.1 port 22 is also host "web1"; one machine, one inventory name']);
  });

  it("replaces lists wholesale, so a bad earlier list is gone, and checks each file's syntax on its own", () => {
    const base = 'all:\n  hosts:\n    web1: { address: 10.0.0.1 }\nfirewall:\n  rules: [22/tcp, nope]\n';
    const overlay = 'firewall:\n  rules: [22/tcp]\n';
    expect(
      parseInventorySources([
        { file: 'a.yaml', text: base },
        { file: 'b.yaml', text: overlay },
      ]).doc.firewall?.rules,
    ).toEqual(['22/tcp']);
    expect(
      problemsOf(() =>
        parseInventorySources([
          { file: 'a.yaml', text: base },
          { file: 'b.yaml', text: 'firewall:\n  rules: [22/tcp\n' },
        ]),
      ),
    ).toEqual([expect.stringMatching(/^b\.yaml:3:1: YAML syntax: /)]);
  });

  it('treats null as a deletion only for keys of maps the earlier files have', () => {
    const base =
      'all:\n  hosts:\n    web1: { address: 10.0.0.1 }\n  children:\n    web:\n      hosts:\n        web1:\n    prod:\n      hosts:\n        db1: { address: 10.0.0.9 }\n';
    // In the first file, "web1:" lists the host in the group.
    expect(parseInventory(base, 'a.yaml').groups.web).toEqual(['web1']);
    // The overlay drops prod (and db1 with it) and an absent db2; its new group keeps its "web1:" member.
    const overlay = 'all:\n  hosts:\n    db2:\n  children:\n    prod:\n    sandbox:\n      hosts:\n        web1:\n';
    const inv = parseInventorySources([
      { file: 'a.yaml', text: base },
      { file: 'b.yaml', text: overlay },
    ]);
    expect(inv.hosts.map((h) => h.name)).toEqual(['web1']);
    expect(inv.groups).toEqual({ all: ['web1'], web: ['web1'], sandbox: ['web1'] });
  });
});

describe('selectHosts', () => {
  let inv: Inventory;
  beforeAll(async () => {
    inv = await loadInventory([fixture('good.yaml')]);
  });
  const names = (limit: string | undefined, local = false) => {
    const s = selectHosts(inv, { limit, local });
    return { hosts: s.hosts.map((h) => h.name), skipped: s.skipped.map((k) => k.host) };
  };

  it('selects by host and group names, in inventory order, skipping protected hosts not named', () => {
    expect(names(undefined)).toEqual({ hosts: ['workstation', 'web1', 'web2'], skipped: ['db1'] });
    expect(selectHosts(inv, { local: false }).skipped).toEqual([{ host: 'db1', reason: PROTECTED_REASON }]);
    expect(PROTECTED_REASON).toBe('protected host: name it with --limit <name> to contact it');
    expect(names('web')).toEqual({ hosts: ['web1', 'web2'], skipped: [] });
    expect(names('prod')).toEqual({ hosts: ['web1', 'web2'], skipped: ['db1'] });
    expect(names('db')).toEqual({ hosts: [], skipped: ['db1'] });
    expect(names('all')).toEqual({ hosts: ['workstation', 'web1', 'web2'], skipped: ['db1'] });
    expect(names('db1')).toEqual({ hosts: ['db1'], skipped: [] });
    expect(names(' db1 , web ,')).toEqual({ hosts: ['web1', 'web2', 'db1'], skipped: [] });
  });

  it('contacts a protected host over the local transport without naming it, on that very machine only', () => {
    const onDb1 = selectHosts(inv, { limit: 'prod', local: true, thisMachine: 'db1.example.org' });
    expect({ hosts: onDb1.hosts.map((h) => h.name), skipped: onDb1.skipped }).toEqual({ hosts: ['web1', 'web2', 'db1'], skipped: [] });
    const self = parseInventory('all:\n  hosts:\n    self: { connection: local, protected: true }\n', 'inv.yaml');
    expect(selectHosts(self, { local: false, thisMachine: 'SELF' }).hosts.map((h) => h.name)).toEqual(['self']);
  });

  it('names the unknown host or group of a bad --limit', () => {
    expect(() => selectHosts(inv, { limit: 'web,nope', local: false })).toThrow(LimitError);
    expect(() => selectHosts(inv, { limit: 'web,nope', local: false })).toThrow(/no host or group named "nope"/);
    expect(() => selectHosts(inv, { limit: ' , ', local: false })).toThrow(/names no host or group/);
  });
});
