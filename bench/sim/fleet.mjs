// Simulated fleets for bench/scale.sh and test/integration/fleet-sim.test.ts: an inventory of N
// hosts on the simulator's ports (one per host, the login user is the host name), a recording
// made through the simulator from a real sandbox target, and a timed run of the real CLI.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ed25519KeyPair, startSimServer } from './server.mjs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const hostName = (i) => `h${String(i + 1).padStart(4, '0')}`;

/**
 * Writes `dir/inventory.yaml` (a host per simulator port on 127.0.0.1, user = host name, no
 * sudo), a known_hosts line per host with the simulator's key and a throwaway client key. `platformYaml`: the sections
 * the roles read (firewall, data, ...), the same text the recording was made with. `clientKey`:
 * a pair from ed25519KeyPair() to reuse (default: a new one).
 */
export async function writeSimFleet(dir, { ports, hostKey, platformYaml, clientKey }) {
  await mkdir(dir, { recursive: true });
  const keyFile = join(dir, 'id_ed25519');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(keyFile, (clientKey ?? ed25519KeyPair()).private, { mode: 0o600 });
  await writeFile(knownHosts, ports.map((p) => `[127.0.0.1]:${p} ${hostKey}\n`).join(''), { mode: 0o600 });
  const names = ports.map((_, i) => hostName(i));
  const doc = {
    all: {
      vars: { address: '127.0.0.1', become: false, identity_file: keyFile, known_hosts: knownHosts, host_key_checking: 'strict' },
      hosts: Object.fromEntries(names.map((n, i) => [n, { user: n, port: ports[i] }])),
    },
  };
  const inventory = join(dir, 'inventory.yaml');
  await writeFile(inventory, `${stringify(doc)}${platformYaml.trim()}\n`);
  return { inventory, keyFile, knownHosts, names };
}

/**
 * Runs `node scripts/audit.mjs --only ROLES --json` under /usr/bin/time: wall time (this
 * process's clock around the child), the child's CPU time (user + sys) and peak RSS, its exit
 * code and JSON report. On a shared machine the CPU time is the steadier figure.
 */
export function timedAudit({ inventory, roles, forks, extraArgs = [] }) {
  const args = [
    'scripts/audit.mjs',
    '--only',
    roles,
    '-i',
    inventory,
    '--json',
    ...(forks ? ['--forks', String(forks)] : []),
    ...extraArgs,
  ];
  const timeFile = `${inventory}.time`;
  const started = process.hrtime.bigint();
  return new Promise((done, fail) => {
    execFile(
      '/usr/bin/time',
      ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...args],
      { cwd: REPO, maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1', CI: '1' } },
      async (err, stdout, stderr) => {
        const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
        try {
          const exitCode = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          // The last line (time prints "Command exited with non-zero status" before it).
          const [rssKb, user, sys] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
          let report;
          try {
            report = JSON.parse(stdout);
          } catch {
            return fail(new Error(`audit printed no JSON report (exit ${exitCode}): ${stdout.slice(0, 300)} ... ${stdout.slice(-300)}`));
          }
          done({ exitCode, wallMs, cpuS: user + sys, rssMb: rssKb / 1024, report, stderr });
        } catch (e) {
          fail(e);
        }
      },
    );
  });
}

/**
 * Records what a real host answers to the engine's commands for `roles` in --check: the
 * simulator forwards every exec to `target` (a sandbox Target) and keeps the answers.
 * Returns { answers, report } (report: the real audit's JSON, to compare replays with).
 */
export async function recordFrom(target, { dir, roles, platformYaml }) {
  const privateKey = await readFile(target.keyFile);
  const sim = await startSimServer({ upstream: { address: target.address, port: target.port, user: 'root', privateKey } });
  try {
    const fleet = await writeSimFleet(join(dir, 'record'), { ports: sim.ports, hostKey: sim.hostKey, platformYaml });
    const run = await timedAudit({ inventory: fleet.inventory, roles });
    if (run.exitCode === 1 || sim.answers.size === 0)
      throw new Error(`recording from ${target.name} failed (exit ${run.exitCode}):\n${run.stderr.slice(-2000)}`);
    return { answers: sim.answers, report: run.report, exitCode: run.exitCode };
  } finally {
    await sim.close();
  }
}

/** A whole simulated audit of `hosts` hosts from `answers`; the server runs in this process. */
export async function simulatedAudit({ answers, dir, hosts, roles, platformYaml, forks, delayMs = 0, keys }) {
  const sim = await startSimServer({ answers, delayMs, hosts, ...(keys ? { hostKey: keys.host } : {}) });
  const runDir = join(dir, `run-${hosts}`);
  try {
    const fleet = await writeSimFleet(runDir, { ports: sim.ports, hostKey: sim.hostKey, platformYaml, clientKey: keys?.client });
    const cpu0 = process.cpuUsage(); // this process is the simulator: what the "hosts" cost
    const run = await timedAudit({ inventory: fleet.inventory, roles, forks });
    const cpu = process.cpuUsage(cpu0);
    return {
      ...run,
      simCpuS: (cpu.user + cpu.system) / 1e6,
      sim: { connections: sim.stats.connections, execs: sim.stats.execs, unanswered: sim.stats.unanswered },
    };
  } finally {
    await sim.close();
    await rm(runDir, { recursive: true, force: true });
  }
}
