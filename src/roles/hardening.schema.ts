import { z } from 'zod';
import { absolutePath, octalMode, safeLines, safeText } from '../schema/primitives.js';

/**
 * The inventory's `hardening:` section (issue 12): host settings beyond base and ssh that Lynis
 * audits. Every setting carries a one-line `reason`, so the inventory says why it is there.
 */
const reason = safeText.regex(/^.+$/, 'a one-line reason');
const DEB_PACKAGE = 'a Debian package name';
const debPackage = safeText.regex(/^[a-z0-9][a-z0-9+.-]+$/, DEB_PACKAGE);
const MODULE = 'a kernel module name, e.g. "usb-storage"';
const kernelModule = safeText.regex(/^[a-z0-9][a-z0-9_-]*$/, MODULE);
const LOGIN_DEFS_KEY = 'a login.defs keyword, e.g. "UMASK"';
const SYSCTL_KEY = 'a sysctl key like "kernel.kptr_restrict"';
const VALUE = 'a number or a one-line value';
const oneLineValue = z.union([z.number(), safeText.regex(/^[^=#]+$/)], { error: VALUE });

const setting = <T extends z.ZodType>(value: T) => z.object({ value, reason }).strict();

export const hardeningSchema = z
  .object({
    /** Installed (never removed), each with why it is on the host. */
    packages: z.record(debPackage, reason).default({}),
    /** Keys of /etc/login.defs (UMASK, PASS_MIN_DAYS, SHA_CRYPT_*_ROUNDS): the other lines stay as they are. */
    login_defs: z.record(safeText.regex(/^[A-Z][A-Z0-9_]*$/, LOGIN_DEFS_KEY), setting(oneLineValue)).default({}),
    /** Keys of /etc/default/<file> (`KEY=value`, e.g. sysstat's ENABLED="true"); the other lines stay. */
    etc_default: z
      .record(
        safeText.regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a file name in /etc/default'),
        z.record(safeText.regex(/^[A-Z][A-Z0-9_]*$/, 'a shell variable name'), setting(oneLineValue)),
      )
      .default({}),
    /**
     * Network parameters (net.*, namespaced: safe in a container too), set live and persisted in
     * /etc/sysctl.d/92-hostkit-hardening-net.conf, and written into ufw's own sysctl.conf when it
     * exists: ufw re-applies that file at every enable and reload. Never ip_forward or Docker's bridge keys.
     */
    net_sysctl: z
      .record(
        safeText
          .regex(/^net(\.[A-Za-z0-9_-]+)+$/, 'a sysctl key like "net.ipv4.conf.all.log_martians"')
          .refine(
            (k) => !/forwarding|ip_forward|bridge|rp_filter/.test(k),
            'a key other than forwarding, bridge or rp_filter (Docker needs them)',
          ),
        setting(oneLineValue),
      )
      .default({}),
    /**
     * Host-wide kernel parameters (kernel.*, fs.*, dev.*): set and persisted in
     * /etc/sysctl.d/91-hostkit-hardening.conf, except inside a container, where they belong to the
     * host's kernel and are reported as left (see README). Network parameters belong to base.sysctl.
     */
    kernel_sysctl: z.record(safeText.regex(/^(kernel|fs|dev|vm)(\.[A-Za-z0-9_-]+)+$/, SYSCTL_KEY), setting(oneLineValue)).default({}),
    /** Kernel modules that may never load (`install <m> /bin/false` + `blacklist <m>` in /etc/modprobe.d). */
    disabled_modules: z.record(kernelModule, reason).default({}),
    /** Legal banner of /etc/issue (console) and /etc/issue.net (remote login prompt); LF line breaks only, written as whole files. */
    banner: setting(safeLines.min(1)).optional(),
    /** No core dumps: limits.d hard 0, systemd-coredump Storage=none, `ulimit -c 0` for login shells. */
    core_dumps_disabled: reason.optional(),
    /** Seconds of inactivity after which an interactive shell exits (readonly TMOUT). */
    shell_timeout: setting(z.number().int().min(60)).optional(),
    /** needrestart only lists services on old libraries: apt runs never restart dockerd or sshd by themselves. */
    needrestart_mode: setting(z.enum(['l', 'a', 'i'])).optional(),
    /**
     * AIDE (packages aide + aide-common): paths left out of its baseline (each with why), written to
     * /etc/aide/aide.conf.d/99_zz_hostkit; the baseline database is built once when absent.
     */
    file_integrity: z
      .object({
        reason,
        /** AIDE's `Checksums` group in /etc/aide/aide.conf (Debian: H, every algorithm AIDE has). */
        checksums: setting(safeText.regex(/^[a-z0-9_]+(\+[a-z0-9_]+)*$/, 'AIDE hash names joined by "+", e.g. "sha512"')).optional(),
        exclude: z.record(absolutePath.regex(/^[^$()|]*$/, 'an absolute path without $, (, ) or |'), reason).default({}),
      })
      .strict()
      .optional(),
    /** Owner root, mode as given, of existing paths (a missing path is left alone). */
    permissions: z.record(absolutePath, setting(octalMode)).default({}),
    /** systemd units enabled and running (sysstat, acct), each with its reason. */
    services: z.record(safeText.regex(/^[A-Za-z0-9@_.:-]+$/, 'a systemd unit name'), reason).default({}),
  })
  .strict();

export type HardeningConfig = z.infer<typeof hardeningSchema>;
