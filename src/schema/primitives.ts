import { z } from 'zod';

/**
 * Small value types the inventory's sections share (ports, modes, names, addresses). The schema
 * slices next to the roles, the platform and the backup import these and zod, nothing else: the
 * inventory schema composes the slices without pulling in role or platform code.
 *
 * Messages are noun phrases naming what was expected: the loader words them as
 * `expected <message>, got <value>` (see src/inventory/errors.ts).
 */

const PORT = 'an integer 1..65535';
export const port = z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT });

const MODE = 'an octal mode as a quoted string, e.g. "0750"';
// Unquoted 0750 is the integer 750 in YAML 1.2, hence the type error also asks for quotes.
export const octalMode = z
  .string({ error: MODE })
  .regex(/^0?[0-7]{3,4}$/, MODE)
  .transform((m) => m.replace(/^0?([0-7]{3,4})$/, '$1').padStart(4, '0'));

export const posixName = z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, 'a user or group name');

const IP_OR_NET = 'an IPv4 or IPv6 address or network, e.g. "203.0.113.7" or "10.0.0.0/8"';
export const ipOrNet = z.string({ error: IP_OR_NET }).regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(\/\d{1,3})?$/, IP_OR_NET);

const SECONDS = 'a number of seconds 10..3600';
/** How long a dead-man switch waits for the fresh login before the host rolls back. */
export const deadmanSeconds = z
  .number({ error: SECONDS })
  .int({ error: SECONDS })
  .min(10, { error: SECONDS })
  .max(3600, { error: SECONDS });

export const versionString = z.string().regex(/^\d+(\.\d+){0,3}$/, 'a version like "26.1" or "2.20.0"');

const dnsLabelName = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, `${what}: lowercase letters, digits, "_" and "-"`);
/** Compose project names are what `docker compose ls` and the project label show. */
export const stackName = dnsLabelName('a stack (compose project) name');
export const serviceName = dnsLabelName('a service name');
export const networkKey = dnsLabelName('a network key');
export const secretName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a secret name: lowercase letters, digits and "_"');
