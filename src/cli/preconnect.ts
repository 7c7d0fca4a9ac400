import { DEFAULT_FORKS } from '../engine/run.js';
import type { Role } from '../engine/types.js';
import type { HostConfig } from '../inventory/types.js';
import { openTransport, type ConnectionOptions } from '../transports/connect.js';
import type { Transport } from '../transports/types.js';

/**
 * SSH connections opened as soon as the hosts are selected, so that the handshake (mostly the
 * server's work) runs while the control machine gets the run ready, instead of after it. The
 * engine takes them through runPlaybook's `openTransport` (one per host, once; any later open,
 * a safeguard's reconnect, is a new connection) and closes what it takes; `close()` ends the rest,
 * on every path (a run that failed before a host's turn, an interrupted one, an error).
 *
 * Only when nothing left before the hosts' turn can stop the run on the control machine: a role
 * with a `prepare` (secrets, image archives) may fail there, and then no host may have been
 * contacted (README: a bad inventory or platform never touches a host). Only the first `forks`
 * hosts, the ones the engine starts with; --local and `connection: local` hosts open as before.
 */
export class Preconnected {
  private readonly pending = new Map<string, { transport: Promise<Transport>; abort: AbortController }>();

  constructor(
    hosts: readonly HostConfig[],
    private readonly options: ConnectionOptions,
  ) {
    for (const host of hosts) {
      const abort = new AbortController();
      const transport = openTransport(host, options, abort.signal);
      transport.catch(() => undefined); // the error is the host's run's to report, if it takes it
      this.pending.set(host.name, { transport, abort });
    }
  }

  /** The hosts connecting ahead of their turn. */
  get hosts(): string[] {
    return [...this.pending.keys()];
  }

  /** runPlaybook's openTransport: the connection opened ahead, the first time; a new one after. */
  readonly open = (host: HostConfig): Promise<Transport> => {
    const ahead = this.pending.get(host.name);
    if (!ahead) return openTransport(host, this.options);
    this.pending.delete(host.name);
    return ahead.transport;
  };

  /** Ends every connection the run did not take: one still opening is abandoned, an open one closed. */
  async close(): Promise<void> {
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const { abort } of left) abort.abort();
    await Promise.all(
      left.map(({ transport }) =>
        transport.then(
          (t) => t.close().catch(() => undefined),
          () => undefined,
        ),
      ),
    );
  }
}

/** Connections to open ahead for this run, or undefined when it would contact a host too early (see Preconnected). */
export function preconnect(
  hosts: readonly HostConfig[],
  roles: readonly Role[],
  options: ConnectionOptions & { forks?: number },
): Preconnected | undefined {
  if (options.local || roles.some((r) => r.prepare)) return undefined;
  const ssh = hosts.filter((h) => h.connection !== 'local').slice(0, options.forks ?? DEFAULT_FORKS);
  return ssh.length ? new Preconnected(ssh, options) : undefined;
}
