/**
 * What the fleet fixes of the control machine must keep true: known_hosts parsed once but never
 * stale, the host index agreeing with pattern matching line by line, and reports flushed before
 * the cli exits (a --json report over 64 KB on a pipe was cut by process.exit).
 */
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonReporter } from '../../src/report/json.js';
import { fileStamp } from '../../src/transports/file-stamp.js';
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesHost,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
} from '../../src/transports/known-hosts.js';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIDYm/DBneWzRrM0XmM5npVzB0P8tjHCOaTvcbgTMwQ2+';
const EC =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPrvvxOX8OF7VgJo2eAzkyqNtLgIJ+eG/+3l46xUvDbqux3qwO93XbYm0VzfSgR+/JFvD5srwq4LtbCEFrZbu3s=';
const b = (s: string) => Buffer.from(s, 'base64');

describe('known_hosts read once per file, never stale', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-kh-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shares one parse while the file is unchanged and re-reads it after any change', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `[127.0.0.1]:2201 ssh-ed25519 ${ED}\n`);
    const first = await readKnownHosts(file);
    expect(await readKnownHosts(file)).toBe(first);
    expect(checkHostKey(first, '127.0.0.1', 2202, b(ED)).status).toBe('unknown');
    await appendKnownHost(file, '127.0.0.1', 2202, b(ED)); // accept-new
    const second = await readKnownHosts(file);
    expect(second).not.toBe(first);
    expect(checkHostKey(second, '127.0.0.1', 2202, b(ED)).status).toBe('trusted');
    // Changed by someone else (another run, an editor): seen by the next host.
    await appendFile(file, `@revoked * ssh-ed25519 ${ED}\n`);
    expect(checkHostKey(await readKnownHosts(file), '127.0.0.1', 2202, b(ED)).status).toBe('revoked');
    await rm(file);
    expect(await readKnownHosts(file)).toEqual([]);
  });

  it('parallel accept-new appends: every line written once, the cache equal to a fresh parse', async () => {
    const file = join(dir, 'kh-burst');
    // A burst on a missing file: the lines of one write share one append.
    await Promise.all(Array.from({ length: 60 }, (_, i) => appendKnownHost(file, '127.0.0.1', 3000 + i, b(ED))));
    let text = await readFile(file, 'utf8');
    expect(text.split('\n').filter(Boolean).sort()).toEqual(
      Array.from({ length: 60 }, (_, i) => `[127.0.0.1]:${3000 + i} ssh-ed25519 ${ED}`).sort(),
    );
    expect(await readKnownHosts(file)).toEqual(parseKnownHosts(text));
    // An unterminated last line, a comment and blank lines, read (cached), then appended to.
    await writeFile(file, `# fleet\n\n[127.0.0.1]:2999 ssh-ed25519 ${ED}`);
    expect((await readKnownHosts(file)).map((e) => e.line)).toEqual([3]);
    await Promise.all([4000, 4001, 4002].map((port) => appendKnownHost(file, '127.0.0.1', port, b(EC))));
    await appendKnownHost(file, '127.0.0.1', 4003, b(ED));
    text = await readFile(file, 'utf8');
    expect(text.startsWith(`# fleet\n\n[127.0.0.1]:2999 ssh-ed25519 ${ED}\n[127.0.0.1]:400`)).toBe(true);
    const cached = await readKnownHosts(file);
    expect(cached).toEqual(parseKnownHosts(text));
    expect(cached.map((e) => e.line)).toEqual([3, 4, 5, 6, 7]);
    expect(checkHostKey(cached, '127.0.0.1', 4003, b(ED)).status).toBe('trusted');
    expect(checkHostKey(cached, '127.0.0.1', 4001, b(ED)).status).toBe('changed');
  });

  it('a file stamp stays while the file is untouched and moves on a same-size rewrite or a replacement', async () => {
    const file = join(dir, 'stamped');
    await writeFile(file, 'aaaa\n');
    const first = fileStamp(file);
    expect(fileStamp(file)).toBe(first);
    await new Promise((r) => setTimeout(r, 5));
    await writeFile(file, 'bbbb\n'); // same size, same inode: only the times tell
    const second = fileStamp(file);
    expect(second).not.toBe(first);
    await rename(join(dir, 'stamped'), join(dir, 'old'));
    await writeFile(file, 'bbbb\n'); // a new file under the old name
    expect(fileStamp(file)).not.toBe(second);
    expect(() => fileStamp(join(dir, 'missing'))).toThrow(/ENOENT/);
  });

  it('the host index answers as matching every line would, in file order', async () => {
    const file = join(dir, 'mixed');
    const lines = [
      `Web1.example.com,10.0.0.5 ssh-ed25519 ${ED}`,
      `*.example.com,!web2.example.com ecdsa-sha2-nistp256 ${EC}`,
      `web1.example.com ecdsa-sha2-nistp256 ${EC}`,
      `web?.example.com ssh-ed25519 ${ED}`,
      `[10.0.0.5]:2222 ssh-ed25519 ${ED}`,
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const entries = await readKnownHosts(file);
    for (const [address, port] of [
      ['web1.example.com', 22],
      ['WEB1.example.com', 22],
      ['web2.example.com', 22],
      ['web3.example.com', 22],
      ['10.0.0.5', 22],
      ['10.0.0.5', 2222],
      ['other.org', 22],
    ] as const) {
      const token = port === 22 ? address : `[${address}]:${port}`;
      const naive = entries.filter((e) => e.marker === undefined && entryMatchesHost(e.hosts, token));
      expect(knownKeyTypes(entries, address, port), token).toEqual([...new Set(naive.map((e) => e.keyType))]);
      const verdict = checkHostKey(entries, address, port, b(EC));
      const expected = naive.length === 0 ? 'unknown' : naive.some((e) => e.key.equals(b(EC))) ? 'trusted' : 'changed';
      expect(verdict.status, token).toBe(expected);
      if (verdict.status === 'changed') expect(verdict.entries.map((e) => e.line)).toEqual(naive.map((e) => e.line));
    }
  });
});

describe('reports are flushed before the cli exits', () => {
  it('JsonReporter.close() settles only once the stream has taken the document', async () => {
    let release: () => void = () => undefined;
    const chunks: string[] = [];
    const slow = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        release = done; // the OS has not taken it yet
      },
    });
    const j = new JsonReporter(slow, 'check');
    j.on({ type: 'run-done', mode: 'check', exitCode: 0, reports: [], skipped: [] });
    let closed = false;
    const closing = Promise.resolve(j.close()).then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(JSON.parse(chunks.join('')).exitCode).toBe(0);
  });

  it('a report far over 64 KB reaches a pipe whole when the process exits right after close()', async () => {
    const script = `
      import { JsonReporter } from ${JSON.stringify(new URL('../../dist/report/json.js', import.meta.url).href)};
      const j = new JsonReporter(process.stdout, 'check');
      const reports = Array.from({ length: 3000 }, (_, i) => ({ host: 'h' + i, role: 'firewall', mode: 'check', resources: [], handlers: [], durationMs: 1, stats: { connections: 1, execs: 1 } }));
      j.on({ type: 'run-done', mode: 'check', exitCode: 0, reports, skipped: [] });
      await j.close();
      process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 1 << 28 });
    expect(stdout.length).toBeGreaterThan(256 * 1024);
    expect(JSON.parse(stdout).hosts).toHaveLength(3000);
  });
});
