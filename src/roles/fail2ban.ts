import type { Resource, Role } from '../engine/types.js';
import { handler, handlersOf } from '../engine/resource.js';
import type { Fail2banConfig } from './fail2ban.schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { configUnitFiles, type ConfigUnitFile } from '../resources/config-unit.js';
import { Service } from '../resources/service.js';
import { Fail2banJails, Fail2banNeedsUfw, type ExpectedJail } from '../resources/fail2ban-jails.js';
import { renderTemplate } from '../templates.js';
import { quote } from '../transports/quote.js';
import { iniValue } from '../formats.js';

export const JAIL_LOCAL = '/etc/fail2ban/jail.local';
export const SSHD_FILTER_LOCAL = '/etc/fail2ban/filter.d/sshd.local';
const RELOAD = 'reload fail2ban';
/** fail2ban's configuration tree, checked as one unit (`-c` points the checker at a staging copy). */
export const F2B_UNIT = { root: '/etc/fail2ban', validate: 'fail2ban-client -t', dirOption: '-c' };

/**
 * Where sshd's authentication lines are in the journal. Debian's jail.d/defaults-debian.conf has
 * only `_SYSTEMD_UNIT=ssh.service + _COMM=sshd`: OpenSSH 10 logs as sshd-session, and journald
 * records no _COMM/_SYSTEMD_UNIT for a process that exited before it was read (seen: 2 of 8
 * failures lost). SYSLOG_IDENTIFIER is part of the message, so it is always there.
 */
export const SSHD_JOURNALMATCH =
  '_SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session + SYSLOG_IDENTIFIER=sshd + SYSLOG_IDENTIFIER=sshd-session';

type Overrides = { key: string; value: string | number }[];
const overrides = (o: {
  maxretry?: number | undefined;
  bantime?: string | number | undefined;
  findtime?: string | number | undefined;
}): Overrides => (['maxretry', 'bantime', 'findtime'] as const).flatMap((key) => (o[key] !== undefined ? [{ key, value: o[key]! }] : []));

/** Ban actions: [banaction, banaction_allports, recidive's own action]. */
function banActions(banaction: Fail2banConfig['banaction']): [string, string, string] {
  // ufw: a ban is "reject from IP" (all ports). recidive uses "deny": a different rule, so the
  // sshd jail's unban (`ufw delete reject from IP`) cannot remove a recidive ban of the same IP.
  if (banaction === 'ufw') return ['ufw', 'ufw', 'ufw[blocktype=deny]'];
  return ['nftables', 'nftables[type=allports]', 'nftables[type=allports]'];
}

/**
 * The ban for Docker-published ports: traffic to a container is DNATed and FORWARDed, so no
 * INPUT rule (ufw's, or the nftables input hook) sees it. fail2ban's own nftables table on the
 * forward hook, at priority -1, runs before Docker's and ufw's chains and belongs to neither: the
 * firewall role redeclares DOCKER-USER on every ufw reload and audits its exact rules, so a jump
 * placed there would vanish or be "repaired". Every port of the source is refused.
 */
export const publishedPortsAction = (jail: string) => `nftables[type=allports, name=${jail}-docker, chain=f2b-forward, chain_hook=forward]`;

/** The values templates/fail2ban/jail.local.hbs renders. */
export function jailLocalData(cfg: Fail2banConfig) {
  const [banaction, banactionAllports, recidiveAction] = banActions(cfg.banaction);
  // Every inventory value goes through the INI escaping (the schema has refused line breaks).
  const ini = iniValue;
  const time = (what: string, t: string | number | undefined) => (t === undefined ? t : ini(what, t));
  const jailOverrides = (what: string, j: Parameters<typeof overrides>[0]) =>
    overrides(j).map((o) => ({ key: o.key, value: ini(`${what}.${o.key}`, o.value) }));
  return {
    bantime: ini('fail2ban.bantime', cfg.bantime),
    findtime: ini('fail2ban.findtime', cfg.findtime),
    maxretry: cfg.maxretry,
    ignoreip: [...new Set(['127.0.0.1/8', '::1', ...cfg.ignoreip])].map((ip) => ini('fail2ban.ignoreip', ip)),
    banaction,
    banaction_allports: banactionAllports,
    sshd: {
      enabled: cfg.sshd.enabled,
      mode: cfg.sshd.mode,
      port: ini('fail2ban.sshd.port', cfg.sshd.port),
      journalmatch: SSHD_JOURNALMATCH,
      overrides: jailOverrides('fail2ban.sshd', cfg.sshd),
    },
    recidive: {
      ...cfg.recidive,
      bantime: time('fail2ban.recidive.bantime', cfg.recidive.bantime),
      findtime: time('fail2ban.recidive.findtime', cfg.recidive.findtime),
      action: recidiveAction,
    },
    jails: cfg.jails.map((j, i) => ({
      name: ini(`fail2ban.jails[${i}].name`, j.name),
      filter: ini(`fail2ban.jails[${i}].filter`, j.filter),
      // Continuation lines of a multi-line value are indented: the one line break hostkit writes.
      logpath: j.logpath ? j.logpath.map((p) => ini(`fail2ban.jails[${i}].logpath`, p)).join('\n          ') : null,
      journalmatch: j.journalmatch === undefined ? null : ini(`fail2ban.jails[${i}].journalmatch`, j.journalmatch),
      port: ini(`fail2ban.jails[${i}].port`, j.port),
      overrides: jailOverrides(`fail2ban.jails[${i}]`, j),
      dockerAction: j.proxied ? publishedPortsAction(j.name) : null,
    })),
  };
}

export function expectedJails(cfg: Fail2banConfig): ExpectedJail[] {
  return [
    ...(cfg.sshd.enabled ? [{ name: 'sshd', actions: 1, journalmatch: SSHD_JOURNALMATCH }] : []),
    ...(cfg.recidive.enabled ? [{ name: 'recidive', actions: 1 }] : []),
    ...cfg.jails.map((j) => ({ name: j.name, actions: j.proxied ? 2 : 1, ...(j.journalmatch ? { journalmatch: j.journalmatch } : {}) })),
  ];
}

/**
 * Reload (or start) fail2ban, then prove the result instead of trusting "OK": every expected
 * jail runs, with its number of ban actions. fail2ban 1.1's `reload` does not add an action of
 * another kind to a running jail (seen on Debian 13): then it restarts (bans persist in its
 * database).
 */
export function reloadScript(jails: readonly ExpectedJail[]): string {
  return [
    `jails=${quote(jails.map((j) => `${j.name}:${j.actions}`).join(' '))}`,
    'wait_ping() {',
    '  i=0',
    '  until fail2ban-client ping >/dev/null 2>&1; do',
    '    i=$((i+1))',
    '    if [ $i -ge 60 ]; then',
    '      echo "fail2ban does not answer after 30 s ($(systemctl is-active fail2ban))" >&2',
    '      journalctl -u fail2ban -n 10 --no-pager -o cat >&2; exit 1',
    '    fi',
    '    sleep 0.5',
    '  done',
    '}',
    'wait_jails() {',
    '  i=0',
    '  while :; do',
    '    active=$(fail2ban-client status 2>/dev/null | sed -n "s/.*Jail list:[[:space:]]*//p" | tr -d " \\t" | tr "," " ")',
    "    missing=''",
    '    for s in $jails; do j=${s%%:*}; case " $active " in *" $j "*) ;; *) missing="$missing $j";; esac; done',
    '    [ -z "$missing" ] && return 0',
    '    i=$((i+1))',
    '    if [ $i -ge 20 ]; then',
    '      echo "after the reload these jails are not active:$missing (active: ${active:-none})" >&2',
    '      tail -n 15 /var/log/fail2ban.log >&2; exit 1',
    '    fi',
    '    sleep 0.5',
    '  done',
    '}',
    'stale_actions() {',
    "  stale=''",
    '  for s in $jails; do',
    '    j=${s%%:*}; n=${s##*:}',
    '    got=$(fail2ban-client get "$j" actions 2>/dev/null | sed 1d | tr "," "\\n" | grep -c "[^[:space:]]")',
    '    [ "$got" = "$n" ] || stale="$stale $j ($got of $n actions)"',
    '  done',
    '  printf "%s" "$stale"',
    '}',
    'if systemctl is-active -q fail2ban; then wait_ping; fail2ban-client reload >/dev/null || exit 1',
    'else systemctl restart fail2ban || exit 1; wait_ping; fi',
    'wait_jails',
    'if [ -n "$(stale_actions)" ]; then',
    '  systemctl restart fail2ban || exit 1; wait_ping; wait_jails',
    '  stale=$(stale_actions)',
    '  if [ -n "$stale" ]; then echo "jails running without their configured ban actions:$stale" >&2; exit 1; fi',
    'fi',
  ].join('\n');
}

export const fail2banRole: Role<Fail2banConfig> = {
  name: 'fail2ban',
  description:
    'fail2ban: sshd jail on the journal (counts wrong keys), recidive, inventory jails; its files checked together on a staging copy before they go in; jails proven active.',
  config: (inventory) => inventory.doc.fail2ban,
  build(cfg) {
    const packages = ['fail2ban', 'python3-systemd'];
    if (cfg.banaction === 'nftables' || cfg.jails.some((j) => j.proxied)) packages.push('nftables');
    const pkg = new AptPackages({ names: packages, label: 'fail2ban' });
    const jails = expectedJails(cfg);
    const reload = handler(RELOAD, [
      {
        kind: 'exec',
        script: reloadScript(jails),
        display: `fail2ban-client reload, then wait for jails ${jails.map((j) => j.name).join(', ')}`,
      },
    ]);
    // One unit: both files are written to a staging copy of /etc/fail2ban and checked there
    // together, so neither is ever checked without the other (Debian 12's stock sshd jail fails
    // `fail2ban-client -t` until jail.local moves it to the journal).
    const [filter, jail] = configUnitFiles(
      F2B_UNIT,
      [
        { path: SSHD_FILTER_LOCAL, content: renderTemplate('fail2ban/sshd.local.hbs', {}) },
        { path: JAIL_LOCAL, content: renderTemplate('fail2ban/jail.local.hbs', jailLocalData(cfg)) },
      ].map((f) => ({ ...f, owner: 'root', group: 'root', mode: '0644' })),
      { requires: [pkg], notify: [reload] },
    ) as [ConfigUnitFile, ConfigUnitFile];
    const service = new Service({ unit: 'fail2ban', enabled: true, active: true }, { requires: [pkg] });
    const resources: Resource[] = [
      pkg,
      filter,
      jail,
      service,
      new Fail2banJails({ jails }, { requires: [pkg, service], notify: [reload] }),
    ];
    if (cfg.banaction === 'ufw') resources.push(new Fail2banNeedsUfw({}));
    return { resources, handlers: handlersOf(resources) };
  },
};
