import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { runRole, useTargets, type Report } from './harness.js';

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * One good host and one broken in a single inventory: the broken one gets one clear error that
 * names it; the good one still completes. Each case breaks the second host in a different way.
 */
describe('connection failures are clear and stay per host', () => {
  const sb = useTargets({ count: 2 });
  const good = () => sb.targets[0]!;
  const bad = () => sb.targets[1]!;

  async function inventoryWith(hostVars: Record<string, unknown>, knownHosts?: string): Promise<string> {
    const doc = parse(await readFile(sb.inventory, 'utf8')) as {
      all: { vars: Record<string, unknown>; hosts: Record<string, Record<string, unknown>> };
    };
    Object.assign(doc.all.hosts[bad().name]!, hostVars);
    if (knownHosts) doc.all.vars.known_hosts = knownHosts;
    const path = join(await mkdtemp(join(tmpdir(), 'hostkit-inv-')), 'inventory.yaml');
    await writeFile(path, stringify(doc));
    return path;
  }

  async function expectOneClearError(inventory: string, pattern: RegExp): Promise<void> {
    const run = await runRole('firewall', ['--check', '--json'], { inventory });
    const report = JSON.parse(run.stdout) as Report;
    expect(run.exitCode).toBe(1);
    const goodReport = report.hosts.find((h) => h.host === good().name)!;
    expect(goodReport.error).toBeUndefined();
    expect(goodReport.resources.length).toBeGreaterThan(0);
    const badReport = report.hosts.find((h) => h.host === bad().name)!;
    expect(badReport.error).toContain(bad().name);
    expect(badReport.error).toMatch(pattern);
    // One error line in the human output, not a stack trace.
    const human = await runRole('firewall', ['--check'], { inventory });
    expect(human.stdout + human.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  }

  it('a changed host key is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-kh-'));
    const knownHosts = join(dir, 'known_hosts');
    const lines = (await readFile(good().knownHosts, 'utf8')).split('\n');
    // The bad host's entry now carries the other target's key: a man in the middle, as ssh sees it.
    const forged = lines
      .filter((l) => l.startsWith(`[127.0.0.1]:${good().port} `) || l.startsWith(`[127.0.0.1]:${bad().port} `))
      .map((l) => (l.startsWith(`[127.0.0.1]:${bad().port} `) ? `[127.0.0.1]:${bad().port} ${good().hostKey}` : l));
    await writeFile(knownHosts, forged.join('\n') + '\n');
    await expectOneClearError(await inventoryWith({}, knownHosts), /host.key/i);
  });

  it('an unreachable host', async () => {
    await expectOneClearError(await inventoryWith({ port: await closedPort() }), /ECONNREFUSED/);
  });

  it('a key the server does not accept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-key-'));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    await expectOneClearError(await inventoryWith({ identity_file: join(dir, 'stranger') }), /authentication failed/i);
  });

  it('a wrong user', async () => {
    await expectOneClearError(await inventoryWith({ user: 'nobody-here' }), /authentication failed/i);
  });

  it('sudo that wants a password', async () => {
    await bad().exec('rm -f /etc/sudoers.d/90-cloud-admin');
    await expectOneClearError(await inventoryWith({ user: 'admin', become: true }), /passwordless sudo/);
  });
});
