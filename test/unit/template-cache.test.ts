// Templates from the control machine's cache (Handlebars' precompiled form) render as compiled ones:
// the same text, strict (a missing field is an error), no escaping; a damaged entry is compiled again.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'hostkit-tpl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const template = join(dir, 't.hbs');
writeFileSync(template, 'a={{json a}} <{{b}}> {{join list ","}} {{yesno on}}\n');
const data = { a: { x: 1 }, b: '<&>', list: ['p', 'q'], on: true };
const expected = 'a={"x":1} <<&>> p,q yes\n';

/** renderTemplate of a fresh module (its in-memory map empty), with the cache in `cache`. */
async function freshRender(cache: string) {
  vi.resetModules();
  process.env.HOSTKIT_CACHE_DIR = cache;
  return (await import('../../src/templates.js')).renderTemplate;
}

describe('the template cache', () => {
  it('cold, warm and damaged entries render the same text, and stay strict', async () => {
    const cache = join(dir, 'cache');
    const saved = process.env.HOSTKIT_CACHE_DIR;
    try {
      expect((await freshRender(cache))(template, data)).toBe(expected);
      const entries = readdirSync(join(cache, 'handlebars'));
      expect(entries).toHaveLength(1);
      const warm = await freshRender(cache);
      expect(warm(template, data)).toBe(expected);
      const { b: _b, ...noB } = data;
      expect(() => warm(template, noB)).toThrow(/"b" not defined/);
      writeFileSync(join(cache, 'handlebars', entries[0]!), '{ this is not a template');
      expect((await freshRender(cache))(template, data)).toBe(expected);
    } finally {
      if (saved === undefined) delete process.env.HOSTKIT_CACHE_DIR;
      else process.env.HOSTKIT_CACHE_DIR = saved;
    }
  });
});
