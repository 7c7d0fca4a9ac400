import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/index.js';
import { desiredProxy } from '../../src/proxy/model.js';
import { type NpmState, planProxy } from '../../src/proxy/plan.js';
import { repoRoot } from '../../src/sandbox/paths.js';

/** State read from a REAL NPM by test/fixtures/proxy/record.mjs (see that script). */
const fixture = (version: string, name: string) =>
  JSON.parse(readFileSync(join(repoRoot(), 'test/fixtures/proxy', version, `${name}.json`), 'utf8'));

const INVENTORY = `all:
  hosts:
    web1: { address: 10.0.0.1 }
npm: { stack: infra, service: npm }
stacks:
  infra:
    layer: infrastructure
    networks: { front: { name: infra_front } }
    services:
      npm: { container_name: proxy, image: jc21/nginx-proxy-manager:2.12.3, ports: ["0.0.0.0:80:80", "127.0.0.1:81:81"], networks: [front] }
      web: { container_name: seller1-prod-web, image: drupal:10.3.10-apache, expose: [80], networks: [front] }
      dev: { container_name: python-dev, image: python:3.12.8-slim, expose: [5000], networks: [front] }
proxy:
  email: admin@0kt.ru
  admin: { email: admin@0kt.ru, password: { secret: npm_admin_password } }
  PRUNE
  certificates: { seller1: { domains: [seller1.ru, www.seller1.ru] } }
  hosts:
    - { domains: [seller1.ru], service: infra/web, port: 80, certificate: seller1, hsts_subdomains: true }
    - { domains: [py.dev.0kt.ru], service: infra/dev, port: 5000, certificate: none }
  redirects:
    - { domains: [www.seller1.ru], to: seller1.ru, scheme: auto, certificate: seller1 } # as recorded
`;
const desired = (prune = false, extra = '') =>
  desiredProxy(parseInventory(INVENTORY.replace('PRUNE', `prune: ${prune}`) + extra, 'inv.yaml').doc, 'admin@0kt.ru')!;
const NOW = new Date('2026-12-01T14:00:00Z');

for (const version of ['2.12.3', '2.15.1']) {
  describe(`proxy plan against NPM ${version} (recorded)`, () => {
    const state: NpmState = fixture(version, 'state');

    it('matches hosts by their lowercased sorted domains and PUTs only the changed fields', () => {
      const ops = planProxy(desired(), state, NOW);
      // seller1.ru, its certificate and the www redirect are converged; py.dev.0kt.ru was stored
      // as Py.Dev.0kt.ru with SSL flags on and no certificate (NPM keeps what it is sent).
      const update = ops.filter((o) => o.op === 'update-host');
      expect(update.map((o) => [o.op === 'update-host' && o.id, o.op === 'update-host' && o.body])).toEqual([
        [2, { ssl_forced: false, http2_support: false, hsts_enabled: false }],
      ]);
      expect(ops.filter((o) => o.op === 'create-host' || o.op === 'create-certificate' || o.op === 'renew-certificate')).toEqual([]);
    });

    it('undeclared hosts are drift, deleted only with prune', () => {
      expect(
        planProxy(desired(), state, NOW)
          .filter((o) => o.op === 'drift-host')
          .map((o) => o.summary),
      ).toEqual(['proxy host broken.0kt.ru (#3): not in the inventory (kept; set proxy.prune to delete)']);
      expect(
        planProxy(desired(true), state, NOW)
          .filter((o) => o.op === 'delete-host')
          .map((o) => o.op === 'delete-host' && o.id),
      ).toEqual([3]);
    });

    it('a certificate expiring within expiry_days is renewed', () => {
      const cert = state.certificates.find((c) => c.domain_names.includes('seller1.ru'))!;
      const soon = new Date(Date.parse(`${cert.expires_on!.replace(' ', 'T')}Z`) - 9 * 86_400_000);
      const renew = planProxy(desired(), state, soon).filter((o) => o.op === 'renew-certificate');
      expect(renew.map((o) => o.summary)).toEqual([
        `certificate seller1.ru, www.seller1.ru (#${cert.id}): expires in 9 days (< 14), renew`,
      ]);
    });

    it('creates missing certificates first, then the hosts that use them (by reference)', () => {
      const empty: NpmState = { ...state, certificates: [], proxyHosts: [], redirectionHosts: [] };
      const ops = planProxy(desired(), empty, NOW);
      expect(ops.map((o) => o.op)).toEqual(['create-certificate', 'create-host', 'create-host', 'create-host']);
      const cert = ops[0]!;
      const legacy = version === '2.12.3';
      // 2.13.0 removed letsencrypt_email/agree (additionalProperties: false): never sent there.
      expect(cert.op === 'create-certificate' && cert.body).toEqual({
        provider: 'letsencrypt',
        nice_name: 'seller1',
        domain_names: ['seller1.ru', 'www.seller1.ru'],
        meta: legacy ? { dns_challenge: false, letsencrypt_email: 'admin@0kt.ru', letsencrypt_agree: true } : { dns_challenge: false },
      });
      const seller1 = ops[1]!;
      expect(seller1.op === 'create-host' && seller1.body).toMatchObject({
        domain_names: ['seller1.ru'],
        certificate_id: '@cert:seller1.ru,www.seller1.ru',
      });
    });

    it('the recorded responses show why: legacy certificate fields and a failed nginx -t', () => {
      const legacy = fixture(version, 'certificate-legacy-fields');
      expect(legacy.status).toBe(version === '2.12.3' ? 201 : 400);
      // a create whose nginx -t fails answers 2xx (2.12) and leaves the row offline with nginx_err
      const broken = state.proxyHosts.find((h) => h.domain_names.includes('broken.0kt.ru'))!;
      expect(broken.meta).toMatchObject({ nginx_online: false });
      expect(String(broken.meta?.nginx_err)).toMatch(/unknown directive "this"/);
      expect(fixture(version, 'proxy-host-bad-config-again').json.error.message).toBe('broken.0kt.ru is already in use');
    });

    it('first contact: the default admin works only before the change (2.12) or never (>= 2.13)', () => {
      expect(fixture(version, 'login-default').accepted).toBe(version === '2.12.3');
      expect(fixture(version, 'login-declared').accepted).toBe(true);
      expect(fixture(version, 'login-default-after').accepted).toBe(false);
    });
  });
}
