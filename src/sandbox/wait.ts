import { connect } from 'node:net';
import { docker } from './docker.js';

/**
 * Read the SSH identification line from address:port. A bare TCP connect proves nothing here:
 * Docker's port proxy accepts connections before the container's sshd listens, then drops them.
 */
export function readSshBanner(address: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    const sock = connect({ host: address, port });
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl).trim().startsWith('SSH-2.0') ? buf.slice(0, nl).trim() : undefined);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function containerState(name: string): Promise<string> {
  const r = await docker(['inspect', '--format', '{{.State.Status}}', name]);
  return r.exitCode === 0 ? r.stdout.trim() : 'missing';
}

/** Last lines of the container's console (systemd's boot messages), for error reports. */
export async function logsTail(name: string, lines = 30): Promise<string> {
  const r = await docker(['logs', '--tail', String(lines), name]).catch(() => undefined);
  return r ? `${r.stdout}\n${r.stderr}`.trim() : '(docker logs failed)';
}

/**
 * Wait until the first-boot host keys exist (ssh.service runs `ssh-keygen -A` before sshd) and
 * sshd answers with its banner on the published port. Throws after timeoutMs with the
 * container's state and console tail.
 */
export async function waitForSsh(name: string, address: string, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stage = 'host keys';
  for (;;) {
    if (stage === 'host keys') {
      const r = await docker(['exec', name, 'test', '-s', '/etc/ssh/ssh_host_ed25519_key.pub']);
      if (r.exitCode === 0) stage = 'ssh banner';
    }
    if (stage === 'ssh banner' && (await readSshBanner(address, port))) return;
    if (Date.now() > deadline) {
      const state = await containerState(name);
      throw new Error(
        `sandbox target ${name}: no ${stage} after ${timeoutMs / 1000} s (container ${state}, port ${address}:${port}).\n` +
          `docker logs --tail 30 ${name}:\n${await logsTail(name)}`,
      );
    }
    // A container that died will never answer: fail now rather than at the deadline.
    if (stage === 'host keys' && (await containerState(name)) !== 'running') {
      throw new Error(`sandbox target ${name} is not running.\ndocker logs --tail 30 ${name}:\n${await logsTail(name)}`);
    }
    await sleep(100);
  }
}
