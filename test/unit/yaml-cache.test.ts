// The parsed-YAML cache (src/inventory/yaml-cache.ts): a hit gives exactly what a fresh parse
// gives, an edited file or a damaged entry is a miss, and every positioned error (file:line:col)
// is the same with a warm cache, because positions always come from the real text.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProblem, InventoryError } from '../../src/inventory/index.js';
import { loadInventory } from '../../src/inventory/loader.js';
import { parseInventoryWith } from '../../src/inventory/parse.js';
import { inventorySchemaFor } from '../../src/inventory/slices.js';
import type { Inventory } from '../../src/inventory/types.js';
import { cacheDir, isPlainJson, openYamlCache, PARSER } from '../../src/inventory/yaml-cache.js';
import { FIXTURES, REAL_INVENTORY } from './real-inventory.js';

const REAL = REAL_INVENTORY;

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostkit-yaml-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entries = async () => (await readdir(join(dir, 'yaml')).catch(() => [] as string[])).sort();
/** What a loaded inventory says, positions included (locate is a function: asked for some paths). */
const view = (inv: Inventory) => ({
  sources: inv.sources,
  hosts: inv.hosts,
  groups: inv.groups,
  doc: inv.doc,
  warnings: inv.warnings,
  located: [['all'], ['firewall', 'rules', 0], ['all', 'hosts'], ['stacks']].map((p) => inv.locate?.(p)),
});
const problemsOf = async (load: Promise<unknown>) => {
  const err = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InventoryError);
  return (err as InventoryError).problems.map(formatProblem);
};
/** Loads through parseInventoryWith with a cache of its own, to see its hits. */
async function loadWithCache(files: { file: string; text: string }[]) {
  const cache = (await openYamlCache(
    files.map((f) => f.text),
    dir,
  ))!;
  const inventory = parseInventoryWith(files, [], await inventorySchemaFor(), cache);
  return { inventory, stats: cache.stats };
}
const read = async (paths: string[]) => Promise.all(paths.map(async (file) => ({ file, text: await readFile(file, 'utf8') })));

describe('parsed-YAML cache', () => {
  it('a hit equals a fresh parse on the real inventory and overlays', async () => {
    const fresh = view(await loadInventory(REAL, { cacheDir: null }));
    const cold = await loadWithCache(await read(REAL));
    expect(cold.stats).toEqual({ hits: 0, misses: 3, writes: 3 });
    expect(await entries()).toHaveLength(3);
    const warm = await loadWithCache(await read(REAL));
    expect(warm.stats).toEqual({ hits: 3, misses: 0, writes: 0 });
    expect(view(warm.inventory)).toEqual(fresh);
    expect(view(cold.inventory)).toEqual(fresh);
    // loadInventory itself, through the folder it is given.
    expect(view(await loadInventory(REAL, { cacheDir: dir }))).toEqual(fresh);
  });

  it('an edited file is a miss, and its new value is the one loaded', async () => {
    await loadWithCache(await read(REAL));
    const files = await read(REAL);
    files[2]!.text = files[2]!.text.replace(/\n$/, '\n# edited\n').replace('127.0.0.1', '127.0.0.2');
    const edited = await loadWithCache(files);
    expect(edited.stats).toEqual({ hits: 2, misses: 1, writes: 1 });
    expect(edited.inventory.hosts.map((h) => h.address)).toContain('127.0.0.2');
    expect(view(edited.inventory)).toEqual(view(parseInventoryWith(files, [], await inventorySchemaFor())));
  });

  it('a damaged, truncated, foreign or mismatched entry is a miss, never an error', async () => {
    const files = await read(REAL.slice(0, 1));
    const fresh = view(parseInventoryWith(files, [], await inventorySchemaFor()));
    await loadWithCache(files);
    const [name] = await entries();
    const path = join(dir, 'yaml', name!);
    const good = await readFile(path, 'utf8');
    const [header, body] = [good.slice(0, good.indexOf('\n')), good.slice(good.indexOf('\n') + 1)];
    const tampered = body.replace('"leruepecie"', '"leruepecie2"');
    expect(tampered).not.toBe(body);
    const damaged = [
      'garbage',
      good.slice(0, good.length - 100), // truncated
      `${header}\n${tampered}`, // a value that is not the one recorded
      `${header.replace(JSON.stringify(PARSER), JSON.stringify('yaml@0.0.0'))}\n${body}`, // another parser
      `${header.replace(name!.slice(0, 8), '00000000')}\n${body}`, // another text's hash
      '',
    ];
    for (const data of damaged) {
      await writeFile(path, data);
      const again = await loadWithCache(files);
      expect(again.stats, data.slice(0, 40)).toEqual({ hits: 0, misses: 1, writes: 1 });
      expect(view(again.inventory)).toEqual(fresh);
    }
    // The rewritten entry is good again, and no temporary file is left behind.
    expect((await loadWithCache(files)).stats.hits).toBe(1);
    expect(await entries()).toEqual([name]);
  });

  it('errors carry the same file:line:col with a warm cache (validation, host resolution, overlays, warnings)', async () => {
    const bad = [
      'bad-port',
      'bad-rule',
      'unknown-key-top',
      'unknown-key-host',
      'wrong-type',
      'duplicate-address',
      'group-clash',
      'several',
    ];
    for (const name of bad) {
      const paths = [join(FIXTURES, `inventory/bad/${name}.yaml`)];
      const fresh = await problemsOf(loadInventory(paths, { cacheDir: null }));
      expect(fresh.length, name).toBeGreaterThan(0);
      expect(await problemsOf(loadInventory(paths, { cacheDir: dir })), name).toEqual(fresh); // cold: writes
      const files = await read(paths);
      const cache = (await openYamlCache([files[0]!.text], dir))!;
      expect(cache.get(files[0]!.text), `${name} is cached`).toBeDefined();
      expect(await problemsOf(loadInventory(paths, { cacheDir: dir })), name).toEqual(fresh); // warm
    }
    // An overlay that lowers protection is reported at the overlay's line, where the base protected it.
    const overlay = join(dir, 'unprotect.yaml');
    await writeFile(overlay, 'all:\n  hosts:\n    leruepecie:\n      protected: false\n');
    const paths = [REAL[0]!, overlay];
    const fresh = await problemsOf(loadInventory(paths, { cacheDir: null }));
    expect(fresh.join('\n')).toMatch(/unprotect\.yaml:4:\d+: .*protected: true since .*inventory\.yaml:\d+:\d+/);
    await loadInventory(paths, { cacheDir: dir }).catch(() => undefined);
    expect(await problemsOf(loadInventory(paths, { cacheDir: dir }))).toEqual(fresh);
    // Warnings (ignored Ansible variables) are positioned the same.
    const ansible = join(dir, 'ansible.yaml');
    await writeFile(
      ansible,
      'all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n    web1: { address: 10.0.0.1 }\n',
    );
    const warned = (await loadInventory([ansible], { cacheDir: null })).warnings.map(formatProblem);
    expect(warned).toEqual([
      expect.stringMatching(/ansible\.yaml:3:5: all\.vars\.ansible_python_interpreter: "ansible_python_interpreter" is not used/),
    ]);
    await loadInventory([ansible], { cacheDir: dir });
    expect((await loadInventory([ansible], { cacheDir: dir })).warnings.map(formatProblem)).toEqual(warned);
  });

  it('caches only clean parses that JSON keeps exactly', async () => {
    const cases = {
      syntax: 'all:\n  hosts: [\n',
      duplicate: 'all:\n  hosts:\n    a:\n    a:\n',
      alias: 'x-d: &d { user: root }\nall:\n  vars: *d\n  hosts:\n    a:\n',
      collectionKey: 'all:\n  hosts:\n    ? [a, b]\n    : x\n',
      negativeZero: 'all:\n  vars: { port: -0 }\n',
      infinity: 'all:\n  vars: { port: .inf }\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      const cache = (await openYamlCache([text], dir))!;
      try {
        parseInventoryWith([{ file: `${name}.yaml`, text }], [], await inventorySchemaFor(), cache);
      } catch {
        // Most are bad inventories too; what matters is that none is cached.
      }
      expect(cache.stats.writes, name).toBe(0);
    }
    expect(await entries()).toEqual([]);
    expect(isPlainJson({ a: [1, 'x', null, true, { b: 2.5 }] })).toBe(true);
    const shared = { x: 1 };
    expect(isPlainJson({ a: shared, b: shared })).toBe(false);
    expect(isPlainJson({ a: new Date(0) })).toBe(false);
    expect(isPlainJson(new Array(2))).toBe(false); // holes
    expect(isPlainJson({ a: undefined })).toBe(false);
    expect(isPlainJson(JSON.parse('{"__proto__": {"x": 1}}'))).toBe(true);
  });

  it('lives under $XDG_CACHE_HOME/hostkit, else ~/.cache/hostkit', () => {
    expect(cacheDir({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/hostkit');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/hostkit$/);
    expect(cacheDir({})).toMatch(/\/\.cache\/hostkit$/);
  });
});
