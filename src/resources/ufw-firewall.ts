import { BaseResource } from '../engine/resource.js';
import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { ufwState as ufwStateFact, type UfwRule, type UfwState } from '../facts/ufw.js';
import { matchKey, ruleKey, toUfwArgs } from './ufw-rules.js';
import { sshSessionFact, type SshSession } from '../facts/ssh-session.js';
import { RefusedError } from '../engine/errors.js';
import { sh } from '../transports/quote.js';

export type Policy = 'allow' | 'deny' | 'reject';
export interface DesiredFirewall {
  defaults: { incoming: Policy; outgoing: Policy; routed: Policy | 'disabled' };
  logging?: string;
  /** Rules without address family; `from: "any"` means both v4 and v6 when IPv6 is on. */
  rules: Omit<UfwRule, 'family'>[];
}

/** What Debian's ufw package sets before anyone touches it (used while ufw is not installed). */
const PACKAGE_DEFAULTS = { incoming: 'deny', outgoing: 'allow', routed: 'disabled' } as const;

const familiesOf = (from: string, ipv6: boolean): UfwRule['family'][] =>
  from === 'any' ? (ipv6 ? ['v4', 'v6'] : ['v4']) : from.includes(':') ? ['v6'] : ['v4'];

/** Identity of a rule across address families: a v4+v6 pair is one logical rule. */
const logicalKey = (r: UfwRule) => ruleKey({ ...r, family: 'v4' });

export function describeRule(r: Omit<UfwRule, 'family'>, families?: UfwRule['family'][]): string {
  const proto = r.proto === 'any' ? '' : `/${r.proto}`;
  const from = r.from === 'any' ? '' : ` from ${r.from}`;
  const dir = r.direction === 'out' ? ' out' : '';
  const fam = families ? ` (${families.join('+')})` : '';
  const comment = r.comment ? ` # ${r.comment}` : '';
  return `${r.action}${dir} ${r.port}${proto}${from}${fam}${comment}`;
}

function portCovers(port: string, wanted: number): boolean {
  if (port === 'any') return true;
  const [lo, hi] = port.split(':').map(Number);
  return hi === undefined ? lo === wanted : wanted >= lo! && wanted <= hi;
}

function sourceCovers(from: string, address: string | undefined): boolean {
  if (from === 'any' || from === '0.0.0.0/0' || from === '::/0') return true;
  if (!address) return false;
  if (!from.includes('/')) return from === address;
  const [net, bits] = from.split('/');
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  if (net!.includes(':') || address.includes(':')) return false; // v6 CIDR matching: refuse to assume
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(net!) & mask) === (toInt(address) & mask);
}

/** A rule fail2ban's ufw ban action inserted. */
export const isFail2banBan = (rule: UfwRule): boolean => (rule.comment ?? '').startsWith('by Fail2Ban');

/** The port the operator's SSH session uses on the server side. */
export function sessionSshPort(session: SshSession, fallback: number): number {
  return session.client?.serverPort ?? session.sshdPorts[0] ?? fallback;
}

/**
 * True when the desired rules keep the management SSH path open: the session's port (and, where
 * a rule restricts sources, the address the session comes from) is allowed, and no deny/reject
 * rule covers it (ufw's rule order depends on history, so any covering deny counts).
 */
export function allowsSsh(desired: DesiredFirewall, port: number, clientAddress?: string): boolean {
  const covers = (r: DesiredFirewall['rules'][number]) =>
    r.direction === 'in' && (r.proto === 'tcp' || r.proto === 'any') && portCovers(r.port, port) && sourceCovers(r.from, clientAddress);
  if (desired.rules.some((r) => (r.action === 'deny' || r.action === 'reject') && covers(r))) return false;
  if (desired.defaults.incoming === 'allow') return true;
  return desired.rules.some((r) => (r.action === 'allow' || r.action === 'limit') && covers(r));
}

/**
 * Plans UFW from its live state: add missing rules (SSH first), set policies that differ,
 * delete undeclared rules, enable last. Pure: facts in, changes out.
 */
export function planFirewall(desired: DesiredFirewall, state: UfwState, sshPort: number): Change[] {
  const ipv6 = state.installed ? state.ipv6 : true;
  const current = state.installed ? state.rules : [];
  const currentByKey = new Map(current.map((r) => [ruleKey(r), r]));
  const changes: Change[] = [];

  // Adds, one command per logical rule (ufw writes both families for "any" and skips the
  // existing one). Re-adding a rule that differs only in comment or action updates it in place.
  const adds: Change[] = [];
  const desiredKeys = new Set<string>();
  const desiredMatch = new Set<string>();
  for (const rule of desired.rules) {
    const families = familiesOf(rule.from, ipv6);
    const concrete = families.map((family) => ({ ...rule, family }) as UfwRule);
    for (const c of concrete) {
      desiredKeys.add(ruleKey(c));
      desiredMatch.add(matchKey(c));
    }
    const missing = concrete.filter((c) => !currentByKey.has(ruleKey(c)));
    const stale = concrete.map((c) => currentByKey.get(ruleKey(c))).find((cur) => cur && (cur.comment ?? '') !== (rule.comment ?? ''));
    if (missing.length === 0 && !stale) continue;
    const desc = describeRule(rule, families);
    const family = families.length === 2 ? 'both' : families[0]!;
    adds.push({
      summary: missing.length ? `add rule ${desc}` : `update comment of rule ${desc}`,
      ...(missing.length ? {} : { diff: `- ${describeRule(stale!, families)}\n+ ${desc}\n` }),
      actions: [{ kind: 'exec', script: sh(toUfwArgs({ ...rule, family }, 'add')) }],
    });
    const isSsh = (rule.action === 'allow' || rule.action === 'limit') && rule.direction === 'in' && portCovers(rule.port, sshPort);
    if (isSsh) adds.unshift(adds.pop()!); // the SSH rule goes in first
  }
  changes.push(...adds);

  const defaults = state.installed ? state.defaults : PACKAGE_DEFAULTS;
  for (const direction of ['incoming', 'outgoing', 'routed'] as const) {
    const want = desired.defaults[direction];
    // "disabled" routing is a kernel forwarding setting, not a ufw policy: leave it alone.
    if (want === 'disabled' || defaults[direction] === want) continue;
    changes.push({
      summary: `default ${direction} policy ${defaults[direction]} -> ${want}`,
      actions: [{ kind: 'exec', script: sh(['ufw', 'default', want, direction]) }],
    });
  }

  if (desired.logging && state.installed && state.logging !== desired.logging) {
    changes.push({
      summary: `logging ${state.logging} -> ${desired.logging}`,
      actions: [{ kind: 'exec', script: sh(['ufw', 'logging', desired.logging]) }],
    });
  } else if (desired.logging && !state.installed) {
    changes.push({
      summary: `logging -> ${desired.logging}`,
      actions: [{ kind: 'exec', script: sh(['ufw', 'logging', desired.logging]) }],
    });
  }

  // Deletes of undeclared rules; a v4+v6 pair is one change. A rule that a declared one
  // replaces in place (same match, other action) is not deleted separately.
  const undeclared = new Map<string, UfwRule[]>();
  for (const rule of current) {
    if (desiredKeys.has(ruleKey(rule)) || desiredMatch.has(matchKey(rule))) continue;
    // A fail2ban ban (its ufw action comments "by Fail2Ban after N attempts against JAIL") is
    // fail2ban's live state, not drift: deleting it would unban an attacker.
    if (isFail2banBan(rule)) continue;
    undeclared.set(logicalKey(rule), [...(undeclared.get(logicalKey(rule)) ?? []), rule]);
  }
  for (const group of undeclared.values()) {
    const first = group[0]!;
    const families = group.map((r) => r.family);
    const bothAny = group.length === 2 && first.from === 'any' && first.to === 'any';
    const specs = bothAny ? [{ ...first, family: 'both' as const }] : group;
    const desc = describeRule(first, families);
    changes.push({
      summary: `delete undeclared rule ${desc}`,
      actions: specs.map((spec) => ({ kind: 'exec' as const, script: sh(toUfwArgs(spec, 'delete')) })),
    });
  }

  if (!state.installed || !state.active) {
    changes.push({ summary: 'enable ufw', actions: [{ kind: 'exec', script: 'ufw --force enable' }] });
  }
  return changes;
}

/** UFW as declared: rules, policies, logging, enabled; guarded against locking out SSH. */
export class UfwFirewall extends BaseResource<DesiredFirewall> {
  protected readonly kind = 'ufw firewall';
  private get desired(): DesiredFirewall {
    return this.spec;
  }

  facts() {
    return [ufwStateFact, sshSessionFact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const session = facts.get(sshSessionFact);
    return planFirewall(this.desired, facts.get(ufwStateFact), sessionSshPort(session, ctx.host.port));
  }

  guard(changes: readonly Change[], facts: FactSet, ctx: PlanContext): void {
    if (changes.length === 0) return;
    const session = facts.get(sshSessionFact);
    const port = sessionSshPort(session, ctx.host.port);
    const client = session.client?.address;
    if (!allowsSsh(this.desired, port, client)) {
      throw new RefusedError(
        ctx.host.name,
        this.id,
        `the declared firewall would lock out SSH: default incoming is "${this.desired.defaults.incoming}" and no rule allows ` +
          `${port}/tcp${client ? ` from ${client}` : ''} (the port this session uses). Add "${port}/tcp" to firewall.rules. Nothing was changed.`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The dead-man switch of a firewall apply (see src/engine/safeguard.ts): ufw's files are
// snapshotted before the first firewall change and restored by the host itself unless a fresh
// SSH connection confirms the apply within the timeout.
// ---------------------------------------------------------------------------------------------

/** Every file ufw builds its rules from. */
export const UFW_FILES = [
  '/etc/default/ufw',
  '/etc/ufw/ufw.conf',
  '/etc/ufw/user.rules',
  '/etc/ufw/user6.rules',
  '/etc/ufw/before.rules',
  '/etc/ufw/before6.rules',
  '/etc/ufw/after.rules',
  '/etc/ufw/after6.rules',
] as const;

/** Saved at arm time: was ufw loaded? The rollback puts it back in the same state. */
export const UFW_STATE_COMMAND = "if LC_ALL=C ufw status 2>/dev/null | grep -q '^Status: active'; then echo active; else echo inactive; fi";

/**
 * Run by the rollback after the files are back. ufw rebuilds every chain it owns from them; the
 * DOCKER-USER chain is not ufw's: when the restored after.rules has no hostkit block, the chain
 * is reset to Docker's default too.
 */
export const UFW_RESTORE_COMMAND = [
  'if [ "$state" = active ]; then',
  "  if LC_ALL=C ufw status | grep -q '^Status: active'; then ufw reload; else ufw --force enable; fi",
  'else',
  '  ufw --force disable',
  'fi',
  'if ! grep -q "^# BEGIN hostkit docker-user" /etc/ufw/after.rules 2>/dev/null; then',
  '  for t in iptables ip6tables; do',
  '    if $t -S DOCKER-USER >/dev/null 2>&1; then $t -F DOCKER-USER; $t -A DOCKER-USER -j RETURN; fi',
  '  done',
  'fi',
].join('\n');

/** The environment variable of the dead-man test hook. Exists ONLY for tests; never set it on a real run. */
export const SABOTAGE_ENV = 'HOSTKIT_TEST_FIREWALL_SABOTAGE';

/**
 * TEST-ONLY hook (HOSTKIT_TEST_FIREWALL_SABOTAGE=1): after the lockout guard has approved the
 * plan, insert a rule that drops new connections to the session's SSH port, as a buggy rule set
 * would. The running session survives (ufw accepts established connections first); a fresh one
 * does not, so the dead-man switch must roll the host back. Used by
 * test/integration/firewall-docker.test.ts; the firewall role adds it only when the variable is set.
 */
export class SshSabotageForTests extends BaseResource<Record<string, never>> {
  protected readonly kind = 'TEST-ONLY ssh sabotage';
  facts() {
    return [sshSessionFact];
  }
  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const port = sessionSshPort(facts.get(sshSessionFact), ctx.host.port);
    // A source-port range makes it a rule of its own: ufw skips a plain "deny 22/tcp" next to
    // "allow 22/tcp" as an existing rule.
    return [
      {
        summary: `TEST ONLY (${SABOTAGE_ENV}=1): drop new connections to the SSH port ${port}/tcp despite the guard`,
        actions: [
          {
            kind: 'exec',
            script: sh(['ufw', 'insert', '1', 'deny', 'proto', 'tcp', 'from', 'any', 'port', '1:65535', 'to', 'any', 'port', String(port)]),
          },
        ],
      },
    ];
  }
}
