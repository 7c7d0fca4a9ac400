import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockProbeScript } from '../../src/engine/lock.js';
import { repoRoot } from '../../src/sandbox/index.js';
import { writePlatformInventory, type PlatformInventory } from '../../src/sandbox/platform.js';
import { changedCount, parseReport, startTarget, type Target, useTargets } from './harness.js';

/**
 * Issue 9, acceptance 2: runs that collide, get interrupted or lose their connection on real
 * sandbox targets. The control process is started as `node zx-cli <script>` (not npx) so the
 * test signals hostkit itself. Most cases use a small role written here with the public Command
 * kind: a fast step, a slow step (`sleep`), a fast step, each guarded by `creates`, so "mid-apply"
 * is a known window and a re-run shows what converges.
 */

const ZX = join(repoRoot(), 'node_modules/zx/build/cli.js');
const log = (...a: unknown[]) => console.log('[faults]', ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Starts `node zx <script> ...args -i ...inventories` from the repo root; the process, and its result. */
const children = new Set<ResultPromise>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL'); // a failed test leaves no run holding a target's lock
});

function start(script: string, args: string[], inventories: string[]): { child: ResultPromise; done: Promise<Run> } {
  const t0 = Date.now();
  const child = execa('node', [ZX, script, ...args, ...inventories.flatMap((p) => ['-i', p])], {
    cwd: repoRoot(),
    reject: false,
    stdin: 'ignore',
    env: { FORCE_COLOR: '0', CI: '1' },
    timeout: 600_000,
  });
  children.add(child);
  const done = child.then((r) => ({
    exitCode: r.exitCode ?? (r.signal === 'SIGKILL' ? 137 : -1),
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: Date.now() - t0,
  }));
  return { child, done };
}
const run = (script: string, args: string[], inventories: string[]) => start(script, args, inventories).done;

/** Polls until `test` holds (or fails after timeoutMs). */
async function until(what: string, test: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await test()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Is the host lock held on the target? The read-only probe --check uses (it prints the holder). */
const lockHeld = async (t: Target) => (await t.exec(lockProbeScript())).stdout.trim() !== '';

const SLOW_ROLE = (sleepSeconds: number) => `// faults.test.ts: a role of three guarded steps, the middle one slow.
import { main } from ${JSON.stringify(join(repoRoot(), 'dist/cli/main.js'))};
import { Command } from ${JSON.stringify(join(repoRoot(), 'dist/resources/command.js'))};
const slow = {
  name: 'slow',
  description: 'faults test: a fast step, a slow step, a fast step',
  build: () => ({
    resources: [
      new Command({ name: 'first', command: 'touch /var/tmp/hk-first', creates: '/var/tmp/hk-first' }),
      new Command({ name: 'slow step', command: 'sleep ${sleepSeconds} && touch /var/tmp/hk-slow', creates: '/var/tmp/hk-slow' }),
      new Command({ name: 'last', command: 'touch /var/tmp/hk-last', creates: '/var/tmp/hk-last' }),
    ],
  }),
};
await main(import.meta.url, [slow], 'slow');
`;
const reset = (t: Target) => t.exec('rm -f /var/tmp/hk-first /var/tmp/hk-slow /var/tmp/hk-last');

describe('faults on live targets', () => {
  const sb = useTargets({ count: 2, platformYaml: '' });
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-faults-'));
    script = join(dir, 'slow.mjs');
    await writeFile(script, SLOW_ROLE(8));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const limitFirst = () => ['--limit', sb.targets[0]!.name];

  it('two concurrent applies on one target: exactly one refused at once naming the holder; the other completes; then 0 changed', async () => {
    const t = sb.targets[0]!;
    await reset(t);
    const a = start(script, ['--json', ...limitFirst()], [sb.inventory]);
    await until('the first apply to hold the lock', () => lockHeld(t));
    // --check takes no lock but says an apply is in progress.
    const check = await run(script, ['--check', ...limitFirst()], [sb.inventory]);
    expect(check.stdout).toMatch(
      new RegExp(`an apply is in progress \\(\\S+@\\S+ \\(pid ${a.child.pid}, since [0-9T:Z-]+\\): \\S*slow\\.mjs`),
    );
    const b = await run(script, ['--json', ...limitFirst()], [sb.inventory]);
    const first = await a.done;
    log(`refused in ${b.ms} ms (node start-up included); first apply ${first.ms} ms`);
    expect(b.exitCode, b.stderr).toBe(1);
    const refused = parseReport(b.stdout) as ReturnType<typeof parseReport> & { error?: { message: string; step?: string } };
    expect(refused.error?.message).toMatch(
      new RegExp(
        `${t.name}: host lock: refused: another hostkit run holds /run/lock/hostkit.lock: \\S+@\\S+ \\(pid ${a.child.pid}, since [0-9T:Z-]+\\): \\S*slow\\.mjs --json --limit ${t.name}`,
      ),
    );
    expect(b.ms).toBeLessThan(first.ms); // refused at once, not after waiting for the first
    expect(first.exitCode, first.stderr).toBe(0);
    expect(changedCount(parseReport(first.stdout))).toBe(3);
    expect(await lockHeld(t)).toBe(false);
    const again = await run(script, ['--json', ...limitFirst()], [sb.inventory]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(changedCount(parseReport(again.stdout))).toBe(0);
  });

  it('kill -9 of the control process mid-apply: the next run is not blocked by a stale lock and converges', async () => {
    const t = sb.targets[0]!;
    await reset(t);
    const a = start(script, ['--json', ...limitFirst()], [sb.inventory]);
    await until('the slow step to run', async () => (await t.exec('pgrep -x sleep >/dev/null && echo y')).stdout.includes('y'));
    expect(await lockHeld(t)).toBe(true);
    a.child.kill('SIGKILL');
    await a.done;
    const t0 = Date.now();
    await until('the lock to go with the connection', async () => !(await lockHeld(t)), 20_000);
    log(`lock gone ${Date.now() - t0} ms after kill -9`);
    const next = await run(script, ['--json', ...limitFirst()], [sb.inventory]);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    const again = await run(script, ['--json', ...limitFirst()], [sb.inventory]);
    expect(again.exitCode).toBe(0);
    expect(changedCount(parseReport(again.stdout))).toBe(0);
  });

  it('the SSH connection killed from the target side mid-apply: that host fails naming the step, the second host completes, a re-run converges', async () => {
    const [t1, t2] = sb.targets as [Target, Target];
    await Promise.all([reset(t1), reset(t2)]);
    const a = start(script, ['--json', '--forks', '2'], [sb.inventory]);
    await until('the slow step to run on both', async () => {
      const r = await Promise.all([t1, t2].map((t) => t.exec('pgrep -x sleep >/dev/null && echo y')));
      return r.every((x) => x.stdout.includes('y'));
    });
    // The session's sshd process(es) on the first target: OpenSSH >= 9.8 calls them sshd-session.
    const killed = await t1.exec('pkill -KILL -x sshd-session || pkill -KILL -f "^sshd: root"; sleep 0.2; pgrep -fl sshd || true');
    log('after killing the sessions on the first target:', killed.stdout.trim());
    const r = await a.done;
    expect(r.exitCode, r.stderr).toBe(1);
    const doc = parseReport(r.stdout);
    const h1 = doc.hosts.find((h) => h.host === t1.name)!;
    const h2 = doc.hosts.find((h) => h.host === t2.name)!;
    expect(h1.error).toBe(`${t1.name}: slow: command slow step failed`);
    expect(h1.step).toBe('command slow step: run slow step (/var/tmp/hk-slow does not exist)');
    expect(h1.resources.find((x) => x.id === 'command slow step')?.error).toMatch(/connection to \S+ lost|channel closed/);
    expect(h2.error).toBeUndefined();
    expect(h2.resources.map((x) => x.status)).toEqual(['changed', 'changed', 'changed']);
    await until('the first target to accept SSH again', async () => !(await lockHeld(t1)), 20_000);
    const again = await run(script, ['--json'], [sb.inventory]);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    const third = await run(script, ['--json'], [sb.inventory]);
    expect(changedCount(parseReport(third.stdout))).toBe(0);
  });
});

describe('an overlay that lowers protection', () => {
  let server: Server;
  let connections = 0;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-protect-'));
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // The rule itself is safety-input's (issue 9, "Protection"); this is its end-to-end check.
  it('protected: false on the production host: exit 1 at validation, no connection attempted', async () => {
    const port = (server.address() as { port: number }).port;
    const overlay = join(dir, 'unprotect.yaml');
    // A usable key, so that only the validation can stop the run before it connects.
    const key = join(dir, 'key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await writeFile(
      overlay,
      `all:\n  hosts:\n    leruepecie:\n      address: 127.0.0.1\n      port: ${port}\n      protected: false\n      identity_file: ${key}\n`,
    );
    const r = await run('roles/base.mjs', ['--check', '--limit', 'leruepecie'], [join(repoRoot(), 'inventory.yaml'), overlay]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr, r.stdout).toMatch(/unprotect\.yaml:6:\d+: .*protected/);
    expect(connections, 'validation must fail before any host is contacted').toBe(0);
  });
});

describe('SIGINT during the stacks role', () => {
  let target: Target;
  let dir: string;
  let inv: PlatformInventory;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostkit-sigint-'));
    target = await startTarget();
    const install = await target.exec(
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null 2>&1 && docker compose version',
    );
    if (install.exitCode !== 0) throw new Error(`installing docker in the target failed: ${install.stderr}`);
    // A small platform: one stack slow to become healthy (5 health checks, no `$` in the test;
    // the stand-in image is FROM scratch: no /tmp, hence files in /),
    // then a stack of the next layer that the interrupt must leave for the re-run.
    const small = join(dir, 'small.yaml');
    const healthCheck =
      'test -e /hk-h4 || { test -e /hk-h3 && touch /hk-h4; test -e /hk-h2 && touch /hk-h3; test -e /hk-h1 && touch /hk-h2; touch /hk-h1; exit 1; }';
    await writeFile(
      small,
      `all:
  hosts: {}
compose:
  dir: /opt/hostkit/stacks
  wait_timeout: 120
images: {}
stacks:
  slow-stack:
    layer: infrastructure
    description: one service that takes a few health checks to become healthy
    networks:
      slow-network: { name: slow-stack_slow-network }
    services:
      cache:
        container_name: slow-cache
        image: redis:7.4.1
        description: healthy at the fifth check
        networks: [slow-network]
        healthcheck:
          test: ["CMD-SHELL", ${JSON.stringify(healthCheck)}]
          interval: 2s
          retries: 30
          start_period: 0s
          start_interval: 1s
  late-stack:
    layer: production
    description: the next layer, left by the interrupt
    networks:
      late-network: { name: late-stack_late-network }
    services:
      app:
        container_name: late-app
        image: redis:7.4.1
        description: fast
        networks: [late-network]
`,
    );
    inv = await writePlatformInventory([target], dir, { base: [small] });
  });
  afterAll(async () => {
    await target?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exit 130, JSON report "interrupted", lock released; a re-run converges and --check exits 0', async () => {
    const a = start('roles/stacks.mjs', ['--json'], inv.paths);
    // compose up --wait is running once the container exists and is not yet healthy.
    await until(
      'compose up to start the slow container',
      async () => (await target.exec('docker ps -a --filter name=slow-cache -q')).stdout.trim() !== '',
      300_000,
    );
    expect(await lockHeld(target)).toBe(true);
    a.child.kill('SIGINT');
    const r = await a.done;
    log(`interrupted run: ${r.ms} ms; stderr tail: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
    expect(r.exitCode, r.stderr).toBe(130);
    const doc = JSON.parse(r.stdout) as ReturnType<typeof parseReport> & {
      status: string;
      interrupted: { signal: string; running: { id: string; step: string }[] };
    };
    expect(doc.status).toBe('interrupted');
    expect(doc.exitCode).toBe(130);
    expect(doc.interrupted.signal).toBe('SIGINT');
    expect(doc.interrupted.running.map((x) => x.id)).toEqual(['stack slow-stack']);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): finishing \S+ stacks: stack slow-stack \(/);
    const resources = doc.hosts[0]!.resources;
    const slow = resources.find((x) => x.id === 'stack slow-stack');
    expect(slow?.status, slow?.error).toBe('changed'); // the running step finished
    expect(resources.find((x) => x.id === 'stack late-stack')?.status).toBe('skipped');
    expect(doc.hosts[0]!.interrupted).toBe(true);
    expect(await lockHeld(target)).toBe(false);
    expect((await target.exec("docker inspect -f '{{.State.Health.Status}}' slow-cache")).stdout.trim()).toBe('healthy');

    const again = await run('roles/stacks.mjs', ['--json'], inv.paths);
    expect(again.exitCode, again.stderr).toBe(0);
    const changed = parseReport(again.stdout).hosts.flatMap((h) => h.resources.filter((x) => x.status === 'changed').map((x) => x.id));
    expect(changed).toContain('stack late-stack');
    expect(changed).not.toContain('stack slow-stack');
    const check = await run('roles/stacks.mjs', ['--check'], inv.paths);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });
});
