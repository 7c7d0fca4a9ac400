// The inventory schema composed per run (src/inventory/slices.ts): a run validates the sections its
// roles read, with the same positioned errors as the whole schema, and leaves the others as written.
import { describe, expect, it } from 'vitest';
import { formatProblem, InventoryError, parseInventory } from '../../src/inventory/index.js';
import { parseInventoryWith } from '../../src/inventory/parse.js';
import { inventorySchema } from '../../src/inventory/schema.js';
import { inventorySchemaFor } from '../../src/inventory/slices.js';
import { ROLES } from '../../src/roles/index.js';

const HOSTS = 'all:\n  hosts:\n    web1: { address: 10.0.0.1 }\n';
// A firewall section with a typo, and a stacks section that is not even an object.
const TEXT = `${HOSTS}firewall:\n  rules:\n    - { port: 22, proto: tcp, to: any }\nstacks: 42\n`;

async function problems(roles: Parameters<typeof inventorySchemaFor>[0], text = TEXT): Promise<string[]> {
  const composed = await inventorySchemaFor(roles);
  try {
    parseInventoryWith([{ file: 'inv.yaml', text }], [], composed);
  } catch (err) {
    if (err instanceof InventoryError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

const shapeKeys = (schema: unknown) => Object.keys((schema as { shape: object }).shape);

describe('the inventory schema per run', () => {
  it('without roles, or with every role, has the whole schema: the same keys in the same order', async () => {
    expect(shapeKeys((await inventorySchemaFor()).schema)).toEqual(shapeKeys(inventorySchema));
    expect(shapeKeys((await inventorySchemaFor(ROLES)).schema)).toEqual(shapeKeys(inventorySchema));
  });

  it('reports the same problems as the whole schema when every role runs', async () => {
    const whole = (() => {
      try {
        parseInventory(TEXT, 'inv.yaml');
      } catch (err) {
        return (err as InventoryError).problems.map(formatProblem);
      }
      return [];
    })();
    expect(whole).toHaveLength(2);
    expect(await problems(undefined)).toEqual(whole);
    expect(await problems(ROLES)).toEqual(whole);
  });

  it('a firewall run checks the firewall section (positioned) and leaves the stacks section alone', async () => {
    expect(await problems([{ name: 'firewall' }])).toEqual([
      'inv.yaml:6:31: firewall.rules[0].to: unknown key "to"; allowed keys: port, proto, action, from, comment',
    ]);
    // A stacks run checks the platform's sections and leaves the firewall's alone.
    const stacks = await problems([{ name: 'stacks' }]);
    expect(stacks).toHaveLength(1);
    expect(stacks[0]).toMatch(/^inv\.yaml:7:9: stacks: /);
  });

  it('still refuses a key that is no section, and still checks the hosts', async () => {
    expect(await problems([{ name: 'firewall' }], `${HOSTS}firewal: {}\n`)).toEqual([
      expect.stringMatching(
        /^inv\.yaml:4:1: firewal: unknown key "firewal" \(did you mean "firewall"\?\); allowed keys: all, firewall, data, /,
      ),
    ]);
    expect(await problems([{ name: 'firewall' }], 'all:\n  hosts:\n    web1: { adress: 10.0.0.1 }\n')).toEqual([
      expect.stringMatching(/^inv\.yaml:3:13: all\.hosts\.web1\.adress: unknown key "adress"/),
    ]);
  });

  it('a user role (its own schema) needs no built-in slice; an unknown built-in name gets them all', async () => {
    const user = await inventorySchemaFor([{ name: 'motd', schema: inventorySchema }]);
    expect(user.checks).toEqual([]);
    expect(await problems([{ name: 'motd', schema: inventorySchema }])).toEqual([]);
    expect(await problems([{ name: 'no-such-role' }])).toHaveLength(2);
  });
});
