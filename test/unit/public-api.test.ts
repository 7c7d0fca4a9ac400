import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { buildRole } from '../../src/engine/role-input.js';
import type { HostConfig } from '../../src/inventory/types.js';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The README section between `heading` and the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, `README has no "${heading}"`).toBeGreaterThan(0);
  const level = heading.match(/^#+/)![0].length;
  const rest = README.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level}} `));
  return end < 0 ? rest : rest.slice(0, end);
}

describe('the public API (src/index.ts)', () => {
  const [values, types] = section('### The public API').split('\n- Types (TypeScript)');
  const names = (text: string) => [...new Set([...text!.matchAll(/`([A-Za-z_$][A-Za-z0-9_$]*)`/g)].map((m) => m[1]!))];

  it('exports every value README documents in "The public API"', () => {
    expect(names(values!).length).toBeGreaterThan(30);
    const missing = names(values!).filter((n) => (api as Record<string, unknown>)[n] === undefined);
    expect(missing, 'documented in README but not exported by src/index.ts').toEqual([]);
  });

  it('exports every type README documents (declared in src/engine/types.ts, re-exported whole, or named in src/index.ts)', () => {
    const index = readFileSync(join(import.meta.dirname, '../../src/index.ts'), 'utf8');
    const engineTypes = readFileSync(join(import.meta.dirname, '../../src/engine/types.ts'), 'utf8');
    expect(index).toContain("export type * from './engine/types.js';");
    const declared = (n: string) =>
      new RegExp(`export (interface|type) ${n}\\b`).test(engineTypes) || new RegExp(`\\btype ${n}\\b`).test(index);
    expect(names(types!).length).toBeGreaterThan(5);
    expect(names(types!).filter((n) => !declared(n))).toEqual([]);
  });

  it('the README example imports only exported names', () => {
    const example = section('## Write your own role');
    const imports = [...example.matchAll(/import \{([^}]+)\} from '\.\.\/dist\/index\.js'/g)].flatMap((m) =>
      m[1]!.split(',').map((s) => s.trim()),
    );
    expect(imports).toContain('defineRole');
    expect(imports.filter((n) => (api as Record<string, unknown>)[n] === undefined)).toEqual([]);
  });
});

describe('defineRole: a user role with its own inventory section', () => {
  const role = api.defineRole({
    name: 'motd',
    description: 'the login message',
    schema: api.z
      .object({ message: api.z.string(), mode: api.octalMode.default('0644'), packages: api.z.array(api.posixName).default([]) })
      .strict(),
    build: (config, host) => [
      new api.ManagedFile({
        path: '/etc/motd',
        content: `${host.name}: ${config.message}\n`,
        owner: 'root',
        group: 'root',
        mode: config.mode,
      }),
      ...(config.packages.length ? [new api.AptPackages({ names: config.packages })] : []),
    ],
  });
  const host = { name: 'web1' } as HostConfig;
  const load = (section: string) =>
    api.parseInventorySources([{ file: 'inv.yaml', text: `all:\n  hosts:\n    web1: {}\n${section}` }], [], {
      roleSections: api.roleSections([role]),
    });

  it('the section is parsed by the role schema (defaults, transforms) and handed to build', () => {
    const inventory = load('roles:\n  motd:\n    message: hi\n    mode: "600"\n');
    expect(inventory.doc.roles).toEqual({ motd: { message: 'hi', mode: '0600', packages: [] } });
    expect(buildRole(role, inventory, host).resources.map((r) => r.id)).toEqual(['file /etc/motd']);
  });

  it('a problem in the section is an inventory error at its file:line:col', () => {
    expect(() => load('roles:\n  motd:\n    message: hi\n    colour: red\n')).toThrow(
      /inv\.yaml:7:5: roles\.motd\.colour: unknown key "colour"; allowed keys: message, mode, packages/,
    );
    expect(() => load('roles:\n  motd:\n    message: 7\n')).toThrow(/inv\.yaml:6:14: roles\.motd\.message/);
  });

  it("no section: the role builds nothing; other user roles' sections pass untouched", () => {
    const inventory = load('roles:\n  other: { anything: [1] }\n');
    expect(buildRole(role, inventory, host).resources).toEqual([]);
    // A script that runs no user role accepts any roles.<name> section (it does not know their schemas).
    expect(api.parseInventorySources([{ file: 'inv.yaml', text: 'all: {}\nroles:\n  motd: { colour: red }\n' }]).doc.roles).toEqual({
      motd: { colour: 'red' },
    });
  });

  it('refuses a name that cannot be a section key or a script name', () => {
    expect(() => api.defineRole({ name: 'My Role', description: '', build: () => [] })).toThrow(/lowercase letters, digits and "-"/);
  });

  it('without a schema the role reads no inventory and always builds', () => {
    const plain = api.defineRole({
      name: 'marker',
      description: '',
      build: () => [new api.Command({ command: 'touch /etc/marker', creates: '/etc/marker' })],
    });
    expect(api.roleSections([plain])).toEqual({});
    expect(buildRole(plain, load(''), host).resources.map((r) => r.id)).toEqual(['command touch /etc/marker']);
  });
});

describe('dist/ (tsc output, what user roles import)', () => {
  // vitest resolves imports leniently; Node's ESM loader does not (a package subpath without its
  // file extension fails there only): load the built API and the sandbox cli in plain Node.
  const root = join(import.meta.dirname, '../..');
  it.each(['dist/index.js', 'dist/sandbox/index.js'])('%s loads in plain Node', (file) => {
    expect(existsSync(join(root, file)), `${file} is missing: run npm run build`).toBe(true);
    const code = `import(${JSON.stringify(`./${file}`)}).then(() => {}, (e) => { console.error(e.message); process.exit(1); })`;
    expect(() => execFileSync(process.execPath, ['-e', code], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });
});
