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
 * The connection options a user gives on the command line. Every script (provision, audit,
 * backup, recover, the role scripts) opens its transports through `openTransport` with these,
 * so a flag cannot be honoured by one script and ignored by another.
 */
export interface ConnectionOptions {
  /** --local: this machine is the host. */
  local?: boolean;
  /** --accept-new-host-keys: record an unknown host key (a changed key is still refused). */
  acceptNewHostKeys?: boolean;
  /** --connect-timeout: overrides the inventory's connect_timeout. */
  connectTimeoutMs?: number;
  /** Default per-command timeout (the transports' own default when unset). */
  commandTimeoutMs?: number;
}

/** The host as the command line amends it: the one place where flags meet the inventory. */
export function withConnectionOptions(host: HostConfig, o: ConnectionOptions): HostConfig {
  return {
    ...host,
    ...(o.acceptNewHostKeys ? { hostKeyChecking: 'accept-new' as const } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
  };
}

/**
 * One transport for one host with every connection option applied. `signal` abandons an SSH
 * connection still being opened (src/cli/preconnect.ts).
 */
export function openTransport(host: HostConfig, o: ConnectionOptions = {}, signal?: AbortSignal): Promise<Transport> {
  return connect(withConnectionOptions(host, o), {
    local: o.local,
    ...(o.commandTimeoutMs !== undefined ? { commandTimeoutMs: o.commandTimeoutMs } : {}),
    ...(signal ? { ssh: { signal } } : {}),
  });
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
