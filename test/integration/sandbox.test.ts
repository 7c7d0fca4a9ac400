import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../src/inventory/schema.js';
import { readSshBanner, RUN_ENV, RUN_LABEL, startTarget } from '../../src/sandbox/index.js';
import { sshTo, useTargets } from './harness.js';

const docker = (...args: string[]) => execa('docker', args, { reject: false });

describe('sandbox targets', () => {
  const sb = useTargets({ count: 2 });

  it('belong to this test run', async () => {
    expect(process.env[RUN_ENV]).toBe(inject('sandboxRunId'));
    const r = await docker('inspect', '--format', `{{index .Config.Labels "${RUN_LABEL}"}}`, sb.target.name);
    expect(r.stdout.trim()).toBe(inject('sandboxRunId'));
  });

  it('accept the management key for root, with the host key pinned (strict checking)', async () => {
    for (const t of sb.targets) {
      const r = await sshTo(t, 'id -un');
      expect(r, r.stderr).toMatchObject({ exitCode: 0, stdout: 'root' });
    }
    const found = await execa('ssh-keygen', ['-F', `[127.0.0.1]:${sb.target.port}`, '-f', sb.target.knownHosts]);
    expect(found.stdout).toContain(sb.target.hostKey);
  });

  it('refuse a server whose key is not in known_hosts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-kh-'));
    try {
      await writeFile(join(dir, 'known_hosts'), '');
      const r = await sshTo(sb.target, 'true', { knownHosts: join(dir, 'known_hosts') });
      expect(r.exitCode).toBe(255);
      expect(r.stderr).toMatch(/Host key verification failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accept the key for admin, who has passwordless sudo', async () => {
    const r = await sshTo(sb.target, 'id -un && sudo -n true && sudo -n id -u', { user: 'admin' });
    expect(r, r.stderr).toMatchObject({ exitCode: 0, stdout: 'admin\n0' });
  });

  it('have distinct hostnames equal to their names', async () => {
    const names = await Promise.all(sb.targets.map(async (t) => (await sshTo(t, 'hostname')).stdout));
    expect(names).toEqual(sb.targets.map((t) => t.name));
    expect(new Set(names).size).toBe(2);
  });

  it('run systemd as PID 1, fully booted with no failed unit', async () => {
    expect((await sshTo(sb.target, 'ps -p 1 -o comm=')).stdout).toBe('systemd');
    const state = (await sshTo(sb.target, 'systemctl is-system-running --wait')).stdout;
    const failed = (await sshTo(sb.target, 'systemctl --failed --no-legend --plain')).stdout;
    expect({ state, failed }).toEqual({ state: 'running', failed: '' });
  });

  it('reach the Debian mirror (apt-get update)', async () => {
    const r = await sshTo(sb.target, 'apt-get update -qq -o Acquire::Retries=3');
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('are listed in a schema-valid inventory', async () => {
    const doc = inventorySchema.parse(parse(await readFile(sb.inventory, 'utf8')));
    expect(doc.all.vars).toMatchObject({ user: 'root', identity_file: sb.target.keyFile, host_key_checking: 'strict' });
    for (const t of sb.targets) expect(doc.all.hosts?.[t.name]).toEqual({ address: '127.0.0.1', port: t.port });
    expect(Object.keys(doc.all.children?.sandbox?.hosts ?? {})).toEqual(sb.targets.map((t) => t.name));
    expect(doc.firewall?.rules).toHaveLength(3);
    expect(doc.data?.directories.map((d) => d.path)).toContain('postgres-shared');
  });

  it('keep SSH working across restart() (same host key, new port recorded)', async () => {
    const t = sb.targets[1]!;
    const before = await t.exec('cat /proc/sys/kernel/random/boot_id; cat /proc/1/stat | cut -d" " -f22');
    await sb.restart(t);
    const r = await sshTo(t, 'hostname; ps -p 1 -o comm=');
    expect(r, r.stderr).toMatchObject({ exitCode: 0, stdout: `${t.name}\nsystemd` });
    // PID 1 was started anew (its start time changed): a real restart, not a no-op.
    expect((await t.exec('cat /proc/1/stat | cut -d" " -f22')).stdout.trim()).not.toBe(before.stdout.split('\n')[1]);
    const doc = inventorySchema.parse(parse(await readFile(sb.inventory, 'utf8')));
    expect(doc.all.hosts?.[t.name]?.port).toBe(t.port);
  });
});

describe('startTarget/remove', () => {
  it('answers SSH within seconds, and remove() deletes the container and its volumes', async () => {
    const t0 = performance.now();
    const t = await startTarget();
    const ready = performance.now() - t0;
    let login = -1;
    try {
      expect(await readSshBanner(t.address, t.port)).toMatch(/^SSH-2\.0-OpenSSH/);
      const r = await sshTo(t, 'true');
      login = performance.now() - t0;
      expect(r.exitCode, r.stderr).toBe(0);
      console.log(`[timing] startTarget ${Math.round(ready)} ms; first OpenSSH login done at ${Math.round(login)} ms`);
      expect(ready).toBeLessThan(30_000);
    } finally {
      const volumes = (
        await docker('inspect', '--format', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', t.name)
      ).stdout
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      expect(volumes).toHaveLength(1); // /var/lib/docker
      await t.remove();
      expect((await docker('inspect', t.name)).exitCode).not.toBe(0);
      for (const v of volumes) expect((await docker('volume', 'inspect', v)).exitCode).not.toBe(0);
      expect(await readFile(t.knownHosts, 'utf8')).not.toContain(t.hostKey);
    }
  });
});
