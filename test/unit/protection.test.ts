import { describe, expect, it } from 'vitest';
import { InventoryError, parseInventorySources } from '../../src/inventory/index.js';

const base = 'all:\n  hosts:\n    prod:\n      address: 203.0.113.10\n      protected: true\n    dev:\n      address: 203.0.113.11\n';
const load = (overlay: string) =>
  parseInventorySources([
    { file: 'inventory.yaml', text: base },
    { file: 'overlay.yaml', text: overlay },
  ]);
const problems = (overlay: string) => {
  try {
    load(overlay);
    return [];
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.message.split('\n').slice(1);
  }
};

describe('protection: an overlay can never lower it', () => {
  it('refuses protected: false on the protected host, naming the overlay line and column', () => {
    expect(problems('all:\n  hosts:\n    prod:\n      protected: false\n')).toEqual([
      'overlay.yaml:4:18: all.hosts.prod.protected: an overlay cannot unprotect host "prod" (protected: true since inventory.yaml:5:7); protection is only lowered by editing the file that sets it',
    ]);
  });

  it('refuses protected: null (a deletion) the same way', () => {
    expect(problems('all:\n  hosts:\n    prod:\n      protected: null\n')).toEqual([
      'overlay.yaml:4:7: all.hosts.prod.protected: an overlay cannot unprotect host "prod" (protected: true since inventory.yaml:5:7); protection is only lowered by editing the file that sets it',
    ]);
  });

  it('refuses a deeper group that says false over a group that says true', () => {
    const groupBase =
      'all:\n  children:\n    production:\n      hosts:\n        prod: { address: 203.0.113.10 }\n      vars:\n        protected: true\n';
    const overlay =
      'all:\n  children:\n    production:\n      children:\n        unlocked:\n          hosts:\n            prod:\n          vars:\n            protected: false\n';
    expect(() =>
      parseInventorySources([
        { file: 'inventory.yaml', text: groupBase },
        { file: 'overlay.yaml', text: overlay },
      ]),
    ).toThrow(
      /overlay\.yaml:9:24: all\.children\.production\.children\.unlocked\.vars\.protected: an overlay cannot unprotect host "prod" \(protected: true since inventory\.yaml:7:9\)/,
    );
  });

  it('lets an overlay add protection, change other vars, or protect and list new hosts', () => {
    expect(problems('all:\n  hosts:\n    prod:\n      port: 2222\n    dev:\n      protected: true\n')).toEqual([]);
    const inv = load('all:\n  hosts:\n    prod:\n      protected: true\n    new:\n      address: 127.0.0.1\n      protected: false\n');
    expect(inv.hosts.map((h) => [h.name, h.protected])).toEqual([
      ['prod', true],
      ['dev', false],
      ['new', false],
    ]);
  });
});
