import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));

/** Every src module the file imports, transitively. */
function closure(file: string): Set<string> {
  const seen = new Set<string>();
  const todo = importsOf(file);
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...importsOf(f));
  }
  return seen;
}

describe('the inventory schema composes the sections the roles own', () => {
  it('imports only section modules: schema slices, the platform checks and src/schema, never role or platform code', () => {
    const modules = [...closure(`${src}/inventory/schema.ts`)].map((f) => relative(src, f)).sort();
    expect(modules).toEqual([
      'backup/schema.ts',
      'inventory/ansible-vars.schema.ts',
      'inventory/document.schema.ts',
      'platform/checks.ts',
      'platform/schema.ts',
      'proxy/checks.ts',
      'proxy/schema.ts',
      'roles/base.schema.ts',
      'roles/data.schema.ts',
      'roles/docker.schema.ts',
      'roles/fail2ban.schema.ts',
      'roles/firewall.schema.ts',
      'roles/hardening.schema.ts',
      'roles/ssh.schema.ts',
      'schema/characters.ts',
      'schema/check.ts',
      'schema/primitives.ts',
      'schema/published-port.ts',
    ]);
  });
});
