import { describe, expect, it } from 'vitest';
import { buildRole, prepareRole } from '../../src/engine/role-input.js';
import type { Role } from '../../src/engine/types.js';
import { inventorySchema } from '../../src/inventory/schema.js';
import type { HostConfig, Inventory } from '../../src/inventory/types.js';

const host: HostConfig = {
  name: 'web1',
  address: '10.0.0.1',
  port: 22,
  user: 'root',
  become: false,
  connection: 'ssh',
  protected: false,
  hostKeyChecking: 'strict',
  connectTimeoutMs: 10_000,
  groups: ['all'],
};
const inventory = (doc: object): Inventory => ({ sources: [], hosts: [host], groups: {}, doc: inventorySchema.parse({ all: {}, ...doc }) });

/** A role whose prepare counts its calls and whose build shows what it received. */
function probeRole() {
  const calls = { prepare: 0 };
  const role: Role<{ root: string }, { token: string }> = {
    name: 'probe',
    description: '',
    config: (inv) => inv.doc.data,
    async prepare(config, options) {
      calls.prepare++;
      return { token: `${config.root} ${options.secretsFile ?? '-'}` };
    },
    build: (config, h, prepared) => ({
      resources: [{ id: `${h.name} ${config.root} ${prepared.token}`, facts: () => [], plan: () => [] }],
    }),
  };
  return { role, calls };
}

describe('role inputs: config read once, prepared data kept by the engine, handed to build', () => {
  it('prepare runs once per run; every build receives its result', async () => {
    const { role, calls } = probeRole();
    const inv = inventory({ data: { root: '/srv' } });
    const input = await prepareRole(role, inv, { secretsFile: '/s.yaml' });
    const ids = [host, { ...host, name: 'web2' }].map((h) => buildRole(role, inv, h, input).resources[0]!.id);
    expect(ids).toEqual(['web1 /srv /srv /s.yaml', 'web2 /srv /srv /s.yaml']);
    expect(calls.prepare).toBe(1);
  });

  it('a section the inventory does not declare: no prepare, no resources', async () => {
    const { role, calls } = probeRole();
    const input = await prepareRole(role, inventory({}), {});
    expect(buildRole(role, inventory({}), host, input).resources).toEqual([]);
    expect(buildRole(role, inventory({}), host).resources).toEqual([]);
    expect(calls.prepare).toBe(0);
  });

  it('a role with a prepare cannot be built without its prepared input', () => {
    const { role } = probeRole();
    expect(() => buildRole(role, inventory({ data: { root: '/srv' } }), host)).toThrow('probe role: prepare runs before build');
  });

  it('a role without config reads no inventory and always builds', () => {
    const role: Role = { name: 'plain', description: '', build: () => ({ resources: [] }) };
    expect(buildRole(role, inventory({}), host)).toEqual({ resources: [] });
  });
});
