import type { HostConfig } from '../inventory/types.js';
import { LocalTransport } from './local.js';
import { SshTransport, type SshOptions } from './ssh.js';
import type { Transport } from './types.js';

export interface ConnectOptions {
  /** Run on this machine instead of over ssh (also when the host says `connection: local`). */
  local?: boolean;
  ssh?: SshOptions;
  commandTimeoutMs?: number;
}

/**
 * The transport for one host. Call it once per host per run and share the result: an SSH
 * transport is one connection that multiplexes every command.
 */
export async function connect(host: HostConfig, opts: ConnectOptions = {}): Promise<Transport> {
  const timeout = opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {};
  if (opts.local || host.connection === 'local') return new LocalTransport(host, timeout);
  return SshTransport.connect(host, { ...timeout, ...opts.ssh });
}
