import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NpmCertificate, NpmHost, NpmState, NpmVersion } from './plan.js';

/**
 * Nginx Proxy Manager's REST API, reached through a stream the caller opens (the run's SSH
 * connection forwarding to 127.0.0.1:81 on the host, so nothing new is published). The token
 * lives in this object only; errors never contain it or a password.
 */
export class NpmApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    const msg =
      (body as { error?: { message?: string } } | undefined)?.error?.message ??
      (typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body)?.slice(0, 300));
    // NPM's debug stack carries the failing command's output (certbot's error) on a 500.
    const stack = (body as { debug?: { stack?: string[] } } | undefined)?.debug?.stack;
    const detail =
      status >= 500 && Array.isArray(stack)
        ? stack
            .filter((l) => l.trim() && !/^\s+at /.test(l))
            .slice(0, 6)
            .join(' | ')
        : '';
    super(`NPM API ${method} ${path}: HTTP ${status}${msg ? `: ${msg}` : ''}${detail ? ` (${detail.slice(0, 800)})` : ''}`);
    this.name = 'NpmApiError';
  }
}

export interface Credentials {
  email: string;
  password: string;
}

/** NPM's first administrator before 2.13 (2.13+ has none: INITIAL_ADMIN_* create it). */
export const DEFAULT_ADMIN: Credentials = { email: 'admin@example.com', password: 'changeme' };

export class NpmApi {
  private token?: string;

  constructor(
    private readonly open: () => Promise<Duplex>,
    /** Path prefix of the API behind NPM's nginx on :81. */
    private readonly base = '/api',
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, json } = await this.raw(method, path, body);
    if (status < 200 || status >= 300) throw new NpmApiError(method, path, status, json);
    return json as T;
  }

  /** One request on a fresh stream (`Connection: close`); JSON in and out. */
  async raw(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const stream = await this.open();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method,
          path: `${this.base}${path}`,
          host: '127.0.0.1',
          createConnection: () => stream as never,
          headers: {
            Accept: 'application/json',
            Connection: 'close',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
            ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
          },
          timeout: 300_000, // certbot runs inside a certificate request
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = text;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON (nginx's 502 page while the backend starts): keep the text
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`NPM API ${method} ${path}: timed out`)));
      req.on('error', (err) => reject(new Error(`NPM API ${method} ${path}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }

  /** GET / (no login): status and version. */
  async health(): Promise<{ status: string; version: NpmVersion }> {
    return this.call('GET', '/');
  }

  /** POST /tokens; false when the credentials are refused. */
  async login(c: Credentials): Promise<boolean> {
    const { status, json } = await this.raw('POST', '/tokens', { identity: c.email, secret: c.password });
    if (status >= 200 && status < 300 && typeof (json as { token?: unknown }).token === 'string') {
      this.token = (json as { token: string }).token;
      return true;
    }
    if (status === 400 || status === 401 || status === 403) return false;
    throw new NpmApiError('POST', '/tokens', status, json);
  }

  get loggedIn(): boolean {
    return this.token !== undefined;
  }

  async me(): Promise<{ id: number; email: string; name: string; nickname: string }> {
    return this.call('GET', '/users/me');
  }

  /**
   * 2.12's first contact: the default admin becomes the declared one (e-mail, name, password);
   * afterwards the default login no longer works.
   */
  async replaceDefaultAdmin(declared: Credentials): Promise<void> {
    const me = await this.me();
    await this.call('PUT', `/users/${me.id}`, { email: declared.email, name: 'Administrator', nickname: 'admin' });
    await this.call('PUT', `/users/${me.id}/auth`, { type: 'password', current: DEFAULT_ADMIN.password, secret: declared.password });
  }

  async state(version: NpmVersion): Promise<NpmState> {
    const [certificates, proxyHosts, redirectionHosts, accessLists] = await Promise.all([
      this.call<NpmCertificate[]>('GET', '/nginx/certificates'),
      this.call<NpmHost[]>('GET', '/nginx/proxy-hosts'),
      this.call<NpmHost[]>('GET', '/nginx/redirection-hosts'),
      this.call<{ id: number; name: string }[]>('GET', '/nginx/access-lists'),
    ]);
    return { version, certificates, proxyHosts, redirectionHosts, accessLists };
  }
}
