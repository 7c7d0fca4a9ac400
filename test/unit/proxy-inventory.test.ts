import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, InventoryError, loadInventory, parseInventory } from '../../src/inventory/index.js';
import { desiredProxy } from '../../src/proxy/model.js';
import { repoRoot } from '../../src/sandbox/paths.js';

const INVENTORY = join(repoRoot(), 'inventory.yaml');

/** A small platform with a proxy section; each case breaks one thing in it. */
const BASE = `all:
  hosts:
    web1: { address: 10.0.0.1 }
npm:
  stack: infra
  service: npm
stacks:
  infra:
    layer: infrastructure
    networks:
      front: { name: infra_front }
    services:
      npm:
        container_name: proxy
        image: jc21/nginx-proxy-manager:2.12.3
        ports: ["0.0.0.0:80:80", "127.0.0.1:81:81"]
        networks: [front]
      web:
        container_name: app-web
        image: drupal:10.3.10-apache
        expose: [80, 8080]
        networks: [front]
proxy:
  email: ops@example.org
  admin: { email: ops@example.org, password: { secret: npm_admin_password } }
  hosts:
    - { domains: [app.example.org], service: infra/web, port: 80 }
    - { domains: [plain.example.org], service: infra/web, port: 8080, certificate: none }
  redirects:
    - { domains: [www.app.example.org], to: app.example.org }
`;

function variant(from: string, to: string): string {
  if (!BASE.includes(from)) throw new Error(`snippet not in BASE: ${from}`);
  return BASE.replace(from, to);
}

function problems(text: string): string[] {
  try {
    parseInventory(text, 'inv.yaml');
  } catch (err) {
    if (err instanceof InventoryError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error('expected an InventoryError');
}

describe('proxy: in inventory.yaml', () => {
  it('declares the 21 domains: 20 proxy hosts and www.seller1.ru as a redirection host', async () => {
    const inv = await loadInventory([INVENTORY]);
    const desired = desiredProxy(inv.doc, 'admin@0kt.ru')!;
    const domains = desired.hosts.flatMap((h) => h.domains);
    expect(domains).toHaveLength(21);
    expect(new Set(domains).size).toBe(21);
    const redirects = desired.hosts.filter((h) => h.kind === 'redirect');
    expect(redirects.map((r) => [r.domains, r.fields.forward_domain_name])).toEqual([[['www.seller1.ru'], 'seller1.ru']]);
    // the seed's named domains
    for (const d of [
      'seller1.ru',
      'pro.seller1.ru',
      'auth.seller1.ru',
      'seller1.dev.0kt.ru',
      'myshop.dev.0kt.ru',
      'commerce.demo.0kt.ru',
      'varbase.demo.0kt.ru',
      'py.dev.0kt.ru',
      'py.tst.0kt.ru',
    ])
      expect(domains).toContain(d);
    const seller1 = desired.hosts.find((h) => h.key === 'seller1.ru')!;
    expect(seller1.fields).toMatchObject({
      forward_host: 'seller1-prod-web',
      forward_port: 80,
      ssl_forced: true,
      http2_support: true,
      hsts_enabled: true,
      hsts_subdomains: true,
      block_exploits: true,
    });
    // one certificate per host, except the declared seller1 group shared with the redirect
    expect(seller1.certificate).toBe('seller1.ru,www.seller1.ru');
    expect(redirects[0]!.certificate).toBe('seller1.ru,www.seller1.ru');
    expect(desired.certificates).toHaveLength(20);
    const ws = desired.hosts.filter((h) => h.kind === 'proxy' && h.fields.allow_websocket_upgrade).map((h) => h.domains[0]);
    expect(ws).toEqual(expect.arrayContaining(['pro.seller1.ru', 'n8n.0kt.ru', 'status.0kt.ru', 'jupyter.0kt.ru', 'portainer.0kt.ru']));
  });
});

describe('proxy: positioned errors before any host is contacted', () => {
  it('accepts the base', () => {
    expect(() => parseInventory(BASE, 'inv.yaml')).not.toThrow();
  });

  it('a port the service does not declare', () => {
    expect(problems(variant('service: infra/web, port: 80 }', 'service: infra/web, port: 8081 }'))).toEqual([
      'inv.yaml:27:63: proxy.hosts[0].port: infra/web (app-web) declares no port 8081 (declared: 80, 8080)',
    ]);
  });

  it('an unknown service', () => {
    expect(problems(variant('service: infra/web, port: 80 }', 'service: infra/wbe, port: 80 }'))).toEqual([
      'inv.yaml:27:46: proxy.hosts[0].service: no service "wbe" in stack infra (services: npm, web)',
    ]);
  });

  it('a domain declared twice (hosts and redirects)', () => {
    expect(problems(variant('[www.app.example.org], to', '[app.example.org], to'))).toEqual([
      'inv.yaml:30:19: proxy.redirects[0].domains[0]: domain "app.example.org" is declared twice (first at inv.yaml:27:19)',
    ]);
  });

  it('an unknown certificate group and a redirect to an undeclared domain', () => {
    expect(
      problems(
        variant(
          '{ domains: [www.app.example.org], to: app.example.org }',
          '{ domains: [www.app.example.org], to: nowhere.example.org, certificate: shared }',
        ),
      ),
    ).toEqual([
      'inv.yaml:30:45: proxy.redirects[0].to: "nowhere.example.org" is not a domain of proxy.hosts',
      'inv.yaml:30:79: proxy.redirects[0].certificate: no certificate "shared" in proxy.certificates (declared: none; or "letsencrypt", "none")',
    ]);
  });

  it('an uppercase domain is refused by the schema', () => {
    expect(problems(variant('[app.example.org]', '[App.example.org]'))[0]).toMatch(
      /proxy\.hosts\[0\]\.domains\[0\]: .*lowercase domain name/,
    );
  });
});

describe('proxy: the desired state is normalized like NPM stores it', () => {
  it('no certificate => ssl_forced, http2 and HSTS off; domains sorted', () => {
    const inv = parseInventory(variant('[plain.example.org]', '[plain.example.org, a.example.org]'), 'inv.yaml');
    const plain = desiredProxy(inv.doc, 'x@y.zz')!.hosts.find((h) => h.domains.includes('plain.example.org'))!;
    expect(plain.domains).toEqual(['a.example.org', 'plain.example.org']);
    expect(plain.certificate).toBeUndefined();
    expect(plain.fields).toMatchObject({
      ssl_forced: false,
      http2_support: false,
      hsts_enabled: false,
      hsts_subdomains: false,
      block_exploits: true,
    });
  });
});
