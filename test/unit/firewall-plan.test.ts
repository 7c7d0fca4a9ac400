import { describe, expect, it } from 'vitest';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { planFirewall, allowsSsh, type DesiredFirewall } from '../../src/resources/ufw-firewall.js';
import { desiredFirewall, normalizeRule } from '../../src/roles/firewall.js';
import { parseUfwProbe, type UfwRule, type UfwState } from '../../src/facts/ufw.js';

const rule = (port: string, proto: UfwRule['proto'], family: UfwRule['family'], extra: Partial<UfwRule> = {}): UfwRule => ({
  action: 'allow',
  direction: 'in',
  proto,
  port,
  from: 'any',
  to: 'any',
  family,
  ...extra,
});
const pair = (port: string, proto: UfwRule['proto'], extra: Partial<UfwRule> = {}) => [
  rule(port, proto, 'v4', extra),
  rule(port, proto, 'v6', extra),
];

const state = (over: Partial<UfwState> = {}): UfwState => ({
  installed: true,
  active: true,
  enabled: true,
  defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
  logging: 'low',
  ipv6: true,
  rules: [],
  ...over,
});

const seed: DesiredFirewall = desiredFirewall({
  defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
  rules: [{ port: 22, proto: 'tcp', action: 'allow', from: 'any', comment: 'ssh' }, '80/tcp', '443/tcp'],
});
const converged = () => state({ rules: [...pair('22', 'tcp', { comment: 'ssh' }), ...pair('80', 'tcp'), ...pair('443', 'tcp')] });
const scripts = (changes: ReturnType<typeof planFirewall>) =>
  changes.flatMap((c) => c.actions.map((a) => (a.kind === 'exec' ? a.script : a.path)));

describe('firewall planner (facts in, changes out)', () => {
  it('plans nothing when the host matches', () => {
    expect(planFirewall(seed, converged(), 22)).toEqual([]);
  });

  it('on a host without ufw: SSH rule first, then the others, enable last', () => {
    const changes = planFirewall(seed, state({ installed: false, active: false, enabled: false }), 22);
    expect(scripts(changes)).toEqual([
      'ufw allow proto tcp from any to any port 22 comment ssh',
      'ufw allow proto tcp from any to any port 80',
      'ufw allow proto tcp from any to any port 443',
      'ufw --force enable',
    ]);
  });

  it('SSH goes first even when declared last', () => {
    const desired = desiredFirewall({ defaults: seed.defaults, rules: ['80/tcp', '2222/tcp'] });
    const changes = planFirewall(desired, state({ active: false }), 2222);
    expect(scripts(changes)[0]).toContain('port 2222');
    expect(scripts(changes).at(-1)).toBe('ufw --force enable');
  });

  it('deletes an undeclared v4+v6 pair with one command, naming the drift', () => {
    const current = converged();
    current.rules.push(...pair('8080', 'any'));
    const changes = planFirewall(seed, current, 22);
    expect(changes.map((c) => c.summary)).toEqual(['delete undeclared rule allow 8080 (v4+v6)']);
    expect(scripts(changes)).toEqual(['ufw --force delete allow from any to any port 8080']);
  });

  it('deletes a single-family leftover with its own wildcard', () => {
    const current = converged();
    current.rules.push(rule('8080', 'tcp', 'v6'));
    expect(scripts(planFirewall(seed, current, 22))).toEqual(['ufw --force delete allow proto tcp from ::/0 to ::/0 port 8080']);
  });

  it('re-adds a rule deleted by hand', () => {
    const current = converged();
    current.rules = current.rules.filter((r) => r.port !== '80');
    const changes = planFirewall(seed, current, 22);
    expect(changes.map((c) => c.summary)).toEqual(['add rule allow 80/tcp (v4+v6)']);
  });

  it('adds the missing family only through the same idempotent command', () => {
    const current = converged();
    current.rules = current.rules.filter((r) => !(r.port === '443' && r.family === 'v6'));
    expect(scripts(planFirewall(seed, current, 22))).toEqual(['ufw allow proto tcp from any to any port 443']);
  });

  it('updates a changed comment in place instead of deleting the rule', () => {
    const current = converged();
    current.rules = current.rules.map((r) => (r.port === '22' ? { ...r, comment: 'old' } : r));
    const changes = planFirewall(seed, current, 22);
    expect(changes.map((c) => c.summary)).toEqual(['update comment of rule allow 22/tcp (v4+v6) # ssh']);
    expect(scripts(changes)).toEqual(['ufw allow proto tcp from any to any port 22 comment ssh']);
  });

  it('replaces a rule whose action differs without a separate delete', () => {
    const current = converged();
    current.rules = current.rules.map((r) => (r.port === '80' ? { ...r, action: 'deny' as const } : r));
    const changes = planFirewall(seed, current, 22);
    expect(scripts(changes)).toEqual(['ufw allow proto tcp from any to any port 80']);
  });

  it('leaves fail2ban bans alone: they are its live state, not drift', () => {
    const current = converged();
    current.rules.unshift(
      rule('any', 'any', 'v4', { action: 'reject', from: '198.51.100.9', comment: 'by Fail2Ban after 5 attempts against sshd' }),
    );
    expect(planFirewall(seed, current, 22)).toEqual([]);
  });

  it('changes only the policies that differ', () => {
    const current = converged();
    current.defaults = { incoming: 'allow', outgoing: 'allow', routed: 'disabled' };
    expect(scripts(planFirewall(seed, current, 22))).toEqual(['ufw default deny incoming']);
  });

  it('enables an inactive firewall whose rules are in place', () => {
    expect(scripts(planFirewall(seed, { ...converged(), active: false }, 22))).toEqual(['ufw --force enable']);
  });

  it('source-restricted and limit rules keep their family', () => {
    const desired = desiredFirewall({
      defaults: seed.defaults,
      rules: [
        { port: 22, proto: 'tcp', action: 'limit', from: 'any' },
        { port: 5432, proto: 'tcp', action: 'allow', from: '10.0.0.0/8' },
      ],
    });
    const changes = planFirewall(desired, state(), 22);
    expect(scripts(changes)).toEqual([
      'ufw limit proto tcp from any to any port 22',
      'ufw allow proto tcp from 10.0.0.0/8 to 0.0.0.0/0 port 5432',
    ]);
  });
});

describe('lockout guard', () => {
  it('accepts rules that keep the SSH port open', () => {
    expect(allowsSsh(seed, 22, '203.0.113.9')).toBe(true);
    expect(allowsSsh(desiredFirewall({ defaults: seed.defaults, rules: ['20:30/tcp'] }), 22)).toBe(true);
  });
  it('refuses default deny without an SSH rule', () => {
    expect(allowsSsh(desiredFirewall({ defaults: seed.defaults, rules: ['80/tcp', '22/udp'] }), 22)).toBe(false);
  });
  it('checks a source restriction against the session address', () => {
    const d = desiredFirewall({ defaults: seed.defaults, rules: [{ port: 22, proto: 'tcp', action: 'allow', from: '10.1.0.0/16' }] });
    expect(allowsSsh(d, 22, '10.1.2.3')).toBe(true);
    expect(allowsSsh(d, 22, '10.2.0.1')).toBe(false);
  });
  it('allows anything when incoming is allowed', () => {
    expect(allowsSsh(desiredFirewall({ defaults: { ...seed.defaults, incoming: 'allow' }, rules: [] }), 22)).toBe(true);
  });
});

describe('rule normalization', () => {
  it('reads the short forms', () => {
    expect(normalizeRule('22/tcp')).toMatchObject({ port: '22', proto: 'tcp', action: 'allow', from: 'any' });
    expect(normalizeRule('80')).toMatchObject({ port: '80', proto: 'any' });
    expect(normalizeRule('6000:6007/udp')).toMatchObject({ port: '6000:6007', proto: 'udp' });
  });
});

describe('firewall planner on recorded ufw probes', () => {
  const probe = (name: string) => parseUfwProbe({ stdout: factOutput('ufw.state', name).stdout, stderr: '', exitCode: 0 });
  const web = desiredFirewall({
    defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
    rules: ['22/tcp', '80/tcp', '443/tcp'],
  });

  it('a recorded converged host plans nothing', () => {
    expect(planFirewall(web, probe('active-web'), 22)).toEqual([]);
  });

  it('a fresh install plans the rules and the enable, no policy command', () => {
    const summaries = planFirewall(web, probe('inactive-empty'), 22).map((c) => c.summary);
    expect(summaries).toEqual([
      'add rule allow 22/tcp (v4+v6)',
      'add rule allow 80/tcp (v4+v6)',
      'add rule allow 443/tcp (v4+v6)',
      'enable ufw',
    ]);
  });

  it('a host without ufw plans the same as a fresh install', () => {
    const summaries = planFirewall(web, probe('not-installed'), 22).map((c) => c.summary);
    expect(summaries.at(-1)).toBe('enable ufw');
    expect(summaries).toHaveLength(4);
  });

  it('enabled in ufw.conf but not loaded is still "enable ufw"', () => {
    expect(planFirewall(web, probe('enabled-not-loaded'), 22).map((c) => c.summary)).toContain('enable ufw');
  });
});
