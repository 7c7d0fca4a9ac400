// The host lock's shell scripts, run for real (flock, /proc/locks) through the local transport
// on a lock file in a temp dir; and the cli's signal handling (first interrupt, second, debounce).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { acquireHostLock, currentHolder, lockHolderOf, type LockHolder } from '../../src/engine/lock.js';
import { interruptOnSignals } from '../../src/cli/signals.js';
import { LocalTransport } from '../../src/transports/local.js';

const dir = mkdtempSync(join(tmpdir(), 'hostkit-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const t = new LocalTransport({ name: 'here', become: false });
const who = (pid: number): LockHolder => ({
  control: 'laptop',
  user: 'alice',
  pid,
  command: 'roles/base.mjs -i inv.yaml',
  since: '2026-12-01T14:00:00Z',
});

describe('host lock (real flock)', () => {
  it('one holder at a time: the second is refused at once naming the first; check/dry-run see it without locking', async () => {
    const file = join(dir, 'a.lock');
    const first = await acquireHostLock(t, who(1), file);
    const t0 = Date.now();
    await expect(acquireHostLock(t, who(2), file)).rejects.toThrow(
      `here: host lock: refused: another hostkit run holds ${file}: alice@laptop (pid 1, since 2026-12-01T14:00:00Z): roles/base.mjs -i inv.yaml`,
    );
    expect(Date.now() - t0).toBeLessThan(3_000); // at once, not a wait
    expect(await lockHolderOf(t, file)).toBe('alice@laptop (pid 1, since 2026-12-01T14:00:00Z): roles/base.mjs -i inv.yaml');
    await first.release();
    expect(await lockHolderOf(t, file)).toBeUndefined(); // the file stays, the lock does not
    expect(readFileSync(file, 'utf8')).toContain('pid=1');
    const again = await acquireHostLock(t, who(3), file);
    await again.release();
  });

  it('no stale lock after kill -9 of the holding process', async () => {
    const file = join(dir, 'b.lock');
    const code = `
      const { LocalTransport } = await import(${JSON.stringify(join(import.meta.dirname, '../../dist/transports/local.js'))});
      const { acquireHostLock } = await import(${JSON.stringify(join(import.meta.dirname, '../../dist/engine/lock.js'))});
      await acquireHostLock(new LocalTransport({ name: 'here', become: false }), { control: 'c', user: 'u', pid: process.pid, command: 'x', since: 's' }, ${JSON.stringify(file)});
      console.log('held');
      setInterval(() => {}, 1000);`;
    const child = execa('node', ['--input-type=module', '-e', code], { reject: false });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    expect(await lockHolderOf(t, file)).toMatch(/^u@c \(pid \d+/);
    child.kill('SIGKILL');
    await child;
    // The holder's `cat` reads EOF when its parent dies; the kernel drops the flock with it.
    let holder: string | undefined = 'held';
    for (let i = 0; i < 50 && holder; i++) {
      holder = await lockHolderOf(t, file);
      if (holder) await new Promise((r) => setTimeout(r, 100));
    }
    expect(holder).toBeUndefined();
    const next = await acquireHostLock(t, who(9), file);
    await next.release();
  });

  it('currentHolder names the script and its arguments, this machine, user and pid', () => {
    const h = currentHolder(['/usr/bin/node', '/repo/node_modules/zx/build/cli.js', '/repo/roles/stacks.mjs', '-i', 'inv.yaml']);
    expect(h).toMatchObject({ pid: process.pid, command: 'roles/stacks.mjs -i inv.yaml' });
    expect(h.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('signals (src/cli/signals.ts)', () => {
  it('first SIGINT aborts the signal and says what runs; a second within the debounce is the same keypress; a later one exits 130', async () => {
    const events: RunEvent[] = [];
    const exits: number[] = [];
    const err: string[] = [];
    const i = interruptOnSignals(
      { on: (e) => events.push(e) },
      { debounceMs: 200, exit: (c) => exits.push(c), stderr: { write: (s: string) => err.push(s) } as unknown as NodeJS.WritableStream },
    );
    try {
      i.reporter.on({ type: 'resource-started', host: 'web1', role: 'stacks', id: 'stack app', step: 'compose up --wait' });
      process.emit('SIGINT');
      expect(i.signal.aborted).toBe(true);
      expect(events.at(-1)).toEqual({
        type: 'interrupt',
        signal: 'SIGINT',
        running: [{ host: 'web1', role: 'stacks', id: 'stack app', step: 'compose up --wait' }],
        graceSeconds: 120,
      });
      process.emit('SIGINT'); // npx forwarding the same Ctrl-C
      expect(exits).toEqual([]);
      await new Promise((r) => setTimeout(r, 250));
      process.emit('SIGINT');
      expect(exits).toEqual([130]);
      expect(err.join('')).toContain('second SIGINT: aborting at once (exit 130); was running: web1 stacks: stack app: compose up --wait');
    } finally {
      i.dispose();
    }
  });

  it('SIGTERM is a first interrupt too; after dispose the handlers are gone', () => {
    const i = interruptOnSignals({ on: () => undefined }, { exit: () => undefined });
    const before = process.listenerCount('SIGTERM');
    process.emit('SIGTERM');
    expect(i.signal.aborted).toBe(true);
    i.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before - 1);
  });
});
