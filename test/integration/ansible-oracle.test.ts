import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandHome, InventoryError, type Inventory, LimitError, loadInventory, matchPattern } from '../../src/inventory/index.js';

/**
 * Ansible itself is the oracle: for every inventory of the corpus, hostkit's hosts, group
 * memberships and connection settings must equal what `ansible-inventory -i FILE --list` reports,
 * and --limit patterns must select what `ansible -i FILE PATTERN --list-hosts` lists.
 * (Debian's ansible-core, installed by sandbox/host-setup.sh; ~1 s per call, hence this project.)
 *
 * Deliberate differences, each asserted below where it shows:
 * - STRICT: variables that are neither hostkit's nor ansible_* are errors (Ansible keeps them as
 *   application variables; hostkit has no playbooks to give them to).
 * - NO_UNGROUPED: hostkit has no implicit "ungrouped" group (those hosts are in "all" only).
 * - PLATFORM_SECTIONS: top-level YAML keys besides "all" are hostkit's platform sections, which
 *   Ansible reads as (empty) groups; so groups go under all.children, not at the top level.
 * - DEFAULT_USER: with no user given hostkit logs in as root (Ansible: the local user).
 * - EMPTY_LIMIT: a --limit that selects nothing, or a plain name that matches nothing, is an
 *   error (Ansible warns and runs on no host).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/ansible');
const ENV = { ANSIBLE_HOME: join(tmpdir(), 'hostkit-ansible-oracle'), ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_FAILED: '1' };

/** Fixtures hostkit refuses on purpose (STRICT): the unknown keys it must name. */
const STRICT: Record<string, string[]> = {
  'guide-host-vars.ini': ['http_port', 'maxRequestsPerChild', 'http_port', 'maxRequestsPerChild'],
  'guide-group-vars.ini': ['ntp_server', 'proxy'],
  'guide-group-vars.yaml': ['ntp_server', 'proxy'],
};
const PLATFORM_SECTIONS = [
  'base',
  'ssh',
  'firewall',
  'docker',
  'fail2ban',
  'data',
  'secrets',
  'compose',
  'images',
  'npm',
  'stacks',
  'backup',
];

interface OracleHost {
  address?: string;
  port: number;
  user: string;
  connection: string;
  become: boolean;
  identityFile?: string;
}
interface Oracle {
  groups: Record<string, string[]>;
  hosts: Record<string, OracleHost>;
}

async function corpus(): Promise<string[]> {
  const entries = await readdir(FIXTURES, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile()) files.push(join(FIXTURES, e.name));
    else {
      const inner = (await readdir(join(FIXTURES, e.name))).find((n) => n.startsWith('hosts.'));
      if (inner) files.push(join(FIXTURES, e.name, inner));
    }
  }
  return [...files, join(ROOT, 'inventory.yaml')];
}

/**
 * The project's own inventory goes to Ansible with its `all:` tree only (PLATFORM_SECTIONS): its
 * platform sections are no groups, and `proxy.hosts` (a list of domains) is no valid Ansible group.
 */
async function forAnsible(file: string): Promise<string> {
  if (file !== join(ROOT, 'inventory.yaml')) return file;
  const dir = await mkdtemp(join(tmpdir(), 'hostkit-oracle-'));
  const only = join(dir, 'inventory.yaml');
  await writeFile(only, stringify({ all: (parse(await readFile(file, 'utf8')) as { all: unknown }).all }));
  return only;
}

async function ansibleInventory(file: string): Promise<Oracle> {
  const r = await execa('ansible-inventory', ['-i', await forAnsible(file), '--list'], { env: ENV, reject: false });
  if (r.exitCode !== 0) throw new Error(`ansible-inventory -i ${file} failed (${r.exitCode}): ${r.stderr}`);
  const json = JSON.parse(r.stdout) as Record<string, { hosts?: string[]; children?: string[] }> & {
    _meta: { hostvars: Record<string, Record<string, unknown>> };
  };
  const direct = Object.fromEntries(Object.entries(json).filter(([g]) => g !== '_meta'));
  const members = (g: string, seen = new Set<string>()): string[] => {
    if (seen.has(g)) return [];
    seen.add(g);
    const d = direct[g] ?? {};
    return [...(d.hosts ?? []), ...(d.children ?? []).flatMap((c) => members(c, seen))];
  };
  const groups: Record<string, string[]> = {};
  for (const g of Object.keys(direct)) groups[g] = [...new Set(members(g))].sort();
  const hosts: Record<string, OracleHost> = {};
  for (const name of groups.all ?? []) {
    const v = json._meta.hostvars[name] ?? {};
    // Ansible's spellings first, then hostkit's names (plain variables to Ansible).
    const pick = (...keys: string[]) => keys.map((k) => v[k]).find((x) => x !== undefined);
    const identity = pick('ansible_ssh_private_key_file', 'ansible_private_key_file', 'identity_file') as string | undefined;
    hosts[name] = {
      address: (pick('ansible_host', 'ansible_ssh_host', 'address') as string | undefined) ?? name,
      port: Number(pick('ansible_port', 'ansible_ssh_port', 'port') ?? 22),
      user: (pick('ansible_user', 'ansible_ssh_user', 'user') as string | undefined) ?? 'root', // DEFAULT_USER
      connection: (pick('ansible_connection', 'connection') as string | undefined) ?? 'ssh',
      become: ansibleBoolean(pick('ansible_become', 'become') ?? false),
      ...(identity ? { identityFile: expandHome(identity) } : {}),
    };
  }
  return { groups, hosts };
}

/** Ansible's boolean() for become. */
function ansibleBoolean(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['yes', 'y', 'on', 'true', 't', '1'].includes(v.toLowerCase()));
}

function hostkitView(inv: Inventory): Oracle {
  const groups: Record<string, string[]> = {};
  for (const [g, members] of Object.entries(inv.groups)) groups[g] = [...members].sort();
  const hosts: Record<string, OracleHost> = {};
  for (const h of inv.hosts)
    hosts[h.name] = {
      address: h.connection === 'local' ? undefined : h.address,
      port: h.port,
      user: h.user,
      connection: h.connection,
      become: h.become,
      ...(h.identityFile ? { identityFile: h.identityFile } : {}),
    };
  return { groups, hosts };
}

/** The oracle's view with the named differences applied. */
function comparable(o: Oracle, file: string): Oracle {
  const drop = new Set(['ungrouped', ...(file.endsWith('inventory.yaml') && !file.includes('fixtures') ? PLATFORM_SECTIONS : [])]);
  const groups = Object.fromEntries(Object.entries(o.groups).filter(([g]) => !drop.has(g)));
  const hosts = Object.fromEntries(
    Object.entries(o.hosts).map(([n, h]) => [n, h.connection === 'local' ? { ...h, address: undefined } : h]),
  );
  return { groups, hosts };
}

const files = await corpus();
const oracle = new Map<string, Oracle>();
beforeAll(async () => {
  const limit = pLimit(2);
  await Promise.all(files.map((f) => limit(async () => oracle.set(f, await ansibleInventory(f)))));
}, 300_000);

describe('ansible-inventory --list is the oracle for the corpus', () => {
  it('has at least 25 inventories, INI and YAML', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files.filter((f) => f.endsWith('.ini')).length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => f.endsWith('.yaml')).length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    const name = relative(FIXTURES, file).startsWith('..') ? relative(ROOT, file) : relative(FIXTURES, file);
    const strict = STRICT[name];
    if (strict) {
      it(`${name}: refused on purpose (STRICT), naming each application variable`, async () => {
        const err = await loadInventory([file]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InventoryError);
        const keys = (err as InventoryError).problems.map((p) => /unknown key "([^"]+)"/.exec(p.message)?.[1]);
        expect(keys.sort()).toEqual([...strict].sort());
        // Ansible read it: the hosts are real, only the variables are foreign.
        expect(Object.keys(oracle.get(file)!.hosts).length).toBeGreaterThan(0);
      });
      continue;
    }
    it(`${name}: same hosts, groups and connection settings`, async () => {
      const inv = await loadInventory([file]);
      const expected = comparable(oracle.get(file)!, file);
      const got = hostkitView(inv);
      expect(Object.keys(got.hosts).sort()).toEqual(Object.keys(expected.hosts).sort());
      expect(got.hosts).toEqual(expected.hosts);
      // Ansible omits groups without hosts; hostkit keeps them (empty).
      const nonEmpty = Object.fromEntries(Object.entries(got.groups).filter(([, m]) => m.length > 0));
      expect(nonEmpty).toEqual(Object.fromEntries(Object.entries(expected.groups).filter(([, m]) => m.length > 0)));
    });
  }
});

describe.concurrent('--limit patterns select what ansible --list-hosts lists', () => {
  const cases: [string, string[]][] = [
    [
      'guide-multiple-groups.ini',
      [
        'webservers',
        'webservers:dbservers',
        'webservers,dbservers',
        'webservers:&east',
        'prod:!one.example.com',
        'all:!dbservers',
        '!west',
        '&prod',
        '*.example.com',
        'f*',
        '*server*',
        'one.example.com:t?o.example.com',
        '~(foo|one)\\.',
        '~.*ee',
        '[ft]*',
        'dbservers:!west:&prod',
        'mail.example.com',
      ],
    ],
    [
      'guide-ranges.ini',
      ['www0*', 'webservers:&stepped', 'webservers:!stepped', '~www[0-4][05]', 'db-[a-c].example.com', 'databases:nopad'],
    ],
    ['vars-precedence.ini', ['prod:!web', 'web:db', 'all:!web']],
  ];
  for (const [fixture, patterns] of cases) {
    for (const pattern of patterns) {
      it(`${fixture}: ${pattern}`, async () => {
        const file = join(FIXTURES, fixture);
        const inv = await loadInventory([file]);
        const expected = await listHosts(['-i', file, pattern]);
        const got = [...matchPattern(pattern, { hosts: inv.hosts.map((h) => h.name), groups: inv.groups }).hosts].sort();
        expect(got).toEqual(expected);
      });
    }
  }

  it('@file: one pattern per line, as ansible --limit @file', async () => {
    const file = join(FIXTURES, 'guide-multiple-groups.ini');
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-limit-'));
    const list = join(dir, 'retry');
    await writeFile(list, 'foo.example.com\nwest\n\n!three.example.com\n');
    const inv = await loadInventory([file]);
    const expected = await listHosts(['-i', file, 'all', '--limit', `@${list}`]);
    const got = [...matchPattern(`@${list}`, { hosts: inv.hosts.map((h) => h.name), groups: inv.groups }).hosts].sort();
    expect(got).toEqual(expected);
    expect(got).toEqual(['bar.example.com', 'foo.example.com']);
  });

  it('EMPTY_LIMIT: what Ansible selects no host for is an error', async () => {
    const file = join(FIXTURES, 'guide-multiple-groups.ini');
    const inv = await loadInventory([file]);
    const groups = { hosts: inv.hosts.map((h) => h.name), groups: inv.groups };
    for (const pattern of ['webservers:&dbservers', 'nosuchhost', 'zz*']) {
      expect(await listHosts(['-i', file, pattern])).toEqual([]);
      expect(() => matchPattern(pattern, groups)).toThrow(LimitError);
    }
  });
});

/** The host names `ansible ... --list-hosts` prints ("  hosts (2):" then one per line). */
async function listHosts(args: string[]): Promise<string[]> {
  const r = await execa('ansible', [...args, '--list-hosts'], { env: ENV, reject: false });
  if (r.exitCode !== 0) throw new Error(`ansible ${args.join(' ')} --list-hosts failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}
