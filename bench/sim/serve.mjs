// A simulated fleet to run the CLI against by hand (profiling): serves a recording for N hosts
// until interrupted and prints the inventory to pass with -i.
//   node bench/sim/serve.mjs --recording FILE --hosts N [--dir DIR] [--delay-ms D] [--services N]
//   node bench/sim/serve.mjs --record FILE [--services N]   (records from a new sandbox target)
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPlatformYaml, startTarget } from '../../dist/sandbox/index.js';
import { recordFrom, writeSimFleet } from './fleet.mjs';
import { loadRecording, saveRecording, startSimServer } from './server.mjs';
import { servicesYaml } from './services.mjs';

const { values } = parseArgs({
  options: {
    recording: { type: 'string' },
    record: { type: 'string' },
    hosts: { type: 'string', default: '10' },
    dir: { type: 'string' },
    'delay-ms': { type: 'string', default: '0' },
    roles: { type: 'string', default: 'firewall,data' },
    services: { type: 'string' },
  },
});
const platformYaml = values.services ? servicesYaml(Number(values.services)) : defaultPlatformYaml();
const roles = values.services ? `${values.roles},stacks` : values.roles;
const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'hostkit-sim-')));

if (values.record) {
  const target = await startTarget({ runId: 'bench-scale' });
  try {
    const rec = await recordFrom(target, { dir, roles, platformYaml });
    await saveRecording(values.record, rec.answers, { roles, services: values.services ?? null, exitCode: rec.exitCode });
    console.log(`${values.record}: ${rec.answers.size} commands (real --check exit ${rec.exitCode})`);
  } finally {
    await target.remove();
  }
} else {
  const answers = await loadRecording(values.recording);
  const sim = await startSimServer({ answers, hosts: Number(values.hosts), delayMs: Number(values['delay-ms']) });
  const fleet = await writeSimFleet(dir, { ports: sim.ports, hostKey: sim.hostKey, platformYaml });
  console.log(`serving ${values.hosts} hosts; run: node scripts/audit.mjs --only ${roles} -i ${fleet.inventory}`);
  const stop = async () => {
    await sim.close();
    console.log(JSON.stringify({ connections: sim.stats.connections, execs: sim.stats.execs, unanswered: sim.stats.unanswered }));
    process.exit(0);
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
}
