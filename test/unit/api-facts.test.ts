import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../src/engine/apply.js';
import { gatherFacts } from '../../src/engine/gather.js';
import type { Fact } from '../../src/engine/types.js';
import { LocalTransport } from '../../src/transports/local.js';
import { TransportError } from '../../src/transports/types.js';

/** The engine's extension for HTTP APIs (the proxy role): API facts, call actions, openTcp. */
describe('API facts and call actions', () => {
  const t = new LocalTransport({ name: 'localhost', become: false });

  it('awaits fetch facts alongside the shell batch, each once per key', async () => {
    let fetched = 0;
    const api: Fact<string> = {
      key: 'api',
      command: 'exit 99',
      parse: () => 'never',
      fetch: async (tr) => {
        fetched++;
        return `via ${tr.kind}`;
      },
    };
    const shell: Fact<string> = { key: 'echo', command: 'echo hi', parse: (o) => o.stdout.trim() };
    const facts = await gatherFacts(t, [api, shell, api]);
    expect([facts.get(api), facts.get(shell), fetched]).toEqual(['via local', 'hi', 1]);
    const only = await gatherFacts(t, [api]);
    expect(only.get(api)).toBe('via local');
  });

  it('runs call actions with the transport', async () => {
    const seen: string[] = [];
    await runAction(t, 'step', { kind: 'call', display: 'PUT /x', run: async (tr) => void seen.push(tr.host) });
    expect(seen).toEqual(['localhost']);
  });

  it('openTcp reaches a listener as seen from the host, and names host and port when refused', async () => {
    const server = createServer((s) => s.end('pong'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const stream = await t.openTcp('127.0.0.1', port);
    const got = await new Promise<string>((r) => {
      let d = '';
      stream.on('data', (c) => (d += c));
      stream.on('end', () => r(d));
    });
    expect(got).toBe('pong');
    await new Promise((r) => server.close(r));
    await expect(t.openTcp('127.0.0.1', port)).rejects.toThrow(TransportError);
    await expect(t.openTcp('127.0.0.1', port)).rejects.toThrow(`cannot connect to 127.0.0.1:${port}`);
  });
});
