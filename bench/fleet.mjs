// bench/fleet.sh's driver: N real sandbox targets (bare, from the cached target image) audited
// with firewall + data --check (drift, exit 2, is expected on bare targets) against one of them,
// min / median / max over RUNS, with `node -e ''` measured in the same run. Removes its targets.
//   node bench/fleet.mjs [--targets 20] [--runs 5] [--forks 5,20,50]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { defaultPlatformYaml, startTarget, writeSandboxInventory } from '../dist/sandbox/index.js';
import { REPO } from './sim/fleet.mjs';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '20' },
    runs: { type: 'string', default: '5' },
    forks: { type: 'string', default: '' },
  },
});
const n = Number(values.targets);
const runs = Number(values.runs);
const forksList = values.forks ? values.forks.split(',').map(Number) : [undefined];

const stats = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return { min: v[0], median: v[Math.floor((v.length - 1) / 2)], max: v[v.length - 1] };
};
const fmt = (s) => `min ${s.min.toFixed(2)} / median ${s.median.toFixed(2)} / max ${s.max.toFixed(2)} s`;

// CPU the targets' containers used (cgroup v1 cpuacct, else v2 cpu.stat), in seconds: here the
// targets share this machine's cores with the control process, unlike a real fleet.
async function targetsCpu(targets) {
  const one = async (t) => {
    const v1 = await readFile(`/sys/fs/cgroup/cpuacct/docker/${t.container}/cpuacct.usage`, 'utf8').catch(() => undefined);
    if (v1 !== undefined) return Number(v1) / 1e9;
    const v2 = await readFile(`/sys/fs/cgroup/system.slice/docker-${t.container}.scope/cpu.stat`, 'utf8').catch(() => '');
    return Number(/usage_usec (\d+)/.exec(v2)?.[1] ?? Number.NaN) / 1e6;
  };
  return (await Promise.all(targets.map(one))).reduce((a, b) => a + b, 0);
}

/** `node ARGS` under /usr/bin/time: wall s, the control process's CPU s, and what the targets used meanwhile. */
async function timed(args, targets = []) {
  const timeFile = join(dir, 'time.txt');
  const cpu0 = await targetsCpu(targets);
  const t = process.hrtime.bigint();
  const run = await new Promise((resolve, reject) =>
    execFile(
      '/usr/bin/time',
      ['-f', '%U %S', '-o', timeFile, process.execPath, ...args],
      { cwd: REPO, maxBuffer: 1 << 28, env: { ...process.env, CI: '1' } },
      (err, stdout, stderr) => {
        const code = err ? err.code : 0;
        if (typeof code !== 'number' || (code !== 0 && code !== 2))
          return reject(new Error(`node ${args.join(' ')}: exit ${code}\n${stderr.slice(-1500)}`));
        resolve({ s: Number(process.hrtime.bigint() - t) / 1e9, code, stdout });
      },
    ),
  );
  const [user, sys] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
  return { ...run, cpu: user + sys, targetsCpu: (await targetsCpu(targets)) - cpu0 };
}

const hostsOfCheck = (r) => new Set(r.hosts.filter((h) => !h.error).map((h) => h.host)).size;

const dir = await mkdtemp(join(tmpdir(), 'hostkit-fleet-'));
const targets = [];
const cleanup = async () => {
  await Promise.all(targets.map((t) => t.remove().catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => cleanup().then(() => process.exit(130)));
try {
  const started = Date.now();
  // Four at a time: the machine is shared; systemd boots are the slow part.
  // A start that fails on a loaded machine is tried once more; every start is awaited, so none
  // is left running after a failure.
  const limit = pLimit(4);
  const start = () => startTarget({ runId: 'bench-fleet', timeoutS: 120 });
  const settled = await Promise.allSettled(
    Array.from({ length: n }, () => limit(async () => targets.push(await start().catch(() => start())))),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  console.log(`${n} targets started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const inventory = await writeSandboxInventory(targets, { path: join(dir, 'inventory.yaml'), platformYaml: defaultPlatformYaml() });
  const audit = (extra) => ['scripts/audit.mjs', '--only', 'firewall,data', '-i', inventory, '--json', ...extra];

  // Warm the page cache and check that the runs are what they claim to be.
  const one = JSON.parse((await timed(audit(['--limit', targets[0].name]))).stdout);
  const all = JSON.parse((await timed(audit([]))).stdout);
  if (hostsOfCheck(one) !== 1 || hostsOfCheck(all) !== n) throw new Error('the audits did not reach every target');
  const hostsOf = hostsOfCheck;
  const execsOf = (r) => r.hosts.filter((h) => h.role === 'data').map((h) => h.stats.execs);
  console.log(
    `checked: 1 target -> ${hostsOf(one)} host, exit ${one.exitCode}; ${n} targets -> ${hostsOf(all)} hosts, exit ${all.exitCode}; execs per host ${[...new Set(execsOf(all))].join(',')}`,
  );

  const baseline = [];
  const configs = [
    { label: '1 target ', args: audit(['--limit', targets[0].name]), targets: [targets[0]], runs: [] },
    ...forksList.map((f) => ({
      label: `${n} targets${f ? ` forks ${f}` : ' (default forks)'}`,
      args: audit(f ? ['--forks', String(f)] : []),
      targets,
      runs: [],
    })),
  ];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a burst of load from the other engineers hits every figure alike.
    baseline.push((await timed(['-e', ''])).s);
    for (const c of configs) c.runs.push(await timed(c.args, c.targets));
  }
  console.log(`node -e '' baseline: ${fmt(stats(baseline))}`);
  const single = stats(configs[0].runs.map((r) => r.s));
  for (const c of configs) {
    const s = stats(c.runs.map((r) => r.s));
    const med = (k) => stats(c.runs.map((r) => r[k])).median.toFixed(2);
    console.log(
      `${c.label.padEnd(28)} wall ${fmt(s)} = ${(s.median / single.median).toFixed(2)}x one; median CPU: control ${med('cpu')} s, targets ${med('targetsCpu')} s`,
    );
  }
} finally {
  await cleanup();
}
