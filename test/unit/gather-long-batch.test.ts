// A probe batch longer than one argument may be (Linux: 128 KiB) runs all the same: it goes to the
// shell on stdin. Real sh, real processes (the local transport), 1,500 probes (~190 KB of script).
import { describe, expect, it } from 'vitest';
import { BATCH_ON_STDIN, batchScript, gatherFacts } from '../../src/engine/gather.js';
import { defineFact } from '../../src/facts/define.js';
import { LocalTransport } from '../../src/transports/local.js';

describe('a long probe batch', () => {
  it('is fed to sh on stdin and every probe answers in its place', async () => {
    const facts = Array.from({ length: 1500 }, (_, i) =>
      defineFact('test.echo', [i], `printf '%s\\n' 'probe ${i} ${'x'.repeat(60)}'; [ ${i % 7} -ne 3 ] || echo 'to stderr' >&2`, (o) => ({
        out: o.stdout.split(' ')[1],
        err: o.stderr.trim(),
      })),
    );
    expect(batchScript(facts, '@@hostkit-000000000000@@').length).toBeGreaterThan(Math.max(BATCH_ON_STDIN, 131072));
    const t = new LocalTransport({ name: 'localhost', become: false });
    const got = await gatherFacts(t, facts);
    expect(t.stats.execs).toBe(1);
    expect(facts.map((f) => got.get(f))).toEqual(facts.map((_f, i) => ({ out: String(i), err: i % 7 === 3 ? 'to stderr' : '' })));
  }, 60_000);
});
