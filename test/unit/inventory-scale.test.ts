import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/index.js';

const inventory = (n: number) => {
  const lines = ['all:', '  hosts:'];
  for (let i = 0; i < n; i++) lines.push(`    h${i}: { address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  return `${lines.join('\n')}\n`;
};

function loadMs(n: number): number {
  const text = inventory(n);
  const t0 = performance.now();
  expect(parseInventory(text, 'big.yaml').hosts).toHaveLength(n);
  return performance.now() - t0;
}

describe('inventory load time is linear in the number of hosts', () => {
  it('16 times the hosts take well under 16 squared times as long (yaml uniqueKeys was quadratic)', { timeout: 120_000 }, () => {
    loadMs(500); // warm-up
    const small = Math.min(loadMs(2000), loadMs(2000));
    const large = loadMs(32_000);
    // Linear: ~16x. The quadratic duplicate-key check made it ~40x here and 200,000 hosts take minutes.
    expect(large / small).toBeLessThan(30);
  });

  it('still reports a repeated host, with the first occurrence', () => {
    expect(() => parseInventory('all:\n  hosts:\n    a: {}\n    b: {}\n    a: {}\n', 'inv.yaml')).toThrow(
      /inv\.yaml:5:5: all\.hosts\.a: duplicate key "a" \(first given at line 3, column 5\)/,
    );
  });
});
