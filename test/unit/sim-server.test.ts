/**
 * The fleet simulator of bench/scale.sh (bench/sim/server.mjs) through the real SshTransport and
 * gatherFacts, so the benchmark cannot rot unnoticed: one ssh2 Server, a port per host, answers
 * replayed with each batch's own marker. The answer is recorded here by running the batch with
 * /bin/sh (a harmless echo); test/integration/fleet-sim.test.ts records a real target.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { ed25519KeyPair, normaliseCommand, replayAnswer, startSimServer } from '../../bench/sim/server.mjs';
import { batchScript, gatherFacts } from '../../src/engine/gather.js';
import type { Fact } from '../../src/engine/types.js';
import type { HostConfig } from '../../src/inventory/types.js';
import { shellCommand } from '../../src/transports/shell.js';
import { SshTransport } from '../../src/transports/ssh.js';

const run = promisify(execFile);
const greeting: Fact<string> = {
  key: 'sim.greeting',
  name: 'sim.greeting',
  command: 'echo hello; echo to-stderr >&2',
  parse: (o) => o.stdout.trim(),
};

describe('fleet simulator (bench/sim/server.mjs)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-sim-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws only key pairs ssh2 can read back (its own generator fails about 1 in 256)', () => {
    for (let i = 0; i < 1000; i++) {
      const pair = ed25519KeyPair();
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
    }
  });

  it('keys a command by its text with the batch marker normalised, and puts the marker back', () => {
    const a = normaliseCommand("printf '%s' '@@hostkit-0a1b2c3d4e5f@@ begin 0'");
    expect(a).toBe(normaliseCommand("printf '%s' '@@hostkit-ffffffffffff@@ begin 0'"));
    const answers = new Map([[a, { stdout: '@@hostkit-MARKER@@ begin 0\n', stderr: '', exitCode: 0 }]]);
    expect(replayAnswer(answers, "printf '%s' '@@hostkit-123456789abc@@ begin 0'")).toEqual({
      stdout: '@@hostkit-123456789abc@@ begin 0\n',
      stderr: '',
      exitCode: 0,
    });
    expect(replayAnswer(answers, 'uname -a')).toBeUndefined();
  });

  it('answers the real gatherFacts of several hosts over real SSH connections, one port per host', async () => {
    // Record: the batch as the engine sends it, run once by /bin/sh.
    const marker = '@@hostkit-000000000000@@';
    const script = batchScript([greeting], marker);
    const { stdout, stderr } = await run('/bin/sh', ['-c', script]);
    const strip = (s: string) => s.split(marker).join('@@hostkit-MARKER@@');
    const answers = new Map([
      [normaliseCommand(shellCommand(script, false)), { stdout: strip(stdout), stderr: strip(stderr), exitCode: 0 }],
    ]);

    const sim = await startSimServer({ answers, hosts: 3 });
    try {
      const keyFile = join(dir, 'id_ed25519');
      const knownHosts = join(dir, 'known_hosts');
      await writeFile(keyFile, ed25519KeyPair().private, { mode: 0o600 });
      await writeFile(knownHosts, sim.ports.map((p: number) => `[127.0.0.1]:${p} ${sim.hostKey}\n`).join(''));
      const hosts: HostConfig[] = sim.ports.map((port: number, i: number) => ({
        name: `h${i}`,
        address: '127.0.0.1',
        port,
        user: `h${i}`,
        identityFile: keyFile,
        knownHosts,
        become: false,
        connection: 'ssh',
        protected: false,
        hostKeyChecking: 'strict',
        connectTimeoutMs: 10_000,
        groups: ['all'],
      }));
      const values = await Promise.all(
        hosts.map(async (h) => {
          const t = await SshTransport.connect(h);
          try {
            return (await gatherFacts(t, [greeting])).get(greeting);
          } finally {
            await t.close();
          }
        }),
      );
      expect(values).toEqual(['hello', 'hello', 'hello']);
      expect(sim.stats.connections).toBe(3);
      expect([...sim.stats.hosts].sort()).toEqual(['h0', 'h1', 'h2']);
      expect(sim.stats.unanswered).toBe(0);

      // A command nobody recorded is a visible failure (exit 127, says so), never a silent answer.
      const t = await SshTransport.connect(hosts[0]!);
      try {
        const r = await t.exec('uname -a');
        expect(r.exitCode).toBe(127);
        expect(r.stderr).toContain('hostkit-sim: nothing recorded');
      } finally {
        await t.close();
      }
    } finally {
      await sim.close();
    }
  });
});
