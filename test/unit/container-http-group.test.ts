// The container.http facts of a batch are ONE probe (src/facts/container-http.ts): its recorded
// outputs (test/fixtures/container-http/record.mjs) split into what each fact's own probe printed,
// and an output cut short or garbled is refused rather than read.
import { describe, expect, it } from 'vitest';
import { probesOf } from '../../src/engine/gather.js';
import type { ProbeOutput } from '../../src/engine/types.js';
import { containerHttpFact, type HttpMember, splitContainerHttp } from '../../src/facts/container-http.js';
import { factOutput, readFactFixture } from '../fixtures/facts/fixture.mjs';

type Args = [string, number, string, string];
const members = (kase: string): HttpMember[] =>
  (readFactFixture('host.container-http', kase).args[0] as Args[]).map((a) => containerHttpFact(...a).group!.member as HttpMember);
const split = (kase: string, out: ProbeOutput = factOutput('host.container-http', kase)) => splitContainerHttp(out, members(kase));
const single = (kase: string) => factOutput('container.http', kase).stdout;

describe('the container.http group', () => {
  it('gives each member of the mixed group the bytes its own probe printed: installer, installed, refused, stopped, absent', () => {
    expect(split('mixed').map((o) => o.stdout)).toEqual(['installer', 'installed', 'refused', 'stopped', 'no-container'].map(single));
    expect(split('mixed').map((o) => o.exitCode)).toEqual([0, 0, 0, 0, 0]);
  });

  it("a member still running when the group's 5 s were over says `failed 124`, as its own timeout; the others are kept", () => {
    expect(split('timed-out').map((o) => o.stdout)).toEqual(['timed-out', 'installer', 'refused'].map(single));
  });

  it('without docker, or with the daemon stopped, every member says so (the single probes too)', () => {
    expect(split('no-docker').map((o) => o.stdout)).toEqual([single('no-docker'), single('no-docker')]);
    expect(split('dockerd-stopped').map((o) => o.stdout)).toEqual([single('dockerd-stopped'), single('stopped')]);
  });

  it('is ONE curl, ONE sed, ONE timeout and ONE bash, whatever the members; a name the URL cannot carry goes to the CLI', () => {
    const facts = (readFactFixture('host.container-http', 'cli').args[0] as Args[]).map((a) => containerHttpFact(...a));
    const [probe, ...more] = probesOf(facts);
    expect(more).toEqual([]);
    const count = (s: string) => probe!.command.split(s).length - 1;
    expect([count('| curl '), count('| sed '), count('timeout 5 '), count(' bash -c '), count('$(printf')]).toEqual([1, 1, 1, 1, 0]);
    expect(probe!.command).toContain("ids='seller1-prod-web seller2-prod-web absent-web'");
    expect(probe!.command).toContain('__insp not/plain; ip3=$ip');
  });

  it('a group of one is the fact alone, with its own command', () => {
    const f = containerHttpFact('web', 80, '/', 'x');
    expect(probesOf([f]).map((p) => p.command)).toEqual([f.command]);
  });

  it('refuses an output cut anywhere, even with its end line put back', () => {
    const out = factOutput('host.container-http', 'mixed');
    const end = '@@hostkit-http end@@\n';
    for (let k = 0; k < out.stdout.length; k++) {
      const cut = out.stdout.slice(0, k);
      expect(() => split('mixed', { ...out, stdout: cut }), `cut at ${k}`).toThrow();
      if (k < out.stdout.length - end.length)
        expect(() => split('mixed', { ...out, stdout: cut + end }), `cut at ${k}, end put back`).toThrow();
    }
    expect(() => split('mixed', { ...out, exitCode: 1 })).toThrow(/cut short \(exit 1\)/);
  });

  it('refuses a garbled output: a frame inside an answer, a member missing or extra, answers in the wrong order', () => {
    const out = factOutput('host.container-http', 'mixed');
    const garbled = (from: string, to: string) => {
      expect(out.stdout).toContain(from);
      return () => split('mixed', { ...out, stdout: out.stdout.replace(from, to) });
    };
    // A container answering with a header that looks like a member's end.
    expect(garbled('X-Generator: Drupal 10\n', 'X-Generator: Drupal 10\n\n@@hostkit-http 1 rc 0@@\n')).toThrow(/holds a frame|more than/);
    expect(garbled('@@hostkit-http 4 no-container@@\n', '')).toThrow(/not its own/);
    expect(garbled('@@hostkit-http end@@\n', 'extra\n@@hostkit-http end@@\n')).toThrow(/more than its members/);
    expect(garbled('@@hostkit-http 0 address', '@@hostkit-http 1 address')).toThrow(/member 0/);
    const [first, second] = ['\n@@hostkit-http 0 rc 0@@\n', '\n@@hostkit-http 1 rc 0@@\n'];
    expect(garbled(first, second)).toThrow(/member/);
    expect(() => splitContainerHttp(out, members('mixed').slice(0, 4))).toThrow();
  });
});
