import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesHost,
  fingerprint,
  hostToken,
  knownKeyTypes,
  parseKnownHosts,
} from '../../src/transports/known-hosts.js';

// Vectors produced by OpenSSH's ssh-keygen (-lf for fingerprints, -H for the hashed names).
const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIDYm/DBneWzRrM0XmM5npVzB0P8tjHCOaTvcbgTMwQ2+';
const ED_FP = 'SHA256:r3bfKGJabFNkk4FnRpOa8e0gv2np4YrQcDmDQEJfKAk';
const EC =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPrvvxOX8OF7VgJo2eAzkyqNtLgIJ+eG/+3l46xUvDbqux3qwO93XbYm0VzfSgR+/JFvD5srwq4LtbCEFrZbu3s=';
const EC_FP = 'SHA256:jSh2185sObRKKYjbKGUGJrhUGJc05i6AIKixPEGaU5o';
const RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAAAgQDdcbv8kj7Mf81S1hQSbk0dQjQjytHReI+8V+nmBpIClQYmltAF8uicG+T+rLS60d7ozsTkxMbtUcClwKPsEnFkmyvurKxTgxbgCf74+pD+ZC7yyVQosVl+F0aT54bkkCpTXp4QlMOS+ZKR6tZ65K67yxo9B6waaotkCxVFSlF6VQ==';
const RSA_FP = 'SHA256:L0v8oRmqugkP2wrMuDCpkajq2nWUiayNofuiDNK4X2k';
const HASHED_127_2222 = '|1|372ndPQp0PrhmTfJwUVRH/wfXgE=|LRoalK433943kYlx0kpQhTdee2E=';
const HASHED_WEB1 = '|1|FkpSF3i5wCDdRYrVSsBN5H/ARg0=|uicjs5SRZgy4w2k4JjsxcrGQXaE=';

const b = (s: string) => Buffer.from(s, 'base64');

describe('known_hosts parsing', () => {
  it('parses plain, bracketed, hashed and multi-name lines; skips comments, blanks and junk', () => {
    const text = [
      '# a comment',
      '',
      `web1.example.com,10.0.0.5 ssh-ed25519 ${ED} root@web1`,
      `[db.example.com]:2222 ecdsa-sha2-nistp256 ${EC}`,
      `${HASHED_127_2222} ssh-ed25519 ${ED}`,
      `old.example.com ssh-rsa ${RSA}`,
      'broken line',
      `mismatch ssh-rsa ${ED}`, // blob says ed25519: corrupt, ignored
      `@cert-authority *.example.com ssh-ed25519 ${ED}`,
      `@revoked * ssh-rsa ${RSA}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([
      [3, undefined, 'web1.example.com,10.0.0.5', 'ssh-ed25519'],
      [4, undefined, '[db.example.com]:2222', 'ecdsa-sha2-nistp256'],
      [5, undefined, HASHED_127_2222, 'ssh-ed25519'],
      [6, undefined, 'old.example.com', 'ssh-rsa'],
      [9, '@cert-authority', '*.example.com', 'ssh-ed25519'],
      [10, '@revoked', '*', 'ssh-rsa'],
    ]);
  });

  it('computes OpenSSH SHA256 fingerprints for ed25519, ecdsa and rsa', () => {
    expect(fingerprint(b(ED))).toBe(ED_FP);
    expect(fingerprint(b(EC))).toBe(EC_FP);
    expect(fingerprint(b(RSA))).toBe(RSA_FP);
  });

  it('files hosts as address on port 22 and [address]:port otherwise', () => {
    expect(hostToken('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(hostToken('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('matches names, comma lists, globs, negation and ssh-keygen -H hashes', () => {
    expect(entryMatchesHost('web1.example.com,10.0.0.5', '10.0.0.5')).toBe(true);
    expect(entryMatchesHost('web1.example.com,10.0.0.5', '10.0.0.6')).toBe(false);
    expect(entryMatchesHost('WEB1.example.com', 'web1.example.com')).toBe(true);
    expect(entryMatchesHost('[db.example.com]:2222', 'db.example.com')).toBe(false);
    expect(entryMatchesHost('*.example.com,!bad.example.com', 'ok.example.com')).toBe(true);
    expect(entryMatchesHost('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(entryMatchesHost('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(entryMatchesHost(HASHED_127_2222, '[127.0.0.1]:2222')).toBe(true);
    expect(entryMatchesHost(HASHED_127_2222, '127.0.0.1')).toBe(false);
    expect(entryMatchesHost(HASHED_WEB1, 'web1.example.com')).toBe(true);
  });
});

describe('checkHostKey', () => {
  const entries = parseKnownHosts(
    [
      `${HASHED_127_2222} ssh-ed25519 ${ED}`,
      `web1.example.com ssh-ed25519 ${ED}`,
      `web1.example.com ecdsa-sha2-nistp256 ${EC}`,
      `@cert-authority ca.example.com ssh-ed25519 ${ED}`,
      `@revoked * ssh-rsa ${RSA}`,
    ].join('\n'),
  );

  it('trusts a matching key (hashed entry, non-22 port)', () => {
    const v = checkHostKey(entries, '127.0.0.1', 2222, b(ED));
    expect(v).toMatchObject({ status: 'trusted', entry: { line: 1 } });
  });

  it('trusts any of several keys known for the host', () => {
    expect(checkHostKey(entries, 'web1.example.com', 22, b(EC)).status).toBe('trusted');
  });

  it('reports a changed key with the known entries', () => {
    const v = checkHostKey(entries, '127.0.0.1', 2222, b(EC));
    expect(v.status).toBe('changed');
    if (v.status === 'changed') expect(v.entries.map((e) => e.line)).toEqual([1]);
  });

  it('reports unknown hosts, and the port is part of the identity', () => {
    expect(checkHostKey(entries, '127.0.0.1', 22, b(ED)).status).toBe('unknown');
    expect(checkHostKey(entries, 'other.example.com', 22, b(ED)).status).toBe('unknown');
  });

  it('does not trust @cert-authority lines as host keys', () => {
    expect(checkHostKey(entries, 'ca.example.com', 22, b(ED)).status).toBe('unknown');
  });

  it('refuses @revoked keys even for otherwise unknown hosts', () => {
    expect(checkHostKey(entries, 'anything', 22, b(RSA))).toMatchObject({ status: 'revoked', entry: { line: 5 } });
  });

  it('lists the key types a host is known under', () => {
    expect(knownKeyTypes(entries, 'web1.example.com', 22)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
  });
});

describe('appendKnownHost (accept-new)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-kh-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the directory and file (0600) and writes a matchable line', async () => {
    const file = join(dir, 'ssh', 'known_hosts');
    await appendKnownHost(file, '127.0.0.1', 2222, b(ED));
    const text = await readFile(file, 'utf8');
    expect(text).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ED}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(checkHostKey(parseKnownHosts(text), '127.0.0.1', 2222, b(ED)).status).toBe('trusted');
  });

  it('never glues onto an unterminated last line, and serializes concurrent appends', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `web1.example.com ssh-ed25519 ${ED}`);
    await Promise.all([appendKnownHost(file, 'a.example.com', 22, b(EC)), appendKnownHost(file, 'b.example.com', 22, b(RSA))]);
    const entries = parseKnownHosts(await readFile(file, 'utf8'));
    expect(entries.map((e) => e.hosts)).toEqual(['web1.example.com', 'a.example.com', 'b.example.com']);
  });
});
