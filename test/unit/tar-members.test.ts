// The tar reader of the paths probe (src/facts/tar-members.ts) on archives GNU tar itself wrote.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarMembers } from '../../src/facts/tar-members.js';

const dir = mkdtempSync(join(tmpdir(), 'hostkit-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tar = (...names: string[]) =>
  execFileSync('tar', ['-chPf', '-', '--hard-dereference', '--no-recursion', '--', ...names.map((n) => join(dir, n))]);

describe('tarMembers', () => {
  writeFileSync(join(dir, 'a'), 'alpha\n');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'big'), Buffer.alloc(1500, 7));
  linkSync(join(dir, 'a'), join(dir, 'a2'));
  const long = `l${'o'.repeat(150)}ng`;
  writeFileSync(join(dir, long), 'long name\n');

  it("gives each member's type and bytes in the operands' order: empty, over a block, a hard link, a long name", () => {
    const members = tarMembers(tar('a', 'empty', 'big', 'a2', long));
    expect(members.map((m) => m.type)).toEqual(['0', '0', '0', '0', '0']);
    expect(members.map((m) => m.data.toString('latin1'))).toEqual(['alpha\n', '', '\x07'.repeat(1500), 'alpha\n', 'long name\n']);
  });

  it('a directory is a member of type 5', () => {
    expect(tarMembers(tar('.')).map((m) => m.type)).toEqual(['5']);
  });

  it('refuses an archive cut short or with a damaged header', () => {
    const whole = tar('a', 'big');
    expect(() => tarMembers(whole.subarray(0, 1024))).toThrow(/cut short/);
    expect(() => tarMembers(whole.subarray(0, 512 + 700))).toThrow(/cut short/);
    const damaged = Buffer.from(whole);
    damaged[10] = (damaged[10] ?? 0) ^ 1;
    expect(() => tarMembers(damaged)).toThrow(/checksum/);
  });
});
