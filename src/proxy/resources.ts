import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import type { Change, Fact, FactSet } from '../engine/types.js';
import { defineFact } from '../facts/define.js';
import type { Transport } from '../transports/types.js';
import { type Credentials, DEFAULT_ADMIN, NpmApi, NpmApiError } from './client.js';
import { type DesiredProxy, domainKey } from './model.js';
import { CERT_REF, HOST_PATH, type NpmHost, type NpmState, type NpmVersion, type ProxyOp, planProxy } from './plan.js';

/**
 * The proxy role's resources. NPM is an HTTP API, not a shell probe: its fact is an API fact
 * (`Fact.fetch`, awaited by the engine with the host's transport) and its changes are `call`
 * actions; both reach 127.0.0.1:<admin port> on the host through the run's SSH connection.
 */

export interface ProxyTarget {
  /** Port of NPM's admin/API listener on the host's loopback (the service's "127.0.0.1:81:81"). */
  port: number;
  admin: Credentials;
  desired: DesiredProxy;
  /** Seconds to wait for NPM's API to answer (the backend starts after nginx). */
  readyTimeoutS?: number;
  now?: () => Date;
}

export interface NpmView {
  api: NpmApi;
  version: NpmVersion;
  /** Which login worked: the declared admin, or (2.12 first contact) NPM's default one. */
  login: 'declared' | 'default';
  state: NpmState;
}

const versionText = (v: NpmVersion) => `${v.major}.${v.minor}.${v.revision}`;
const atLeast213 = (v: NpmVersion) => v.major > 2 || (v.major === 2 && v.minor >= 13);

async function waitReady(api: NpmApi, host: string, port: number, timeoutS: number): Promise<NpmVersion> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  for (;;) {
    try {
      const h = await api.health();
      if (h.status === 'OK' && h.version) return h.version;
      last = `status ${JSON.stringify(h.status)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${host}: NPM's API on 127.0.0.1:${port} did not answer within ${timeoutS}s (${last})`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Logs in (declared admin, else the 2.12 default one) and reads version, certificates and hosts. */
export async function readNpm(t: Transport, target: ProxyTarget): Promise<NpmView> {
  const api = new NpmApi(() => t.openTcp('127.0.0.1', target.port));
  const version = await waitReady(api, t.host, target.port, target.readyTimeoutS ?? 120);
  let login: NpmView['login'] = 'declared';
  if (!(await api.login(target.admin))) {
    if (atLeast213(version) || !(await api.login(DEFAULT_ADMIN))) {
      throw new Error(
        `${t.host}: NPM ${versionText(version)}: the declared admin ${target.admin.email} cannot log in` +
          (atLeast213(version)
            ? ' (NPM >= 2.13 creates it from INITIAL_ADMIN_EMAIL / INITIAL_ADMIN_PASSWORD on first start only)'
            : ", and the default admin is gone: the password in the secrets file differs from NPM's"),
      );
    }
    login = 'default';
  }
  return { api, version, login, state: await api.state(version) };
}

export function npmFact(target: ProxyTarget): Fact<NpmView> {
  // Fetched through the API (the run's SSH connection), never run as a shell probe.
  const fact = defineFact<NpmView>('npm.api', [target.port], ':', () => {
    throw new Error('the NPM fact is fetched through the API');
  });
  return { ...fact, fetch: (t) => readNpm(t, target) };
}

abstract class NpmResource extends BaseResource<ProxyTarget> {
  protected readonly kind = 'npm';
  protected readonly fact: Fact<NpmView>;
  constructor(target: ProxyTarget, options: ResourceOptions = {}) {
    super(target, options);
    this.fact = npmFact(target);
  }
  protected get target(): ProxyTarget {
    return this.spec;
  }
  facts() {
    return [this.fact];
  }
  abstract override plan(facts: FactSet): Change[];
  protected ops(facts: FactSet): ProxyOp[] {
    const v = facts.get(this.fact);
    return planProxy(this.target.desired, v.state, this.target.now?.() ?? new Date());
  }
}

/** 2.12 first contact: the default admin becomes the declared one and must stop working. */
export class NpmAdmin extends NpmResource {
  protected override identity() {
    return 'admin';
  }
  notes(facts: FactSet) {
    const v = facts.get(this.fact);
    return [
      `NPM ${versionText(v.version)}: ${v.state.proxyHosts.length} proxy hosts, ${v.state.redirectionHosts.length} redirection hosts, ${v.state.certificates.length} certificates`,
    ];
  }
  plan(facts: FactSet): Change[] {
    const v = facts.get(this.fact);
    if (v.login === 'declared') return [];
    const declared = this.target.admin;
    return [
      {
        summary: `NPM admin: the default ${DEFAULT_ADMIN.email} still logs in; replace it by ${declared.email}`,
        actions: [
          {
            kind: 'call',
            display: `PUT /api/users/<me> + /auth (declared e-mail and password)`,
            run: async (t) => {
              await v.api.replaceDefaultAdmin(declared);
              const probe = new NpmApi(() => t.openTcp('127.0.0.1', this.target.port));
              if (await probe.login(DEFAULT_ADMIN)) throw new Error(`${t.host}: NPM still accepts ${DEFAULT_ADMIN.email} after the change`);
              if (!(await probe.login(declared)))
                throw new Error(`${t.host}: NPM refuses the declared admin ${declared.email} after the change`);
            },
          },
        ],
      },
    ];
  }
}

/** Missing certificates are requested (NPM runs certbot), expiring ones renewed; read back. */
export class NpmCertificates extends NpmResource {
  protected override identity() {
    return 'certificates';
  }
  plan(facts: FactSet): Change[] {
    const v = facts.get(this.fact);
    return this.ops(facts).flatMap((op): Change[] => {
      if (op.op === 'create-certificate')
        return [
          {
            summary: op.summary,
            diff: `+ certificate ${op.cert.domains.join(', ')}`,
            actions: [
              {
                kind: 'call',
                display: `POST /api/nginx/certificates ${op.cert.domains.join(',')}`,
                run: async (t) => {
                  // One retry: an ACME exchange can fail transiently (a rejected nonce, a slow reload).
                  let failure: unknown;
                  for (let attempt = 0; attempt < 2; attempt++) {
                    const before = await findCertificate(v.api, op.cert.key);
                    const request = before
                      ? v.api.call('POST', `/nginx/certificates/${before.id}/renew`)
                      : v.api.call('POST', '/nginx/certificates', op.body);
                    failure = await request.then(
                      () => undefined,
                      (err: unknown) => err,
                    );
                    if ((await findCertificate(v.api, op.cert.key))?.expires_on) return;
                  }
                  throw new Error(
                    `${t.host}: certificate ${op.cert.domains.join(', ')} was not issued${failure ? `: ${(failure as Error).message}` : ''}`,
                  );
                },
              },
            ],
          },
        ];
      if (op.op === 'renew-certificate')
        return [
          {
            summary: op.summary,
            actions: [
              {
                kind: 'call',
                display: `POST /api/nginx/certificates/${op.id}/renew`,
                run: async () => void (await v.api.call('POST', `/nginx/certificates/${op.id}/renew`)),
              },
            ],
          },
        ];
      return [];
    });
  }
}

/** Declared proxy and redirection hosts: POST missing, PUT changed fields, read back each write. */
export class NpmHosts extends NpmResource {
  protected override identity() {
    return 'hosts';
  }
  plan(facts: FactSet): Change[] {
    const v = facts.get(this.fact);
    return this.ops(facts).flatMap((op): Change[] => {
      if (op.op !== 'create-host' && op.op !== 'update-host') return [];
      const path = HOST_PATH[op.host.kind];
      return [
        {
          summary: op.summary,
          diff: op.diff,
          actions: [
            {
              kind: 'call',
              display: op.op === 'create-host' ? `POST /api${path} ${op.host.domains.join(',')}` : `PUT /api${path}/${op.id}`,
              run: async (t) => {
                const body = await resolveCertificates(v.api, op.body);
                let failure: unknown;
                if (op.op === 'create-host') await v.api.call('POST', path, body).catch((err: unknown) => (failure = err));
                else await v.api.call('PUT', `${path}/${op.id}`, body).catch((err: unknown) => (failure = err));
                let row = await findHost(v.api, path, op.host.key);
                // A create that failed (nginx -t) may leave its row: repair it on this run.
                if (row && failure && op.op === 'create-host') {
                  failure = undefined;
                  await v.api.call('PUT', `${path}/${row.id}`, without(body, 'domain_names')).catch((err: unknown) => (failure = err));
                  row = await findHost(v.api, path, op.host.key);
                }
                if (!row)
                  throw new Error(
                    `${t.host}: ${op.summary}: no host with these domains after the write${failure ? ` (${(failure as Error).message})` : ''}`,
                  );
                if (row.meta?.nginx_online === false)
                  throw new Error(
                    `${t.host}: ${op.host.domains.join(', ')} (#${row.id}): nginx rejected the configuration: ${row.meta.nginx_err ?? 'no nginx_err'}`,
                  );
                if (failure) throw failure;
              },
            },
          ],
        },
      ];
    });
  }
}

/** Hosts the inventory does not declare: drift; deleted only with proxy.prune. */
export class NpmUndeclared extends NpmResource {
  readonly audit: boolean;
  protected override identity() {
    return 'undeclared hosts';
  }
  constructor(target: ProxyTarget, options: ResourceOptions = {}) {
    super(target, options);
    this.audit = !target.desired.prune;
  }
  plan(facts: FactSet): Change[] {
    const v = facts.get(this.fact);
    return this.ops(facts).flatMap((op): Change[] => {
      if (op.op === 'drift-host') return [{ summary: op.summary, actions: [] }];
      if (op.op !== 'delete-host') return [];
      const path = `${HOST_PATH[op.kind]}/${op.id}`;
      return [
        {
          summary: op.summary,
          actions: [{ kind: 'call', display: `DELETE /api${path}`, run: async () => void (await v.api.call('DELETE', path)) }],
        },
      ];
    });
  }
}

const without = (body: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));

async function findCertificate(api: NpmApi, key: string): Promise<NpmState['certificates'][number] | undefined> {
  return (await api.call<NpmState['certificates']>('GET', '/nginx/certificates')).find((c) => domainKey(c.domain_names) === key);
}

async function findHost(api: NpmApi, path: string, key: string): Promise<NpmHost | undefined> {
  return (await api.call<NpmHost[]>('GET', path)).find((h) => domainKey(h.domain_names) === key);
}

/** Replaces "@cert:<key>" by the id of the certificate with that domain set (created earlier in the run). */
async function resolveCertificates(api: NpmApi, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = body.certificate_id;
  if (typeof ref !== 'string' || !ref.startsWith(CERT_REF)) return body;
  const key = ref.slice(CERT_REF.length);
  const cert = (await api.call<NpmState['certificates']>('GET', '/nginx/certificates')).find((c) => domainKey(c.domain_names) === key);
  if (!cert) throw new NpmApiError('GET', '/nginx/certificates', 404, `no certificate for ${key}`);
  return { ...body, certificate_id: cert.id };
}
