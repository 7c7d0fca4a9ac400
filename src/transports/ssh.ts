/**
 * SSH transport on ssh2's Client: one connection per host, at most `maxChannels` exec channels
 * at once, known_hosts verification, and errors that name host, step and command.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { homedir } from 'node:os';
import ssh2 from 'ssh2';
import type { AuthMethod, ClientChannel, ConnectConfig, ParsedKey, PublicKeyAuthMethod, ServerHostKeyAlgorithm } from 'ssh2';
import pLimit, { type LimitFunction } from 'p-limit';
import { fileStamp } from './file-stamp.js';
import type { HostConfig } from '../inventory/types.js';
import {
  appendKnownHost,
  checkHostKey,
  defaultKnownHostsFile,
  fingerprint,
  blobKeyType,
  hostToken,
  knownKeyTypes,
  readKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertSudoWorked, writeWithScript, commandLabel, shellCommand, signalExitCode } from './shell.js';
import {
  TransportError,
  type ExecOptions,
  type ExecResult,
  type FileSpec,
  type HoldOutcome,
  type Transport,
  type TransportStats,
} from './types.js';

// ssh2 is CommonJS and Node's ESM loader only sees its default export.
const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

export interface SshOptions {
  /** Default per-command timeout (10 min). */
  commandTimeoutMs?: number;
  /** Concurrent exec channels per connection (8; OpenSSH's MaxSessions defaults to 10). */
  maxChannels?: number;
  /** Overrides host.knownHosts and ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Passphrase for an encrypted identityFile. */
  passphrase?: string;
  /** Agent socket when no identityFile is set (default: $SSH_AUTH_SOCK). */
  agentSocket?: string;
  keepaliveIntervalMs?: number;
  /**
   * Abandons the connection while it is being opened (a connection opened ahead that the run
   * ended without using, src/cli/preconnect.ts); ignored once it is open (close() it then).
   */
  signal?: AbortSignal;
}

// ssh2's default host-key algorithm order. `algorithms.serverHostKey: {prepend}` cannot move an
// entry that is already in the default list, so the reordered list is passed in full.
const HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Like OpenSSH: offer the key types known_hosts already has for this host first. */
function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const first = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const supported = first.filter((a): a is ServerHostKeyAlgorithm => (HOST_KEY_ALGOS as string[]).includes(a));
  return [...new Set([...supported, ...HOST_KEY_ALGOS])];
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

interface Credentials {
  config: Partial<ConnectConfig>;
  /** For "tried: ..." in auth errors. */
  tried: string;
}

/** Why an identity file cannot be used, or the usable, decrypted private key. */
type Identity = { key: ParsedKey } | { why: string; code?: string; cause?: unknown };

// Every host of an inventory usually shares one identity file: read and check it once per process
// while it is unchanged (inode, size, mtime), not once per host.
const identities = new Map<string, { stamp: string; identity: Promise<Identity> }>();

async function readIdentity(file: string, passphrase: string | undefined): Promise<Identity> {
  let data: Buffer;
  try {
    // At once: a small file, and the TCP connect then goes out before the run's other work (see known-hosts.ts).
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    return { why, cause: err, ...(code ? { code } : {}) };
  }
  const parsed: unknown = utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    const why = !encrypted
      ? `is not a usable private key: ${parsed.message}`
      : passphrase === undefined
        ? 'is encrypted and no passphrase was given (load it into ssh-agent and unset identityFile)'
        : 'could not be decrypted with the given passphrase';
    return { why };
  }
  // parseKey returns an array for some OpenSSH-format files.
  const key = (Array.isArray(parsed) ? parsed[0] : parsed) as ParsedKey;
  if (!key.isPrivateKey()) return { why: 'holds a public key, not a private key' };
  return { key: withKeyObjectSigner(key) };
}

/**
 * ssh2 signs the publickey authentication by handing the key's PEM text to crypto.sign, which
 * parses it again on every connection (~0.35 ms; 2 ms per host under load, the largest control
 * cost of a fleet's handshakes). For ed25519 (no hash choice), sign with one KeyObject instead:
 * the same key, the same signature. The wrapper keeps the parsed key as its prototype, so ssh2
 * still takes it for a parsed key; other key types are left as they are.
 */
function withKeyObjectSigner(key: ParsedKey): ParsedKey {
  const pem = key.type === 'ssh-ed25519' ? key.getPrivatePEM() : null;
  if (!pem) return key;
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch {
    return key;
  }
  const signer = Object.create(key) as ParsedKey;
  signer.sign = (data: Buffer | string) => {
    try {
      return cryptoSign(null, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch (err) {
      return err as Buffer; // ssh2 checks for an Error returned, as its own sign does (the types omit it)
    }
  };
  return signer;
}

async function identity(file: string, passphrase: string | undefined): Promise<Identity> {
  let stamp: string;
  try {
    stamp = fileStamp(file);
  } catch {
    return readIdentity(file, passphrase); // it says why
  }
  const key = `${file}\0${passphrase ?? ''}`;
  const cached = identities.get(key);
  if (cached?.stamp === stamp) return cached.identity;
  const fresh = readIdentity(file, passphrase);
  identities.set(key, { stamp, identity: fresh });
  return fresh;
}

/** A publickey attempt with an already parsed key (AuthMethod is the types' base of every kind). */
function publicKeyAuth(username: string, key: ParsedKey): AuthMethod {
  const method: PublicKeyAuthMethod = { type: 'publickey', username, key };
  return method;
}

async function loadCredentials(host: HostConfig, opts: SshOptions): Promise<Credentials> {
  if (host.identityFile) {
    const file = expandHome(host.identityFile);
    const id = await identity(file, opts.passphrase);
    if (!('key' in id)) {
      throw new TransportError(host.name, 'auth', `identity file ${file} ${id.why}`, {
        ...(id.cause !== undefined ? { cause: id.cause } : {}),
        ...(id.code ? { code: id.code } : {}),
      });
    }
    return {
      // The parsed key itself (ssh2 keeps a parsed key as it is): given as `privateKey`, ssh2
      // would parse the file again on every connection.
      config: { authHandler: [publicKeyAuth(host.user, id.key)] },
      tried: `publickey with ${file}`,
    };
  }
  const sock = opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
  if (!sock) {
    throw new TransportError(
      host.name,
      'auth',
      `no identity_file for user ${host.user} in the inventory and SSH_AUTH_SOCK is not set (no ssh-agent to ask)`,
    );
  }
  return { config: { agent: sock, authHandler: ['agent'] }, tried: `agent at ${sock}` };
}

interface InFlight {
  fail(reason: string): void;
}

export class SshTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly host: string;
  readonly stats: TransportStats = { connections: 0, execs: 0 };
  private readonly limit: LimitFunction;
  private readonly sudo: boolean;
  private readonly timeoutMs: number;
  private readonly inflight = new Set<InFlight>();
  /** Set once the connection is gone (dropped or closed): every later exec fails with it. */
  private lost?: string;
  private lastError?: Error;

  private constructor(
    private readonly config: HostConfig,
    private readonly client: SshClient,
    opts: SshOptions,
  ) {
    this.host = config.name;
    this.limit = pLimit(opts.maxChannels ?? 8);
    this.sudo = config.become && config.user !== 'root';
    this.timeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.stats.connections = 1;
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('close', () => {
      this.lost ??= `connection to ${this.where} lost${this.lastError ? ` (${this.lastError.message})` : ''}`;
      for (const f of [...this.inflight]) f.fail(this.lost);
    });
  }

  private get where(): string {
    return `${this.config.address}:${this.config.port}`;
  }

  /** Opens the one connection for `host`: credentials, TCP, handshake, host key, auth. */
  static async connect(host: HostConfig, opts: SshOptions = {}): Promise<SshTransport> {
    const abandoned = () =>
      new TransportError(host.name, 'connect', `the connection to ${host.address}:${host.port} was abandoned before it was used`);
    if (opts.signal?.aborted) throw abandoned();
    const creds = await loadCredentials(host, opts);
    const knownHostsFile = expandHome(opts.knownHostsFile ?? host.knownHosts ?? defaultKnownHostsFile());
    let entries: readonly KnownHostEntry[];
    try {
      entries = await readKnownHosts(knownHostsFile);
    } catch (err) {
      throw new TransportError(host.name, 'host-key', `cannot read ${knownHostsFile}: ${(err as Error).message}`, { cause: err });
    }

    const where = `${host.address}:${host.port}`;
    let hostKeyError: TransportError | undefined;
    let newKey: Buffer | undefined;
    // ssh2 calls this with the raw key blob BEFORE checking the server's signature over the
    // exchange hash, so an accept-new key is only written once the handshake has completed.
    const hostVerifier = (key: Buffer): boolean => {
      const verdict = checkHostKey(entries, host.address, host.port, key);
      const fp = `${blobKeyType(key) ?? 'unknown'} key ${fingerprint(key)}`;
      const token = hostToken(host.address, host.port);
      switch (verdict.status) {
        case 'trusted':
          return true;
        case 'unknown':
          if (host.hostKeyChecking === 'accept-new') {
            newKey = key;
            return true;
          }
          hostKeyError = new TransportError(
            host.name,
            'host-key',
            `${token} is not in ${knownHostsFile} (strict checking); it offered ${fp}. Verify it out of band, then add "${token} ${blobKeyType(key)} ${key.toString('base64')}", or set host_key_checking: accept-new for this host in the inventory (or run with --accept-new-host-keys)`,
          );
          return false;
        case 'changed': {
          const lines = verdict.entries.map((e) => `${knownHostsFile}:${e.line} (${e.keyType} ${fingerprint(e.key)})`).join(', ');
          hostKeyError = new TransportError(
            host.name,
            'host-key',
            `HOST KEY CHANGED for ${token}: it offered ${fp}, known_hosts has ${lines}. Possible man-in-the-middle; if the host was rebuilt, remove the stale line(s)`,
          );
          return false;
        }
        case 'revoked':
          hostKeyError = new TransportError(
            host.name,
            'host-key',
            `${token} offered ${fp}, which is marked @revoked in ${knownHostsFile}:${verdict.entry.line}`,
          );
          return false;
      }
    };

    const client = new Client();
    // Errors after we have settled (e.g. the socket closing after a failed handshake) must not
    // become unhandled 'error' events.
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => fail(abandoned());
      const fail = (err: TransportError) => {
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeListener('ready', onReady);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        client.destroy();
        reject(err);
      };
      const onReady = () => {
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        resolve();
      };
      const onError = (err: Error & { level?: string; code?: unknown }) => {
        if (hostKeyError) return fail(hostKeyError);
        const code = typeof err.code === 'string' ? err.code : undefined;
        if (err.level === 'client-authentication') {
          return fail(
            new TransportError(host.name, 'auth', `authentication failed for user ${host.user} (tried: ${creds.tried})`, { cause: err }),
          );
        }
        if (err.level === 'agent') {
          return fail(
            new TransportError(host.name, 'auth', `ssh-agent failed for user ${host.user} (tried: ${creds.tried}): ${err.message}`, {
              cause: err,
            }),
          );
        }
        if (err.level === 'client-timeout') {
          // readyTimeout covers TCP connect + handshake + auth.
          return fail(
            new TransportError(host.name, 'connect', `ETIMEDOUT: no SSH session with ${where} within ${host.connectTimeoutMs} ms`, {
              cause: err,
              code: 'ETIMEDOUT',
            }),
          );
        }
        if (err.level === 'client-socket') {
          return fail(
            new TransportError(host.name, 'connect', `cannot reach ${where}: ${code ?? err.message}`, {
              cause: err,
              ...(code ? { code } : {}),
            }),
          );
        }
        fail(new TransportError(host.name, 'connect', `SSH handshake with ${where} failed: ${err.message}`, { cause: err }));
      };
      const onClose = () =>
        fail(hostKeyError ?? new TransportError(host.name, 'connect', `${where} closed the connection during the SSH handshake`));
      client.once('ready', onReady).on('error', onError).once('close', onClose);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        client.connect({
          host: host.address,
          port: host.port,
          username: host.user,
          readyTimeout: host.connectTimeoutMs,
          keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
          keepaliveCountMax: 3,
          hostVerifier,
          algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, host.address, host.port)) },
          ...creds.config,
        });
      } catch (err) {
        fail(new TransportError(host.name, 'connect', (err as Error).message, { cause: err }));
      }
    });

    const transport = new SshTransport(host, client, opts);
    if (newKey) {
      try {
        await appendKnownHost(knownHostsFile, host.address, host.port, newKey);
      } catch (err) {
        client.destroy();
        throw new TransportError(host.name, 'host-key', `cannot add the new host key to ${knownHostsFile}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    return transport;
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.run(script, options, 'exec', commandLabel(script));
  }

  writeFile(path: string, content: string | Buffer, spec: FileSpec = {}): Promise<void> {
    return writeWithScript(this.host, (script, label) => this.run(script, { stdin: content }, 'write', label), path, spec);
  }

  openTcp(address: string, port: number): Promise<Duplex> {
    if (this.lost) return Promise.reject(new TransportError(this.host, 'forward', this.lost));
    return new Promise((resolve, reject) =>
      this.client.forwardOut('127.0.0.1', 0, address, port, (err, ch) =>
        err
          ? reject(
              new TransportError(this.host, 'forward', `cannot open a channel to ${address}:${port} on ${this.where}: ${err.message}`, {
                cause: err,
              }),
            )
          : resolve(ch),
      ),
    );
  }

  /**
   * A channel of this connection kept open (outside the exec slots: it lasts the whole run).
   * sshd ends its command when the connection goes, whichever side drops it.
   */
  hold(script: string, ready: string): Promise<HoldOutcome> {
    const label = commandLabel(script);
    return new Promise<HoldOutcome>((resolve, reject) => {
      if (this.lost) return reject(new TransportError(this.host, 'hold', `${this.lost}; cannot run \`${label}\``));
      this.stats.execs++;
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | undefined;
      let signal: string | undefined;
      let settled = false;
      try {
        this.client.exec(shellCommand(script, this.sudo), (err, ch) => {
          if (err) return reject(new TransportError(this.host, 'hold', `cannot open a channel for \`${label}\`: ${err.message}`));
          const closed = new Promise<void>((done) => ch.once('close', () => done()));
          ch.on('data', (d: Buffer) => {
            out.push(d);
            if (!settled && Buffer.concat(out).toString('utf8').split('\n').includes(ready)) {
              settled = true;
              resolve({
                held: {
                  release: async () => {
                    try {
                      ch.end();
                    } catch {}
                    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000).unref())]);
                  },
                },
              });
            }
          });
          ch.stderr.on('data', (d: Buffer) => errOut.push(d));
          ch.on('exit', (c: number | null, s?: string) => {
            if (typeof c === 'number') code = c;
            else signal = s ?? 'SIGKILL';
          });
          ch.on('error', () => undefined);
          ch.on('close', () => {
            if (settled) return;
            settled = true;
            if (code === undefined && signal === undefined) {
              return reject(
                new TransportError(this.host, 'hold', `${this.lost ?? 'channel closed without an exit status'} while running \`${label}\``),
              );
            }
            resolve({
              result: {
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: Buffer.concat(errOut).toString('utf8'),
                exitCode: code ?? signalExitCode(signal),
              },
            });
          });
        });
      } catch (err) {
        reject(
          new TransportError(this.host, 'hold', `${this.lost ?? `connection to ${this.where} is not open`}; cannot run \`${label}\``, {
            cause: err,
          }),
        );
      }
    });
  }

  async close(): Promise<void> {
    if (this.lost) return;
    this.lost = `connection to ${this.where} was closed by hostkit`;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2_000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  private async run(script: string, options: ExecOptions, step: string, label: string): Promise<ExecResult> {
    const command = shellCommand(script, this.sudo);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // The caller is answered as soon as the command ends (or times out), but the slot is only
    // freed once the channel is really closed: a timed-out channel closing late must not let a
    // 9th one open. The timeout starts when a slot is free, not while queued.
    const result = await new Promise<ExecResult>((resolve, reject) => {
      this.limit(() => this.channel({ command, stdin: options.stdin, timeoutMs, step, label, resolve, reject })).catch(reject);
    });
    if (this.sudo) assertSudoWorked(this.host, this.config.user, step, label, result);
    return result;
  }

  /** Runs one exec channel; resolves (frees the slot) when the channel is gone. */
  private channel(job: {
    command: string;
    stdin: string | Buffer | undefined;
    timeoutMs: number;
    step: string;
    label: string;
    resolve(result: ExecResult): void;
    reject(err: TransportError): void;
  }): Promise<void> {
    const { step, label } = job;
    return new Promise<void>((release) => {
      if (this.lost) {
        job.reject(new TransportError(this.host, step, `${this.lost}; cannot run \`${label}\``));
        return release();
      }
      this.stats.execs++;
      let stream: ClientChannel | undefined;
      let settled = false;
      const settle = (err: TransportError | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(entry);
        if (err) job.reject(err);
        else job.resolve(result!);
      };
      const entry: InFlight = {
        fail: (reason) => {
          settle(new TransportError(this.host, step, `${reason} while running \`${label}\``));
          release();
        },
      };
      this.inflight.add(entry);
      const timer = setTimeout(() => {
        settle(new TransportError(this.host, step, `\`${label}\` timed out after ${job.timeoutMs} ms`, { code: 'ETIMEDOUT' }));
        if (stream) {
          try {
            stream.signal('KILL'); // honoured by OpenSSH >= 7.9; closing the channel is the real stop
          } catch {}
          stream.close();
        }
        // A server that never confirms the close must not hold the slot forever.
        setTimeout(release, 5_000).unref();
      }, job.timeoutMs);

      try {
        this.client.exec(job.command, (err, ch) => {
          if (err) {
            settle(new TransportError(this.host, step, `cannot open a channel for \`${label}\`: ${err.message}`, { cause: err }));
            return release();
          }
          ch.once('close', release);
          if (settled) return void ch.close(); // timed out (or the connection died) while opening
          stream = ch;
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | undefined;
          let signal: string | undefined;
          ch.on('data', (d: Buffer) => out.push(d));
          ch.stderr.on('data', (d: Buffer) => errOut.push(d));
          ch.on('exit', (c: number | null, s?: string) => {
            if (typeof c === 'number') code = c;
            else signal = s ?? 'SIGKILL';
          });
          ch.on('error', (e: Error) =>
            settle(new TransportError(this.host, step, `channel error while running \`${label}\`: ${e.message}`, { cause: e })),
          );
          ch.on('close', () => {
            if (code === undefined && signal === undefined) {
              return settle(
                new TransportError(this.host, step, `${this.lost ?? 'channel closed without an exit status'} while running \`${label}\``),
              );
            }
            settle(undefined, {
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8'),
              exitCode: code ?? signalExitCode(signal),
            });
          });
          // Always send EOF so commands that read stdin finish.
          if (job.stdin !== undefined) ch.end(job.stdin);
          else ch.end();
        });
      } catch (err) {
        // ssh2 throws synchronously when the socket is already gone.
        settle(
          new TransportError(this.host, step, `${this.lost ?? `connection to ${this.where} is not open`}; cannot run \`${label}\``, {
            cause: err,
          }),
        );
        release();
      }
    });
  }
}
