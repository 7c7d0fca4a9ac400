import { z } from 'zod';
import { safeText } from '../schema/primitives.js';

/** The base role's section of the inventory (`base:`). */

const DEB_PACKAGE = 'a Debian package name';
const debPackage = safeText.regex(/^[a-z0-9][a-z0-9+.-]+$/, DEB_PACKAGE);
const TIMEZONE = 'a zone of /usr/share/zoneinfo, e.g. "UTC" or "Europe/Moscow"';
const SYSCTL_KEY = 'a sysctl key like "net.ipv4.tcp_syncookies"';

export const baseSchema = z
  .object({
    /** Installed (never removed): what the platform needs on every host. */
    packages: z.array(debPackage).default([]),
    /** Short host name (one label); absent: left as it is. */
    hostname: safeText.regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a short host name: lowercase letters, digits and "-"').optional(),
    timezone: safeText.regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, TIMEZONE).default('UTC'),
    /** Daily unattended security upgrades (unattended-upgrades + APT::Periodic). */
    unattended_upgrades: z.boolean().default(true),
    /** Kernel parameters, set now and persisted in /etc/sysctl.d/90-hostkit.conf. */
    sysctl: z
      .record(
        safeText.regex(/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/, SYSCTL_KEY),
        z.union([z.number(), safeText.regex(/^[^=#]+$/)], { error: 'a number or a one-line value' }),
      )
      .default({}),
  })
  .strict();

export type BaseConfig = z.infer<typeof baseSchema>;
