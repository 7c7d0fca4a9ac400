import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { inventorySchema } from '../../src/inventory/schema.js';
import { calendarSpec, httpsUrl, ipOrNet, safeText, UNSAFE_CHARACTERS } from '../../src/schema/primitives.js';

/** Every string schema reachable from the inventory schema, with its path (record keys included). */
function stringLeaves(schema: z.ZodType, path: string, out: { path: string; schema: z.ZodType }[], seen = new Set<unknown>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const walk = (s: unknown, p: string) => stringLeaves(s as z.ZodType, p, out, seen);
  switch (def.type) {
    case 'string':
      out.push({ path, schema });
      return;
    case 'object':
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, `${path}.${k}`);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      walk(def.innerType, path);
      return;
    case 'array':
      walk(def.element, `${path}[]`);
      return;
    case 'record':
      walk(def.keyType, `${path}{key}`);
      walk(def.valueType, `${path}{}`);
      return;
    case 'union':
      for (const o of def.options as unknown[]) walk(o, path);
      return;
    case 'lazy':
      walk((def.getter as () => unknown)(), path);
      return;
    case 'pipe':
      walk(def.in, path);
      return;
    default:
      return; // numbers, booleans, enums, literals, z.json(): nothing a line break can hide in
  }
}

// Each unsafe character once: C0 (NUL, TAB, LF, CR, ESC), DEL, C1 (NEL), U+2028, U+2029.
/** Written as whole files, never into a line: LF is allowed there, nothing else. */
const MULTI_LINE = [
  '.backup.known_hosts',
  '.docker.repository.key',
  '.hardening.banner.value',
  '.proxy.hosts[].advanced_config',
  '.proxy.redirects[].advanced_config',
];
const UNSAFE = ['\0', '\t', '\n', '\r', '\x1b', '\x7f', '\x85', '\x9b', '\u2028', '\u2029'];

describe('safe text: the one string type of the inventory', () => {
  const leaves: { path: string; schema: z.ZodType }[] = [];
  stringLeaves(inventorySchema, '', leaves);

  it('reaches every string of every slice', () => {
    expect(leaves.length).toBeGreaterThan(40);
    for (const p of ['.backup.repository', '.fail2ban.jails[].journalmatch', '.data.root', '.firewall.rules[].comment', '.backup.schedule'])
      expect(leaves.map((l) => l.path)).toContain(p);
  });

  it('every string schema of the inventory refuses every unsafe character', () => {
    const accepted: string[] = [];
    for (const { path, schema } of leaves)
      for (const c of UNSAFE.filter((c) => c !== '\n' || !MULTI_LINE.includes(path)))
        for (const v of [`a${c}b`, `/a${c}b`, `${c}`, `sshd${c}`, `_SYSTEMD_UNIT=a${c}b`, `*-*-* 03:00:00${c}`])
          if (schema.safeParse(v).success) accepted.push(`${path}: ${JSON.stringify(v)}`);
    expect(accepted).toEqual([]);
  });

  it('safeText accepts ordinary text and refuses control characters', () => {
    expect(safeText.safeParse('/mnt/data/nginx proxy & co $(x) `y` %h').success).toBe(true);
    for (const c of UNSAFE) expect(UNSAFE_CHARACTERS.test(`x${c}`)).toBe(true);
    expect(safeText.safeParse('x'.repeat(5000)).success).toBe(false);
  });

  it('narrower types: calendar specs by shape, strict https URLs, real addresses', () => {
    for (const ok of ['*-*-* 03:00:00', 'daily', 'weekly', 'Mon..Fri 02:30', '*-*-01 04:00:00 Europe/Berlin', 'Sat *-*-1..7 18:00:00'])
      expect(calendarSpec.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['daily\rExecStart=/bin/sh', "daily'", '%h', '$(id)', 'daily ', ''])
      expect(calendarSpec.safeParse(bad).success, bad).toBe(false);
    expect(httpsUrl.safeParse('https://docker-apt.example.net/linux/debian').success).toBe(true);
    for (const bad of ['file:///etc/passwd', 'http://x.example', 'https://x.example/a b', "https://x.example/'$(id)'", 'https://'])
      expect(httpsUrl.safeParse(bad).success, bad).toBe(false);
    for (const ok of ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1']) expect(ipOrNet.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['999.1.1.1', '10.0.0.0/33', '::/129', '1.2.3.4/8/9', 'any', '1.2.3', 'fe80::1%eth0'])
      expect(ipOrNet.safeParse(bad).success, bad).toBe(false);
  });
});
