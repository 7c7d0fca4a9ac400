import { handler, handlersOf } from '../engine/resource.js';
import type { Role } from '../engine/types.js';
import type { HostConfig } from '../inventory/types.js';
import type { SshConfig } from './ssh.schema.js';
import { ManagedFile } from '../resources/file.js';
import { SshdSettings } from '../resources/sshd-settings.js';
import { rollbackSafeguard } from '../engine/safeguard.js';
import { renderTemplate } from '../templates.js';

/** "00-": sshd keeps the first value it reads, and reads sshd_config.d/*.conf in name order. */
export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/00-hostkit.conf';
const RELOAD = 'reload sshd';
const RELOAD_SCRIPT = 'systemctl reload ssh';

/**
 * Reload, then wait for sshd's "Server listening": on SIGHUP sshd re-executes itself and rebinds
 * its ports, and a connection in that gap is reset, which would fail the fresh-login proof.
 */
export const RELOAD_AND_WAIT = [
  `c=$(journalctl -u ssh -n 0 --show-cursor -q 2>/dev/null | sed -n 's/^-- cursor: //p')`,
  `${RELOAD_SCRIPT} || exit 1`,
  'i=0',
  'while [ -n "$c" ] && [ $i -lt 50 ]; do',
  `  journalctl -u ssh --after-cursor "$c" -o cat -q 2>/dev/null | grep -q '^Server listening' && exit 0`,
  '  sleep 0.2; i=$((i+1))',
  'done',
  'sleep 1 # no journal line to wait for: give the re-exec a second',
].join('\n');

/** Keywords the role sets unless the inventory's `extra` says otherwise. */
const DEFAULT_OPTIONS: Record<string, string | number | boolean> = { X11Forwarding: false };

const optionValue = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/** The drop-in's text (templates/ssh/hostkit.conf.hbs). */
export function sshDropIn(cfg: SshConfig): string {
  const options: Record<string, string | number | boolean | undefined> = { ...DEFAULT_OPTIONS, ...cfg.extra };
  return renderTemplate('ssh/hostkit.conf.hbs', {
    port: cfg.port ?? null,
    password_authentication: cfg.password_authentication,
    permit_root_login: cfg.permit_root_login,
    allow_users: cfg.allow_users,
    options: Object.entries(options)
      .flatMap(([key, value]) => (value === undefined ? [] : [{ key, value: optionValue(value) }]))
      .sort((a, b) => a.key.localeCompare(b.key)),
  });
}

/** What `sshd -T` must show once the drop-in is in force (lowercase keys, its spelling of values). */
export function sshdEffective(cfg: SshConfig): Map<string, string> {
  const m = new Map<string, string>([
    ['pubkeyauthentication', 'yes'],
    ['passwordauthentication', cfg.password_authentication ? 'yes' : 'no'],
    ['kbdinteractiveauthentication', 'no'],
    ['permitemptypasswords', 'no'],
    // sshd -T prints the old name of prohibit-password.
    ['permitrootlogin', cfg.permit_root_login === 'prohibit-password' ? 'without-password' : cfg.permit_root_login],
  ]);
  if (!cfg.password_authentication) m.set('authenticationmethods', 'publickey');
  if (cfg.allow_users.length) m.set('allowusers', cfg.allow_users.join(' '));
  if (cfg.port !== undefined) m.set('port', String(cfg.port));
  // Extra options whose `sshd -T` spelling is known (numbers, yes/no, LogLevel, AllowTcpForwarding): a
  // hand change such as `MaxAuthTries 6` in a file read first is drift naming the keyword.
  for (const [key, v] of Object.entries(cfg.extra)) {
    if (typeof v === 'number' || typeof v === 'boolean') m.set(key.toLowerCase(), optionValue(v));
    else if (key === 'LogLevel') m.set('loglevel', String(v).toUpperCase());
    else if (key === 'AllowTcpForwarding') m.set('allowtcpforwarding', String(v).toLowerCase());
  }
  return m;
}

/** Reasons the declared settings would lock out the login hostkit itself uses; [] when none. */
export function sshLockoutProblems(cfg: SshConfig, host: Pick<HostConfig, 'user' | 'port'>, sshdPort: number = host.port): string[] {
  const problems: string[] = [];
  if (host.user === 'root' && cfg.permit_root_login === 'no') problems.push('permit_root_login is "no" and hostkit logs in as root');
  if (cfg.allow_users.length && !cfg.allow_users.includes(host.user)) {
    problems.push(`allow_users (${cfg.allow_users.join(', ')}) does not include the management user ${host.user}`);
  }
  if (cfg.port !== undefined && cfg.port !== sshdPort) {
    problems.push(
      `ssh.port ${cfg.port} differs from the port this session reaches sshd on (${sshdPort}): the fresh-login proof runs ` +
        'on the same path, so move the port in two steps (add the new port to the firewall, change both together by hand)',
    );
  }
  return problems;
}

export const sshRole: Role<SshConfig> = {
  name: 'ssh',
  description:
    'sshd hardening drop-in: key-only, root policy, allowed users; sshd -t before reload; a fresh login must work or it rolls back.',
  config: (inventory) => inventory.doc.ssh,
  build(cfg) {
    const reload = handler(RELOAD, [
      { kind: 'exec', script: RELOAD_AND_WAIT, display: `${RELOAD_SCRIPT} (then wait for "Server listening")` },
    ]);
    const dropIn = new ManagedFile(
      { path: SSHD_DROP_IN, content: sshDropIn(cfg), owner: 'root', group: 'root', mode: '0644', validate: '/usr/sbin/sshd -t' },
      { notify: [reload] },
    );
    const settings = new SshdSettings(
      { desired: sshdEffective(cfg), lockout: (host, port) => sshLockoutProblems(cfg, host, port) },
      { requires: [dropIn] },
    );
    const resources = [dropIn, settings];
    return {
      resources,
      handlers: handlersOf(resources),
      // After the reload a FRESH login must work (the run's own session survives any sshd change);
      // otherwise the host itself restores the previous drop-in and reloads.
      safeguard: rollbackSafeguard({
        name: 'sshd',
        timeoutSeconds: cfg.deadman_timeout,
        protects: [dropIn.id],
        paths: [SSHD_DROP_IN],
        restoreCommand: `${RELOAD_SCRIPT} || systemctl restart ssh`,
        restores: `the previous ${SSHD_DROP_IN}`,
      }),
    };
  },
};
