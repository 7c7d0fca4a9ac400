// bench/scale.sh's driver: record a real sandbox target's answers once, then replay them for
// simulated fleets of growing size through the real CLI, and print time and peak RSS.
//   node bench/sim/scale.mjs [--runs 5] [--sizes 1,10,100,1000] [--forks N] [--delay-ms D]
//                            [--roles firewall,data] [--services 7,70]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { defaultPlatformYaml, startTarget } from '../../dist/sandbox/index.js';
import { recordFrom, simulatedAudit } from './fleet.mjs';
import { ed25519KeyPair } from './server.mjs';
import { servicesYaml } from './services.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,10,100,1000' },
    forks: { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
    roles: { type: 'string', default: 'firewall,data' },
    services: { type: 'string', default: '' },
  },
});
const runs = Number(values.runs);
const sizes = values.sizes.split(',').map(Number);
const forks = values.forks ? values.forks.split(',').map(Number) : [undefined];
const delayMs = Number(values['delay-ms']);

const stats = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return { min: v[0], median: v[Math.floor((v.length - 1) / 2)], max: v[v.length - 1] };
};
const fmt = (s, unit, digits = 2) =>
  `min ${s.min.toFixed(digits)} / median ${s.median.toFixed(digits)} / max ${s.max.toFixed(digits)} ${unit}`;

function nodeBaseline() {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, ['-e', '']);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return stats(ms.map((x) => x / 1000));
}

// One host key and one client key for every run: generated once, not per fleet.
const keys = { host: ed25519KeyPair(), client: ed25519KeyPair() };
const dir = await mkdtemp(join(tmpdir(), 'hostkit-scale-'));
const target = await startTarget({ runId: 'bench-scale' });
try {
  console.log(`node -e '' baseline: ${fmt(nodeBaseline(), 's', 3)}`);
  const platforms = values.services
    ? values.services.split(',').map((n) => ({ label: `${n} services`, yaml: servicesYaml(Number(n)), roles: `${values.roles},stacks` }))
    : [{ label: values.roles, yaml: defaultPlatformYaml(), roles: values.roles }];
  for (const p of platforms) {
    const record = () => recordFrom(target, { dir, roles: p.roles, platformYaml: p.yaml });
    // A target that has just booted has been seen to fail a first probe; say so and retry once.
    const rec = await record().catch((e) => {
      console.error(`recording failed, trying once more: ${e.message}`);
      return record();
    });
    const resources = rec.report.hosts.flatMap((h) => h.resources).length;
    console.log(
      `\n## ${p.label}: recorded ${rec.answers.size} commands from ${target.name} (real --check exit ${rec.exitCode}, ${resources} resources per host)`,
    );
    for (const f of forks) {
      for (const hosts of sizes) {
        const time = [];
        const cpu = [];
        const simCpu = [];
        const rss = [];
        let last;
        for (let i = 0; i < runs; i++) {
          last = await simulatedAudit({ answers: rec.answers, dir, hosts, roles: p.roles, platformYaml: p.yaml, forks: f, delayMs, keys });
          if (last.sim.unanswered || last.report.hosts.length !== hosts * p.roles.split(',').length)
            throw new Error(`simulated run of ${hosts} hosts is not a full audit: ${JSON.stringify(last.sim)} ${last.stderr.slice(-1000)}`);
          time.push(last.wallMs / 1000);
          cpu.push(last.cpuS);
          simCpu.push(last.simCpuS);
          rss.push(last.rssMb);
        }
        const forksText = f ? ` forks ${f}` : '';
        console.log(
          `${String(hosts).padStart(5)} hosts${forksText}: wall ${fmt(stats(time), 's')}; control CPU ${fmt(stats(cpu), 's')} (simulator ${stats(simCpu).median.toFixed(2)} s); peak RSS ${fmt(stats(rss), 'MB', 0)}; exit ${last.exitCode}; ${last.sim.connections} connections, ${last.sim.execs} execs`,
        );
      }
    }
  }
} finally {
  await target.remove();
  await rm(dir, { recursive: true, force: true });
}
