import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Small value types the inventory's sections share (ports, modes, names, addresses). The schema
 * slices next to the roles, the platform and the backup import these and zod, nothing else: the
 * inventory schema composes the slices without pulling in role or platform code.
 *
 * Every string of every slice is `safeText` or a narrower type built on it (a unit test walks
 * the schema and proves each string rejects every unsafe character): no inventory value can end a
 * line of a command, a config file or a unit, whatever format it is rendered into.
 *
 * Messages are noun phrases naming what was expected: the loader words them as
 * `expected <message>, got <value>` (see src/inventory/errors.ts).
 */

// Defined apart (characters.ts) so that renderers guard values without loading zod.
export { UNSAFE_CHARACTERS } from './characters.js';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same class, for whole-string checks.
const SAFE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: LF allowed, nothing else.
const SAFE_LINES = /^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]*$/;

export const SAFE_TEXT = 'one line of text without control characters (no line breaks, tabs, ESC, DEL, U+2028/U+2029)';
/** THE string type of the inventory: one line, no control characters. Narrower types refine it. */
export const safeText = z.string().max(4096, { error: 'at most 4096 characters' }).regex(SAFE_LINE, { error: SAFE_TEXT, abort: true });

const SAFE_LINES_TEXT = 'text without control characters other than line breaks (LF)';
/** Multi-line text written as a whole file (a PGP key block, known_hosts lines): LF only, no CR. */
export const safeLines = z
  .string()
  .max(65536, { error: 'at most 65536 characters' })
  .regex(SAFE_LINES, { error: SAFE_LINES_TEXT, abort: true });

const ABS_PATH = 'an absolute path';
export const absolutePath = z
  .string({ error: ABS_PATH })
  .regex(/^\/./, { error: ABS_PATH, abort: true })
  .regex(SAFE_LINE, { error: SAFE_TEXT, abort: true })
  .max(4096, { error: 'at most 4096 characters' });

const REL_PATH = 'a path relative to the data root';
export const relativePath = z
  .string({ error: REL_PATH })
  .regex(SAFE_LINE, { error: SAFE_TEXT, abort: true })
  .regex(/^[^/]/, { error: REL_PATH, abort: true })
  .max(4096, { error: 'at most 4096 characters' })
  .refine((p) => !p.split('/').includes('..'), 'a path without ".." components');

const CALENDAR = 'a systemd calendar spec like "*-*-* 03:00:00", "daily" or "Mon..Fri 02:30"';
/**
 * OnCalendar= of a timer, by shape: the characters systemd's calendar syntax uses (weekdays and
 * keywords, digits, * - : . , / ~ + _ and spaces, a time zone name last). The host's
 * `systemd-analyze calendar` has the last word on the meaning.
 */
export const calendarSpec = z
  .string({ error: CALENDAR })
  .regex(/^[A-Za-z0-9*][A-Za-z0-9*:.,/~+_ -]{0,99}$/, { error: CALENDAR, abort: true })
  .refine((s) => !/ {2}|\s$/.test(s), CALENDAR);

const HTTPS_URL = 'an https:// URL without spaces, quotes or control characters';
/** Strict https URLs (apt sources, key URLs): no file:, no spaces, nothing a shell or deb822 reads twice. */
export const httpsUrl = z
  .string({ error: HTTPS_URL })
  .regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%!&()*+,;=:@/-]*)?$/, { error: HTTPS_URL, abort: true })
  .refine((u) => URL.canParse(u) && new URL(u).protocol === 'https:', HTTPS_URL);

const PORT = 'an integer 1..65535';
export const port = z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT });

const MODE = 'an octal mode as a quoted string, e.g. "0750"';
// Unquoted 0750 is the integer 750 in YAML 1.2, hence the type error also asks for quotes.
export const octalMode = z
  .string({ error: MODE })
  .regex(/^0?[0-7]{3,4}$/, MODE)
  .transform((m) => m.replace(/^0?([0-7]{3,4})$/, '$1').padStart(4, '0'));

export const posixName = safeText.regex(/^[a-z_][a-z0-9_-]*\$?$/, 'a user or group name');

const IP_OR_NET = 'an IPv4 or IPv6 address or network, e.g. "203.0.113.7" or "10.0.0.0/8"';
/** An address or CIDR network, checked by node's own parser (not a look-alike regex). */
export const ipOrNet = z
  .string({ error: IP_OR_NET })
  .regex(/^[0-9A-Fa-f.:]+(\/\d{1,3})?$/, { error: IP_OR_NET, abort: true })
  .refine((s) => isIpOrNet(s), IP_OR_NET);

export function isIpOrNet(s: string): boolean {
  const [addr = '', bits, ...more] = s.split('/');
  const family = isIP(addr);
  if (family === 0 || more.length) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const SECONDS = 'a number of seconds 10..3600';
/** How long a dead-man switch waits for the fresh login before the host rolls back. */
export const deadmanSeconds = z
  .number({ error: SECONDS })
  .int({ error: SECONDS })
  .min(10, { error: SECONDS })
  .max(3600, { error: SECONDS });

export const versionString = safeText.regex(/^\d+(\.\d+){0,3}$/, 'a version like "26.1" or "2.20.0"');

const dnsLabelName = (what: string) => safeText.regex(/^[a-z0-9][a-z0-9_-]*$/, `${what}: lowercase letters, digits, "_" and "-"`);
/** Compose project names are what `docker compose ls` and the project label show. */
export const stackName = dnsLabelName('a stack (compose project) name');
export const serviceName = dnsLabelName('a service name');
export const networkKey = dnsLabelName('a network key');
export const secretName = safeText.regex(/^[a-z][a-z0-9_]*$/, 'a secret name: lowercase letters, digits and "_"');

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** JSON for a serializer (daemon.json): its strings are safe text too, keys included. */
export const safeJson: z.ZodType<Json> = z.lazy(() =>
  z.union([safeText, z.number(), z.boolean(), z.null(), z.array(safeJson), z.record(safeText, safeJson)], {
    error: 'JSON: strings (one line each), numbers, true/false, null, lists and maps',
  }),
);
