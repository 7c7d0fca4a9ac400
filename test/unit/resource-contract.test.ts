import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handler, handlersOf } from '../../src/engine/resource.js';
import { runRole } from '../../src/engine/run-role.js';
import type { Resource, Role } from '../../src/engine/types.js';
import type { HostConfig, Inventory } from '../../src/inventory/types.js';
import { AptPackages } from '../../src/resources/apt-packages.js';
import { Command } from '../../src/resources/command.js';
import { Directory } from '../../src/resources/directory.js';
import { ManagedFile } from '../../src/resources/file.js';
import { Service } from '../../src/resources/service.js';
import { LocalTransport } from '../../src/transports/local.js';

const dirSpec = { path: '/srv/a', owner: 'root', group: 'root', mode: '0755' };

describe('the resource contract', () => {
  it('derives ids from kind and identity, requires and notify from the objects given', () => {
    const pkg = new AptPackages({ names: ['ufw'] });
    const restart = handler('restart x', [{ kind: 'exec', script: 'true' }]);
    const dir = new Directory(dirSpec, { requires: [pkg], notify: [restart] });
    expect([pkg.id, new AptPackages({ names: ['a', 'b'] }).id, new AptPackages({ names: ['a'], label: '' }).id]).toEqual([
      'package ufw',
      'packages a b',
      'packages',
    ]);
    expect(dir.id).toBe('directory /srv/a');
    expect(dir.requires).toEqual(['package ufw']);
    expect(dir.notify).toEqual(['restart x']);
    expect(new Service({ unit: 'ssh', enabled: true, active: true }).id).toBe('service ssh');
  });

  it('collects handlers from the resources: each once, in declaration order; one id, one handler', () => {
    const a = handler('a', [{ kind: 'exec', script: 'echo a' }]);
    const b = handler('b', [{ kind: 'exec', script: 'echo b' }]);
    const f = (path: string, notify: (typeof a)[]) =>
      new ManagedFile({ path, content: '', owner: 'root', group: 'root', mode: '0644' }, { notify });
    expect(handlersOf([f('/1', [b]), f('/2', [a, b]), f('/3', [a])]).map((h) => h.id)).toEqual(['b', 'a']);
    expect(() => handlersOf([f('/1', [a]), f('/2', [handler('a', [{ kind: 'exec', script: 'echo other' }])])])).toThrow(
      /two different handlers are named "a"/,
    );
  });

  it('refuses a command without a guard', () => {
    expect(() => new Command({ command: 'make install' })).toThrow(/give it a guard/);
  });
});

describe('runRole runs every kind through the same steps', () => {
  const host = { name: 'h', become: false, port: 22 } as HostConfig;
  const inventory = {} as Inventory;
  const transport = new LocalTransport({ name: 'h', become: false });

  function role(dir: string, extra: Resource[] = []): Role {
    const log = join(dir, 'log');
    const marker = join(dir, 'marker');
    const note = handler('note', [{ kind: 'exec', script: `echo handler >> ${log}` }]);
    const make = new Command({ command: `touch ${marker}; echo make >> ${log}`, creates: marker, name: 'make' }, { notify: [note] });
    // Its guard fails before `make` ran and succeeds after: re-probed, it does nothing.
    const check = new Command(
      { command: `echo check >> ${log}`, unless: `test -f ${marker}`, name: 'check' },
      { requires: [make], notify: [note] },
    );
    return { name: 'r', description: '', build: () => ({ resources: [make, check, ...extra] }) };
  }

  it('check: drift with "after", the handler would run; apply: re-probed after the prerequisite, handler once; again: 0 changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostkit-contract-'));
    writeFileSync(join(dir, 'log'), '');
    const check = await runRole(transport, role(dir), inventory, host, { mode: 'check' });
    expect(check.resources.map((r) => [r.id, r.status, r.changes[0]?.after])).toEqual([
      ['command make', 'would-change', undefined],
      ['command check', 'would-change', ['command make']],
    ]);
    expect(check.handlers).toEqual([{ id: 'note', status: 'would-run' }]);
    expect(existsSync(join(dir, 'marker'))).toBe(false);

    const apply = await runRole(transport, role(dir), inventory, host, { mode: 'apply' });
    expect(apply.error).toBeUndefined();
    expect(apply.resources.map((r) => [r.id, r.status])).toEqual([
      ['command make', 'changed'],
      ['command check', 'ok'],
    ]);
    expect(apply.handlers).toEqual([{ id: 'note', status: 'ran' }]);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('make\nhandler\n');

    const again = await runRole(transport, role(dir), inventory, host, { mode: 'apply' });
    expect(again.resources.every((r) => r.status === 'ok')).toBe(true);
    expect(again.handlers).toEqual([]);
  });

  it('a prerequisite that is not declared earlier in the role is an error, before any probe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostkit-contract-'));
    const elsewhere = new Directory(dirSpec);
    const r = await runRole(
      transport,
      role(dir, [new Directory({ ...dirSpec, path: '/srv/b' }, { requires: [elsewhere] })]),
      inventory,
      host,
      {
        mode: 'check',
      },
    );
    expect(r.error).toMatch(/^h: r: directory \/srv\/b requires directory \/srv\/a, not declared before it in the role/);
    expect(r.resources).toEqual([]);
    const twice = await runRole(transport, role(dir, [new Directory(dirSpec), new Directory(dirSpec)]), inventory, host, { mode: 'check' });
    expect(twice.error).toBe('h: r: two resources are named "directory /srv/a"');
  });
});
