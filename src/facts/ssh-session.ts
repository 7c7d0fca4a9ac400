import type { Fact } from '../engine/types.js';
import { defineFact } from './define.js';

export interface SshSession {
  /** Ports sshd listens on (from `sshd -T`); empty when sshd is absent. */
  sshdPorts: number[];
  /** The management session as the server sees it, when the run comes over SSH. */
  client?: { address: string; port: number; serverPort: number };
}

/**
 * How the operator reaches the host: the lockout guard protects exactly this path. The
 * transport passes SSH_CONNECTION through sudo as HOSTKIT_SSH_CONNECTION.
 */
export const sshSessionFact: Fact<SshSession> = defineFact(
  'ssh.session',
  [],
  'printf "conn=%s\\n" "${HOSTKIT_SSH_CONNECTION:-${SSH_CONNECTION:-}}"; ' +
    '{ command -v sshd >/dev/null 2>&1 && sshd -T 2>/dev/null || /usr/sbin/sshd -T 2>/dev/null; } | grep -i "^port " || true',
  ({ stdout }) => parseSshSession(stdout),
);

export function parseSshSession(stdout: string): SshSession {
  const session: SshSession = { sshdPorts: [] };
  for (const line of stdout.split('\n')) {
    const conn = /^conn=(\S+) (\d+) (\S+) (\d+)/.exec(line);
    if (conn) session.client = { address: conn[1]!, port: Number(conn[2]), serverPort: Number(conn[4]) };
    const port = /^port (\d+)/i.exec(line);
    if (port) session.sshdPorts.push(Number(port[1]));
  }
  return session;
}
