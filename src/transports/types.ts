import type { Duplex } from 'node:stream';
/** What every transport (ssh, local) offers the engine. One instance per host per run. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Bytes fed to the command's standard input. */
  stdin?: string | Buffer;
  /** Abort the command after this many milliseconds (default: the transport's commandTimeoutMs). */
  timeoutMs?: number;
}

export interface FileSpec {
  mode?: string; // octal, e.g. "0644"
  owner?: string;
  group?: string;
}

export interface TransportStats {
  /** Connections opened (ssh: TCP+SSH handshakes; local: 0). */
  connections: number;
  /** Commands run (ssh: exec channels). */
  execs: number;
}

export interface Transport {
  /** Inventory name of the host, used in every error. */
  readonly host: string;
  /** "ssh" or "local". */
  readonly kind: 'ssh' | 'local';
  /**
   * Run a POSIX sh script on the host (with privilege escalation when the host has `become`).
   * Never throws for a non-zero exit: the caller decides. Throws TransportError when the host
   * cannot be reached or the command cannot be started.
   */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  /** Atomically replace `path` (temp file in the same directory, fsync, rename). */
  writeFile(path: string, content: string | Buffer, spec?: FileSpec): Promise<void>;
  /** A TCP stream to `address:port` as seen from the host (ssh: a forwarded channel; nothing is published). */
  openTcp(address: string, port: number): Promise<Duplex>;
  /**
   * Starts a long-lived command that holds something on the host (the host lock) for as long
   * as its channel is open: it resolves once the command printed `ready` on a line of its own
   * (then `release()` sends EOF on its stdin and waits for it to end), or with the result when
   * the command ended first. The channel dies with the connection, so whatever it holds does too.
   */
  hold(script: string, ready: string): Promise<HoldOutcome>;
  readonly stats: TransportStats;
  close(): Promise<void>;
}

/** What hold() gives back: the held command, or how it ended without getting there. */
export type HoldOutcome = { held: Held; result?: undefined } | { held?: undefined; result: ExecResult };

export interface Held {
  /** Ends the held command (EOF on its stdin) and waits until it is gone (bounded). */
  release(): Promise<void>;
}

/** A failure to reach or talk to a host (not a command's non-zero exit). */
export class TransportError extends Error {
  /** The underlying errno-style code when there is one (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...). */
  readonly code?: string;
  /** For a command that ran and failed: its exit code and stdio (e.g. a failed writeFile). */
  readonly result?: ExecResult;

  constructor(
    readonly host: string,
    /** connect, auth, host-key, exec, write */
    readonly step: string,
    message: string,
    options?: { cause?: unknown; code?: string; result?: ExecResult },
  ) {
    super(`${host}: ${step}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    if (options?.code !== undefined) this.code = options.code;
    if (options?.result !== undefined) this.result = options.result;
  }
}
