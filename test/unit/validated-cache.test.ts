// The validated-inventory cache (src/inventory/validated-cache.ts, loader.ts): a hit is exactly
// what a full load gives (positions too, once prepared), and every input of the key (build,
// roles, home, each file's name and text, group_vars/host_vars) makes a miss when it changes;
// a damaged entry is a miss, a failing inventory is never recorded, a user role's schema turns
// the cache off.
import { mkdtemp, readdir, readFile, rm, writeFile, cp, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatProblem, InventoryError } from '../../src/inventory/index.js';
import { loadInventory } from '../../src/inventory/loader.js';
import { prepareLocate } from '../../src/inventory/positions.js';
import type { Inventory } from '../../src/inventory/types.js';
import { KEEP_ENTRIES, pruneValidated, validatedKey } from '../../src/inventory/validated-cache.js';
import { ruleObjectOf } from '../../src/roles/firewall-rule.js';
import { ruleObject } from '../../src/roles/firewall.schema.js';
import { FIXTURES, REAL_INVENTORY } from './real-inventory.js';

const REAL = REAL_INVENTORY;
const BUILD = 'test-build-1';
const PATHS: (string | number)[][] = [['all'], ['firewall', 'rules', 0], ['all', 'hosts'], ['stacks'], ['nope', 'deeper']];

let dir = '';
let yamlOnly = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostkit-validated-'));
  yamlOnly = await mkdtemp(join(tmpdir(), 'hostkit-validated-yaml-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(yamlOnly, { recursive: true, force: true });
});

const entries = async () => (await readdir(join(dir, 'inventory')).catch(() => [] as string[])).filter((f) => f.endsWith('.v8'));
const plain = (inv: Inventory) => ({ sources: inv.sources, hosts: inv.hosts, groups: inv.groups, doc: inv.doc, warnings: inv.warnings });
const located = (inv: Inventory) => PATHS.map((p) => inv.locate?.(p));
/** A full load (no validated cache: no build id), and a load through the cache in `dir`. */
const full = (paths: string[], roles?: { name: string }[]) => loadInventory(paths, { cacheDir: yamlOnly, ...(roles ? { roles } : {}) });
const cached = (paths: string[], roles?: { name: string; schema?: z.ZodType }[], buildId = BUILD) =>
  loadInventory(paths, { cacheDir: dir, buildId, ...(roles ? { roles } : {}) });

describe('validated-inventory cache', () => {
  it('a hit equals a full load, for the whole inventory and for one role', async () => {
    for (const roles of [undefined, [{ name: 'firewall' }], [{ name: 'stacks' }, { name: 'proxy' }]]) {
      const fresh = await full(REAL, roles);
      const cold = await cached(REAL, roles);
      const warm = await cached(REAL, roles);
      expect(plain(cold)).toStrictEqual(plain(fresh));
      expect(plain(warm)).toStrictEqual(plain(fresh));
      expect(located(cold)).toEqual(located(fresh));
      // A hit's positions come from parsing the texts again, ready once prepared.
      expect(located(warm).every((p) => p?.line === 0)).toBe(true);
      await prepareLocate(warm);
      expect(located(warm)).toEqual(located(fresh));
    }
    expect(await entries()).toHaveLength(3);
  });

  it('group_vars and host_vars are part of the key: an edited vars file is a miss with its new value', async () => {
    const tree = join(dir, 'tree');
    await cp(join(FIXTURES, 'ansible/vars-files'), tree, { recursive: true });
    const hosts = [join(tree, 'hosts.ini')];
    const before = await cached(hosts);
    expect(plain(before)).toStrictEqual(plain(await full(hosts)));
    const vars = join(tree, 'group_vars/all.yml');
    await writeFile(vars, (await readFile(vars, 'utf8')).replace(/^ansible_user: .*$/m, 'ansible_user: edited-user'));
    const after = await cached(hosts);
    expect(plain(after)).toStrictEqual(plain(await full(hosts)));
    expect(after.hosts.map((h) => h.user)).not.toEqual(before.hosts.map((h) => h.user));
  });

  it('the key changes with the build, the roles, the home, a file name or text, and a vars file', () => {
    const base = {
      build: 'b1',
      roles: ['firewall', 'data'],
      home: '/root',
      inputs: [{ file: 'a.yaml', text: 'all: {}' }],
      varsFiles: [{ file: 'g/web.yml', kind: 'group_vars', name: 'web', text: 'x: 1' }],
    };
    const key = validatedKey(base);
    expect(validatedKey({ ...base, roles: ['data', 'firewall', 'data'] })).toBe(key); // a set
    const variants = [
      { ...base, build: 'b2' },
      { ...base, roles: ['firewall'] },
      { ...base, roles: undefined },
      { ...base, home: '/home/ops' },
      { ...base, inputs: [{ file: 'b.yaml', text: 'all: {}' }] },
      { ...base, inputs: [{ file: 'a.yaml', text: 'all: {} ' }] },
      { ...base, inputs: [...base.inputs, { file: 'a.yaml', text: '' }] },
      { ...base, varsFiles: [] },
      { ...base, varsFiles: [{ ...base.varsFiles[0]!, name: 'db' }] },
      { ...base, varsFiles: [{ ...base.varsFiles[0]!, text: 'x: 2' }] },
      // Field boundaries: moving text between the name and the content is another key.
      { ...base, inputs: [{ file: 'a.yamlall', text: ': {}' }] },
    ];
    const keys = variants.map(validatedKey);
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
  });

  it('another build misses; an edited file misses and loads its new value', async () => {
    const files = join(dir, 'inv.yaml');
    await writeFile(files, await readFile(REAL[0]!, 'utf8'));
    await cached([files]);
    await cached([files], undefined, 'test-build-2');
    expect(await entries()).toHaveLength(2);
    const text = await readFile(files, 'utf8');
    await writeFile(files, text.replace(/^(firewall:[\s\S]*?\n\s+)deadman_timeout: \d+/m, '$1deadman_timeout: 97'));
    const edited = await cached([files]);
    expect(edited.doc.firewall?.deadman_timeout).toBe(97);
    expect(plain(edited)).toStrictEqual(plain(await full([files])));
  });

  it('a damaged or truncated entry is a miss, never an answer', async () => {
    const fresh = await full(REAL);
    await cached(REAL);
    const [entry] = await entries();
    const file = join(dir, 'inventory', entry!);
    const data = await readFile(file);
    for (const damaged of [
      data.subarray(0, data.length - 7),
      Buffer.concat([data.subarray(0, -1), Buffer.from([data.at(-1)! ^ 1])]),
      Buffer.from(''),
    ]) {
      await writeFile(file, damaged);
      const loaded = await cached(REAL);
      expect(plain(loaded)).toStrictEqual(plain(fresh));
      expect(located(loaded)).toEqual(located(fresh)); // a full load again: positions at once
    }
  });

  it('an inventory with problems is not recorded and fails the same way every time', async () => {
    const bad = join(FIXTURES, 'inventory/bad/bad-port.yaml');
    const problems = async () =>
      cached([bad]).then(
        () => [],
        (e: unknown) => {
          expect(e).toBeInstanceOf(InventoryError);
          return (e as InventoryError).problems.map(formatProblem);
        },
      );
    const first = await problems();
    expect(first.length).toBeGreaterThan(0);
    expect(await problems()).toEqual(first);
    expect(await entries()).toHaveLength(0);
  });

  it('off without a build id, with cacheDir null, HOSTKIT_YAML_CACHE=off, or a user role schema', async () => {
    await loadInventory(REAL, { cacheDir: dir });
    await loadInventory(REAL, { cacheDir: null, buildId: BUILD });
    const saved = process.env.HOSTKIT_YAML_CACHE;
    process.env.HOSTKIT_YAML_CACHE = 'off';
    try {
      await cached(REAL);
    } finally {
      if (saved === undefined) delete process.env.HOSTKIT_YAML_CACHE;
      else process.env.HOSTKIT_YAML_CACHE = saved;
    }
    await cached(REAL, [{ name: 'mine', schema: z.object({}) }]);
    expect(await entries()).toHaveLength(0);
  });
});

describe('validated-inventory cache size', () => {
  it('keeps the newest KEEP_ENTRIES entries', async () => {
    await mkdir(join(dir, 'inventory'));
    const names = Array.from({ length: KEEP_ENTRIES + 5 }, (_, i) => `${String(i).padStart(3, '0')}.v8`);
    for (const [i, name] of names.entries()) {
      await writeFile(join(dir, 'inventory', name), '');
      await utimes(join(dir, 'inventory', name), 1_000_000 + i, 1_000_000 + i);
    }
    pruneValidated(dir);
    expect((await entries()).sort()).toEqual(names.slice(5));
  });
});

describe('firewall rules without the schema', () => {
  it('ruleObjectOf gives the short form the map form schema defaults', () => {
    for (const [rule, proto] of [
      ['22/tcp', 'tcp'],
      ['80', 'any'],
      ['6000:6007/udp', 'udp'],
      ['443', 'any'],
    ] as const) {
      expect(ruleObjectOf(rule)).toStrictEqual(ruleObject.parse({ port: rule.split('/')[0], proto }));
    }
    const map = { port: 22, proto: 'tcp' as const, action: 'limit' as const, from: 'any' };
    expect(ruleObjectOf(map)).toBe(map);
  });
});
