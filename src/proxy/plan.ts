import { type DesiredCertificate, type DesiredHost, type DesiredProxy, domainKey } from './model.js';

/** What NPM's API returns (only the fields the planner reads). */
export interface NpmVersion {
  major: number;
  minor: number;
  revision: number;
}
export interface NpmCertificate {
  id: number;
  provider: string;
  nice_name?: string;
  domain_names: string[];
  /** "YYYY-MM-DD HH:mm:ss" (UTC), absent until issued. */
  expires_on?: string | null;
}
export interface NpmHost {
  id: number;
  domain_names: string[];
  certificate_id: number | string | null;
  access_list_id?: number;
  meta?: { nginx_online?: boolean; nginx_err?: string | null };
  [field: string]: unknown;
}
export interface NpmState {
  version: NpmVersion;
  certificates: NpmCertificate[];
  proxyHosts: NpmHost[];
  redirectionHosts: NpmHost[];
  accessLists: { id: number; name: string }[];
}

export type HostKind = DesiredHost['kind'];
export const HOST_PATH: Record<HostKind, string> = { proxy: '/nginx/proxy-hosts', redirect: '/nginx/redirection-hosts' };
const KIND_NAME: Record<HostKind, string> = { proxy: 'proxy host', redirect: 'redirection host' };

/** One step against NPM's API; certificate references are resolved to ids when the step runs. */
export type ProxyOp =
  | { op: 'create-certificate'; cert: DesiredCertificate; body: Record<string, unknown>; summary: string }
  | { op: 'renew-certificate'; id: number; cert: DesiredCertificate; summary: string }
  | { op: 'create-host'; host: DesiredHost; body: Record<string, unknown>; summary: string; diff: string }
  | { op: 'update-host'; host: DesiredHost; id: number; body: Record<string, unknown>; summary: string; diff: string }
  | { op: 'delete-host'; kind: HostKind; id: number; domains: string[]; summary: string }
  | { op: 'drift-host'; kind: HostKind; id: number; domains: string[]; summary: string };

/** 2.13.0 removed the Let's Encrypt e-mail/agree fields (the user's e-mail is used instead). */
export const hasLetsEncryptEmailField = (v: NpmVersion) => v.major < 2 || (v.major === 2 && v.minor < 13);

/** A reference to a certificate in a request body, resolved at apply time. */
export const CERT_REF = '@cert:';

/** Days until an NPM expires_on timestamp (UTC); NaN when absent. */
export function daysLeft(expiresOn: string | null | undefined, now: Date): number {
  if (!expiresOn) return Number.NaN;
  const t = Date.parse(`${expiresOn.replace(' ', 'T')}Z`);
  return (t - now.getTime()) / 86_400_000;
}

function certificateBody(cert: DesiredCertificate, email: string, version: NpmVersion): Record<string, unknown> {
  const meta: Record<string, unknown> = { dns_challenge: false };
  if (hasLetsEncryptEmailField(version)) Object.assign(meta, { letsencrypt_email: email, letsencrypt_agree: true });
  return { provider: 'letsencrypt', nice_name: cert.name, domain_names: cert.domains, meta };
}

/** Boolean-like values NPM may return as 0/1. */
const same = (a: unknown, b: unknown) => (typeof b === 'boolean' ? Boolean(a) === b : a === b);
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/**
 * The plan: certificates first (create missing, renew expiring), then hosts matched by their
 * lowercased sorted domain set (POST missing, PUT only changed fields), then undeclared hosts
 * (drift, deleted only with prune). Only fields both supported NPM versions accept are sent.
 */
export function planProxy(desired: DesiredProxy, state: NpmState, now: Date): ProxyOp[] {
  const ops: ProxyOp[] = [];
  const certByKey = new Map(state.certificates.filter((c) => c.provider === 'letsencrypt').map((c) => [domainKey(c.domain_names), c]));
  for (const cert of desired.certificates) {
    const have = certByKey.get(cert.key);
    if (!have) {
      ops.push({
        op: 'create-certificate',
        cert,
        body: certificateBody(cert, desired.email, state.version),
        summary: `certificate ${cert.domains.join(', ')}: missing, request from Let's Encrypt`,
      });
      continue;
    }
    const left = daysLeft(have.expires_on, now);
    if (!(left > desired.expiryDays)) {
      ops.push({
        op: 'renew-certificate',
        id: have.id,
        cert,
        summary: `certificate ${cert.domains.join(', ')} (#${have.id}): ${Number.isNaN(left) ? 'not issued' : `expires in ${Math.max(0, Math.floor(left))} days (< ${desired.expiryDays})`}, renew`,
      });
    }
  }
  const certId = (key: string | undefined): number | string => {
    if (key === undefined) return 0;
    const have = certByKey.get(key);
    return have ? have.id : `${CERT_REF}${key}`;
  };
  const accessId = (name: string | undefined): number => {
    if (!name) return 0;
    const list = state.accessLists.find((a) => a.name === name);
    if (!list)
      throw new Error(
        `access list "${name}" does not exist in NPM (create it in NPM first; lists: ${state.accessLists.map((a) => a.name).join(', ') || 'none'})`,
      );
    return list.id;
  };

  const current: Record<HostKind, Map<string, NpmHost>> = {
    proxy: new Map(state.proxyHosts.map((h) => [domainKey(h.domain_names), h])),
    redirect: new Map(state.redirectionHosts.map((h) => [domainKey(h.domain_names), h])),
  };
  const declared: Record<HostKind, Set<string>> = { proxy: new Set(), redirect: new Set() };
  for (const host of desired.hosts) {
    declared[host.kind].add(host.key);
    const want: Record<string, unknown> = {
      ...host.fields,
      certificate_id: certId(host.certificate),
      ...(host.kind === 'proxy' ? { access_list_id: accessId(host.accessList) } : {}),
    };
    const have = current[host.kind].get(host.key);
    const label = `${KIND_NAME[host.kind]} ${host.domains.join(', ')}`;
    if (!have) {
      ops.push({
        op: 'create-host',
        host,
        body: { domain_names: host.domains, ...want },
        summary: `${label}: missing, create`,
        diff: Object.entries(want)
          .map(([k, v]) => `+ ${k}: ${show(v)}`)
          .join('\n'),
      });
      continue;
    }
    const changed = Object.entries(want).filter(([k, v]) => !(typeof v === 'string' && v.startsWith(CERT_REF) ? false : same(have[k], v)));
    if (changed.length === 0) continue;
    ops.push({
      op: 'update-host',
      host,
      id: have.id,
      body: Object.fromEntries(changed),
      summary: `${label} (#${have.id}): ${changed.map(([k, v]) => `${k} ${show(have[k])} -> ${show(v)}`).join(', ')}`,
      diff: changed.map(([k, v]) => `- ${k}: ${show(have[k])}\n+ ${k}: ${show(v)}`).join('\n'),
    });
  }
  for (const kind of ['proxy', 'redirect'] as const) {
    for (const [key, h] of current[kind]) {
      if (declared[kind].has(key)) continue;
      const label = `${KIND_NAME[kind]} ${h.domain_names.join(', ')} (#${h.id})`;
      ops.push(
        desired.prune
          ? { op: 'delete-host', kind, id: h.id, domains: h.domain_names, summary: `${label}: not in the inventory, delete (prune)` }
          : {
              op: 'drift-host',
              kind,
              id: h.id,
              domains: h.domain_names,
              summary: `${label}: not in the inventory (kept; set proxy.prune to delete)`,
            },
      );
    }
  }
  return ops;
}
