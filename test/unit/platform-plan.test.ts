import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFactFixture } from '../fixtures/facts/fixture.mjs';
import type { Change, Fact, FactSet, PlanContext, ProbeOutput } from '../../src/engine/types.js';
import { factSetFrom } from '../../src/engine/gather.js';
import { loadInventory } from '../../src/inventory/index.js';
import type { HostConfig } from '../../src/inventory/types.js';
import { containersFact, describeState, parseContainers, projectContainers, serviceContainer } from '../../src/facts/containers.js';
import { composeNetwork, networksFact, parseNetworks } from '../../src/facts/networks.js';
import {
  composeConfigHashesFact,
  composeHashesFact,
  composeProjectsFact,
  parseComposeHashes,
  parseComposeLs,
} from '../../src/facts/compose.js';
import { imageOf, imagesFact, parseImages } from '../../src/facts/images.js';
import { fileContentFact, parseFileContent } from '../../src/facts/file-content.js';
import { platformOf, type PlatformModel } from '../../src/platform/model.js';
import { renderCompose } from '../../src/platform/compose.js';
import { renderEnvFile, secretUses } from '../../src/platform/secrets.js';
import { StackComposeFile, StackEnvFile } from '../../src/resources/stack-files.js';
import { failureDigest, StackUp } from '../../src/resources/stack-up.js';
import { ImageArchive, ImageBuild, ImagePull, CONTEXT_LABEL } from '../../src/resources/stack-images.js';
import { networkResources } from '../../src/roles/networks.js';
import { repoRoot } from '../../src/sandbox/paths.js';

/**
 * Recorded with test/fixtures/platform/record.mjs from a real Debian 13 target (Docker 26, compose 2.26),
 * stored as fact fixtures: test/fixtures/facts/<fact>/<kase>[-<stack file>].json.
 */
type Recorded = ProbeOutput & { command: string };
const recorded = (kase: string, name: string): Recorded => {
  const fixed: Record<string, string> = {
    containers: 'docker.containers',
    networks: 'docker.networks',
    'compose-ls': 'docker.compose-projects',
    images: 'docker.images',
  };
  const [fact, kaseName] = fixed[name]
    ? [fixed[name], kase]
    : name.startsWith('hash-')
      ? ['docker.compose-hashes', `${kase}-${name.slice('hash-'.length)}`]
      : ['file.content', `${kase}-${name}`];
  const { command, stdout, stderr, exitCode } = readFactFixture(fact, kaseName);
  return { command, stdout, stderr, exitCode };
};

const STACKS = [
  'pro-0kt-stack',
  'seller1-prod-stack',
  'seller1-dev-stack',
  'myshop-stack',
  'commerce-stack',
  'varbase-stack',
  'python-stack',
];
const host: HostConfig = {
  name: 't',
  address: '127.0.0.1',
  port: 22,
  user: 'root',
  become: false,
  connection: 'ssh',
  protected: false,
  hostKeyChecking: 'strict',
  connectTimeoutMs: 1000,
  groups: ['all'],
};
const ctx = (pending: string[] = []): PlanContext => ({ host, mode: 'check', pendingPrerequisites: pending });

let platform: PlatformModel;
beforeAll(async () => {
  // As recorded: the sandbox platform, whose database servers with `database:` are real PostgreSQL
  // (real-dbs.yaml), before application builds (as-recorded.yaml).
  platform = platformOf(
    await loadInventory([
      join(repoRoot(), 'inventory.yaml'),
      join(repoRoot(), 'test/fixtures/platform/real-dbs.yaml'),
      join(repoRoot(), 'test/fixtures/platform/as-recorded.yaml'),
    ]),
  );
});

/** The host's config hashes fact of one stack (as StackUp reads it alone) holding compose's own recorded answer. */
function composeAnswer(dir: string, output: ProbeOutput): [Fact<unknown>, { value: unknown }] {
  return [composeConfigHashesFact([dir]), { value: new Map([[dir, parseComposeHashes(output)]]) }];
}

/** Every fact a stack's resources read, from one recorded case; `over` replaces some. */
function stackFacts(kase: string, stack: string, over: [Fact<unknown>, ProbeOutput | { value: unknown }][] = []): FactSet {
  const dir = `/opt/hostkit/stacks/${stack}`;
  const entries: [Fact<unknown>, ProbeOutput | { value: unknown }][] = [
    [containersFact, recorded(kase, 'containers')],
    [networksFact, recorded(kase, 'networks')],
    // compose's own answer (recorded), as the cached fact reads it when it has no record.
    composeAnswer(dir, recorded(kase, `hash-${stack}`)),
    [composeProjectsFact, recorded(kase, 'compose-ls')],
    [fileContentFact(`${dir}/compose.yaml`), recorded(kase, `compose-${stack}`)],
    [fileContentFact(`${dir}/.env`), recorded(kase, `env-${stack}`)],
    // Image ids are compared only when known: the recorded ids are those of the recording run.
    [imagesFact(), { value: { dockerInstalled: true, byTag: new Map() } }],
  ];
  return factSetFrom([...entries.filter(([f]) => !over.some(([o]) => o.key === f.key)), ...over]);
}

/** The stack resources as the role builds them, with .env values as recorded ("fixture-value"). */
function stackUp(stack: string) {
  const s = platform.stacks.find((x) => x.name === stack)!;
  const secrets = new Map([...secretUses(platform).keys()].map((n) => [n, 'fixture-value']));
  const env = new StackEnvFile({ stack, dir: s.dir, content: renderEnvFile(s, secrets) });
  const compose = new StackComposeFile({ stack, dir: s.dir, content: renderCompose(s) });
  return { env, compose, up: new StackUp({ stack: s, waitTimeoutS: 300, files: { env, compose } }) };
}

const summaries = (changes: Change[]) => changes.map((c) => c.summary);
const scripts = (changes: Change[]) => changes.flatMap((c) => c.actions.map((a) => (a.kind === 'exec' ? a.script : `write ${a.path}`)));

describe('facts: parsers on recorded outputs', () => {
  it('containers: labels, state, health and networks from docker inspect JSON', () => {
    const state = parseContainers(recorded('converged', 'containers'));
    expect(state.dockerInstalled).toBe(true);
    expect(state.containers).toHaveLength(35);
    const npm = serviceContainer(state, 'pro-0kt-stack', 'npm')!;
    expect(npm.name).toBe('pro-0kt-nginx');
    expect(npm.health).toBe('healthy');
    expect(npm.networks.map((n) => n.name).sort()).toEqual(platform.stacks.map((s) => s.networks[0]!.name).sort());
    expect(
      projectContainers(state, 'myshop-stack')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['myshop-db', 'myshop-redis', 'myshop-web']);
  });

  it('networks: compose networks found by labels, members by id', () => {
    const state = parseNetworks(recorded('converged', 'networks'));
    const prod = composeNetwork(state, 'seller1-prod-stack', 'seller1-prod-network')!;
    expect(prod.name).toBe('seller1-prod-stack_seller1-prod-network');
    expect(prod.containers.map((c) => c.name).sort()).toEqual([
      'pro-0kt-nginx',
      'seller1-prod-db',
      'seller1-prod-n8n',
      'seller1-prod-redis',
      'seller1-prod-web',
    ]);
  });

  it('compose ls, config hashes, images, file content', () => {
    const ls = parseComposeLs(recorded('converged', 'compose-ls'));
    expect(ls.projects.map((p) => p.name).sort()).toEqual([...STACKS].sort());
    expect(ls.projects.find((p) => p.name === 'python-stack')).toEqual({
      name: 'python-stack',
      status: 'running(2)',
      configFiles: ['/opt/hostkit/stacks/python-stack/compose.yaml'],
    });
    const hashes = parseComposeHashes(recorded('converged', 'hash-seller1-dev-stack'));
    expect(hashes.state === 'ok' && [...hashes.byService.keys()]).toEqual(['db', 'n8n', 'redis', 'web']);
    const images = parseImages(recorded('converged', 'images'));
    expect(
      ['postgres:16.6', 'docker.io/library/redis:7.4.1', 'drupal:10.3.10-apache', 'busybox:absent-tag'].map((r) =>
        Boolean(imageOf(images, r)),
      ),
    ).toEqual([true, true, true, false]);
    const env = parseFileContent('/x', recorded('converged', 'env-seller1-dev-stack'));
    expect(env).toMatchObject({ exists: true, mode: '0600', owner: 'root', group: 'root' });
    expect(env.content).toContain("HOSTKIT_SECRET_SELLER1_DEV_DB_PASSWORD='fixture-value'");
  });

  it('a bare server (no docker): every probe describes absence instead of failing', () => {
    expect(parseContainers(recorded('no-docker', 'containers'))).toEqual({ dockerInstalled: false, containers: [] });
    expect(parseNetworks(recorded('no-docker', 'networks'))).toEqual({ dockerInstalled: false, networks: [] });
    expect(parseComposeLs(recorded('no-docker', 'compose-ls'))).toEqual({ available: false, projects: [] });
    expect(parseComposeHashes(recorded('no-docker', 'hash-python-stack'))).toEqual({ state: 'no-compose' });
    expect(parseImages(recorded('no-docker', 'images')).byTag.size).toBe(0);
    expect(parseFileContent('/x', recorded('no-docker', 'env-python-stack'))).toEqual({ path: '/x', exists: false });
  });

  it('the recorded commands are the facts of today (re-record when a probe changes)', () => {
    // The converged and drifted containers, networks and compose projects are the CLI path's
    // outputs (the earlier probes; today's run that path where the Engine API cannot be asked, and
    // they cannot be recorded again: the platform as it stood then is gone); converged-api is
    // today's probe on the whole platform (the demo target).
    expect(readFactFixture('docker.containers', 'converged-api').command).toBe(containersFact.command);
    expect(readFactFixture('docker.networks', 'converged-api').command).toBe(networksFact.command);
    expect(readFactFixture('docker.compose-projects', 'converged-api').command).toBe(composeProjectsFact.command);
    expect(recorded('converged', 'hash-python-stack').command).toBe(composeHashesFact('/opt/hostkit/stacks/python-stack').command);
    expect(recorded('converged', 'env-python-stack').command).toBe(fileContentFact('/opt/hostkit/stacks/python-stack/.env').command);
  });

  it('an invalid compose file is a state, not a probe failure', () => {
    expect(parseComposeHashes({ stdout: '', stderr: 'yaml: line 3: mapping values are not allowed\n', exitCode: 15 })).toEqual({
      state: 'invalid',
      error: 'yaml: line 3: mapping values are not allowed',
    });
  });
});

describe('stacks: plans from a converged and a drifted real server', () => {
  it('converged: every stack, its .env and compose.yaml plan nothing', () => {
    for (const stack of STACKS) {
      const { env, compose, up } = stackUp(stack);
      const facts = stackFacts('converged', stack);
      expect(env.plan(facts), stack).toEqual([]);
      expect(compose.plan(facts), stack).toEqual([]);
      expect(up.plan(facts, ctx()), stack).toEqual([]);
      expect(up.notes(facts)).toEqual([expect.stringMatching(/^compose: running\(\d+\)$/)]);
    }
  });

  it('drifted: a stopped container, a removed one, an unexpected one, each named', () => {
    const plan = (stack: string) => stackUp(stack).up.plan(stackFacts('drifted', stack), ctx());
    expect(summaries(plan('myshop-stack'))).toEqual(['container myshop-redis exited (0)']);
    expect(summaries(plan('varbase-stack'))).toEqual(['container varbase-db (service db) missing']);
    const dev = plan('seller1-dev-stack');
    expect(summaries(dev)).toEqual([
      'unexpected container seller1-dev-stack-extra (service old-worker) in project seller1-dev-stack: remove',
    ]);
    expect(scripts(dev)[0]).toContain('docker compose up -d --wait --wait-timeout 300 --remove-orphans </dev/null >"$log"');
    // Only the drifted service is brought up: compose leaves every other container alone.
    expect(scripts(plan('myshop-stack'))[0]).toContain('docker compose up -d --wait --wait-timeout 300 redis </dev/null >');
    for (const stack of ['pro-0kt-stack', 'seller1-prod-stack', 'commerce-stack']) expect(plan(stack), stack).toEqual([]);
  });

  it('a compose file edited by hand: drift with a diff; containers are claimed only when they run the file on disk', () => {
    const { compose, up } = stackUp('python-stack');
    const facts = stackFacts('drifted', 'python-stack');
    const [change] = compose.plan(facts);
    expect(change!.summary).toBe('compose.yaml of python-stack differs from the inventory');
    expect(change!.diff).toContain('-      retries: 4\n+      retries: 3');
    expect(scripts([change!])).toEqual([
      'write /opt/hostkit/stacks/python-stack/.compose.yaml.hostkit-new',
      expect.stringContaining('docker compose -f .compose.yaml.hostkit-new config -q'),
    ]);
    // Standalone (no pending file change) the hash of the edited file differs from the containers'.
    expect(summaries(up.plan(facts, ctx()))).toEqual([
      'container python-dev created from an older configuration (config hash differs)',
      'container python-tst created from an older configuration (config hash differs)',
    ]);
    // After the file change (as in the role): the edit was never applied, so nothing is claimed.
    expect(summaries(up.plan(facts, ctx(['compose python-stack'])))).toEqual([
      'bring python-stack up to date with its new files (only changed containers are recreated)',
    ]);
  });

  it('a changed secret: the .env diff names it, and exactly the containers using it would be recreated', () => {
    const s = platform.stacks.find((x) => x.name === 'seller1-dev-stack')!;
    const secrets = new Map(
      [...secretUses(platform).keys()].map((n) => [n, n === 'seller1_dev_n8n_encryption_key' ? 'rotated' : 'fixture-value']),
    );
    const env = new StackEnvFile({ stack: s.name, dir: s.dir, content: renderEnvFile(s, secrets) });
    const compose = new StackComposeFile({ stack: s.name, dir: s.dir, content: renderCompose(s) });
    const up = new StackUp({ stack: s, waitTimeoutS: 300, files: { env, compose } });
    const facts = stackFacts('converged', s.name);
    const [change] = env.plan(facts);
    expect(change!.diff).toBe(
      '--- /opt/hostkit/stacks/seller1-dev-stack/.env\n+++ /opt/hostkit/stacks/seller1-dev-stack/.env (desired)\n' +
        '-HOSTKIT_SECRET_SELLER1_DEV_N8N_ENCRYPTION_KEY=*** (old value)\n+HOSTKIT_SECRET_SELLER1_DEV_N8N_ENCRYPTION_KEY=*** (new value)\n',
    );
    expect(change!.actions).toEqual([expect.objectContaining({ kind: 'write', mode: '0600', owner: 'root' })]);
    expect(summaries(up.plan(facts, ctx(['env seller1-dev-stack'])))).toEqual([
      'container seller1-dev-n8n uses changed secret seller1_dev_n8n_encryption_key: would be recreated',
    ]);
    expect(scripts(up.plan(facts, ctx(['env seller1-dev-stack'])))[0]).toContain('--wait-timeout 300 n8n </dev/null >');
  });

  it('a bare server: the whole plan, nothing fails', () => {
    const { env, compose, up } = stackUp('seller1-prod-stack');
    const s = platform.stacks.find((x) => x.name === 'seller1-prod-stack')!;
    const facts = factSetFrom([
      [containersFact, recorded('no-docker', 'containers')],
      composeAnswer(s.dir, recorded('no-docker', 'hash-seller1-prod-stack')),
      [fileContentFact(`${s.dir}/compose.yaml`), recorded('no-docker', 'compose-seller1-prod-stack')],
      [fileContentFact(`${s.dir}/.env`), recorded('no-docker', 'env-seller1-prod-stack')],
      [imagesFact(), recorded('no-docker', 'images')],
    ]);
    expect(summaries(env.plan(facts))).toEqual(['create .env of seller1-prod-stack (mode 0600)']);
    expect(summaries(compose.plan(facts))).toEqual([expect.stringMatching(/^create compose.yaml of seller1-prod-stack \(\d+ lines\)$/)]);
    expect(summaries(up.plan(facts, ctx(['env seller1-prod-stack', 'compose seller1-prod-stack'])))).toEqual([
      'container seller1-prod-web (service web) missing',
      'container seller1-prod-db (service db) missing',
      'container seller1-prod-redis (service redis) missing',
      'container seller1-prod-n8n (service n8n) missing',
    ]);
  });

  it('the failure digest names the failing container and its log tail within 8 lines of stderr', async () => {
    // A stand-in docker CLI: three containers, one unhealthy, one waiting on it ("created").
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-digest-'));
    await writeFile(
      join(dir, 'docker'),
      `#!/bin/sh
case "$1" in
  ps) printf 'id1\\nid2\\nid3\\n' ;;
  inspect) case "$4" in id1) echo '/prod-db running healthy' ;; id2) echo '/prod-web running unhealthy' ;; id3) echo '/prod-n8n created ' ;; esac ;;
  logs) for i in 1 2 3 4 5 6 7; do echo "web log line $i"; done | tail -n "$3" ;;
esac
`,
      { mode: 0o755 },
    );
    const script = `log=$(mktemp); echo 'dependency failed to start: container prod-web is unhealthy' >"$log"\n${failureDigest('seller1-prod-stack')}`;
    const r = await execa('sh', ['-c', script], { reject: false, env: { PATH: `${dir}:${process.env.PATH}` } });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr).split('\n')).toEqual([
      'docker compose up failed: dependency failed to start: container prod-web is unhealthy',
      'failing containers: prod-web (running, unhealthy) prod-n8n (created)',
      'last log lines of prod-web:',
      '  web log line 3',
      '  web log line 4',
      '  web log line 5',
      '  web log line 6',
      '  web log line 7',
    ]);
  });
});

describe('images from an archive: loaded only when the id on the host differs', () => {
  it('plans nothing when ids match, one load (and tags) when any differs', () => {
    const state = parseImages(recorded('converged', 'images'));
    const ids = { pg: imageOf(state, 'postgres:16.6')!.id, redis: imageOf(state, 'redis:7.4.1')!.id };
    const facts = factSetFrom([[imagesFact(), recorded('converged', 'images')]]);
    const same = new ImageArchive({
      archive: '/x/standins.tar',
      images: [
        { ref: 'postgres:16.6', archiveTag: 'hostkit-standin/postgres:1', id: ids.pg },
        { ref: 'redis:7.4.1', archiveTag: 'redis:7.4.1', id: ids.redis },
      ],
    });
    expect(same.plan(facts)).toEqual([]);
    const newer = new ImageArchive({
      archive: '/x/standins.tar',
      images: [
        { ref: 'postgres:16.6', archiveTag: 'hostkit-standin/postgres:1', id: `sha256:${'1'.repeat(64)}` },
        { ref: 'redis:7.4.1', archiveTag: 'redis:7.4.1', id: ids.redis },
      ],
    });
    const changes = newer.plan(facts);
    expect(summaries(changes)).toEqual([`image postgres:16.6 is ${ids.pg.slice(7, 19)}, archive has 111111111111: load from standins.tar`]);
    expect(changes[0]!.actions).toEqual([
      {
        kind: 'exec',
        script: 'set -e\ndocker load -q\ndocker tag hostkit-standin/postgres:1 postgres:16.6',
        stdin: { file: '/x/standins.tar' },
        display: 'docker load < /x/standins.tar && docker tag (1)',
      },
    ]);
  });
});

describe('images built or pulled', () => {
  const facts = (labels: Record<string, string> | undefined) =>
    factSetFrom([
      [imagesFact(), { value: { dockerInstalled: true, byTag: new Map(labels ? [['hostkit/app:1', { id: 'sha256:x', labels }]] : []) } }],
    ]);
  const ctxDir = { dir: '/src/app', tar: '/tmp/ctx.tar', hash: 'abc123' };

  it('builds when absent or when the context changed (label), sending the context on stdin', () => {
    const build = new ImageBuild({ ref: 'hostkit/app:1', context: ctxDir });
    expect(build.plan(facts({ [CONTEXT_LABEL]: 'abc123' }))).toEqual([]);
    expect(summaries(build.plan(facts({ [CONTEXT_LABEL]: 'old' })))).toEqual([
      'image hostkit/app:1 was built from another context: build from /src/app',
    ]);
    expect(build.plan(facts(undefined))[0]!.actions).toEqual([
      {
        kind: 'exec',
        script: `docker build -q -t hostkit/app:1 --label ${CONTEXT_LABEL}=abc123 - >/dev/null`,
        stdin: { file: '/tmp/ctx.tar' },
        display: 'docker build -t hostkit/app:1 /src/app',
      },
    ]);
  });

  it('pulls only an absent image (tags are pinned), and plans it with no registry', () => {
    const pull = new ImagePull({ ref: 'hostkit/app:1' });
    expect(pull.plan(facts({}))).toEqual([]);
    expect(pull.plan(facts(undefined))).toEqual([
      { summary: 'image hostkit/app:1 absent: pull', actions: [{ kind: 'exec', script: 'docker pull -q hostkit/app:1' }] },
    ]);
  });
});

describe('networks: NPM additively on every stack network, production isolation', () => {
  const plan = (kase: string) => {
    const facts = factSetFrom([
      [containersFact, recorded(kase, 'containers')],
      [networksFact, recorded(kase, 'networks')],
    ]);
    return networkResources(platform).map((r) => [r.id, r.plan(facts, ctx())] as const);
  };

  it('converged: NPM on all 7 networks, isolation holds', () => {
    const result = plan('converged');
    expect(result.map(([id]) => id)).toEqual([
      ...platform.stacks.map((s) => `npm on ${s.networks[0]!.name}`),
      'isolation of seller1-prod-stack',
    ]);
    expect(result.flatMap(([, c]) => c)).toEqual([]);
  });

  it('drifted: the missing connection, the foreign container, the production container on another network', () => {
    const drift = plan('drifted').flatMap(([, c]) => c);
    expect(summaries(drift)).toEqual([
      'connect pro-0kt-nginx to commerce-stack_commerce-network',
      'foreign container intruder is attached to production network seller1-prod-stack_seller1-prod-network: disconnect',
      'production container seller1-prod-redis is also attached to network side-net: disconnect',
    ]);
    // Connect is additive and finds both ends by compose labels on the host; never a disconnect.
    expect(scripts(drift)[0]).toContain(
      '--filter label=com.docker.compose.project=commerce-stack --filter label=com.docker.compose.network=commerce-network',
    );
    expect(scripts(drift)[0]).toContain('docker network connect "$net" "$ctr"');
    expect(scripts(drift)[0]).not.toContain('disconnect');
    expect(scripts(drift)[1]).toMatch(/^docker network disconnect [0-9a-f]{64} [0-9a-f]{64}$/);
  });
});

describe('describeState', () => {
  it('reads like a sentence', () => {
    const c = parseContainers(recorded('drifted', 'containers')).containers.find((x) => x.name === 'myshop-redis')!;
    expect(describeState(c)).toBe('exited (0)');
  });
});
