import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRole } from '../../src/engine/role-input.js';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { factSetFrom } from '../../src/engine/gather.js';
import type { Change, PlanContext, Resource } from '../../src/engine/types.js';
import { dockerEngineFact, osReleaseFact, parseDockerEngineProbe, parseOsRelease } from '../../src/facts/docker.js';
import { fileFact, type FileState } from '../../src/facts/file.js';
import { packagesFact } from '../../src/facts/packages.js';
import { unitFact } from '../../src/facts/systemd.js';
import {
  canonicalJson,
  jsonChangedPaths,
  jsonEqual,
  planDaemonJson,
  renderDaemonJson,
  DAEMON_JSON,
} from '../../src/resources/docker-daemon.js';
import {
  checkDebianSource,
  DockerAptRepository,
  DockerSourceCheck,
  KEYRING,
  SOURCES,
  sourcesFile,
} from '../../src/resources/docker-repo.js';
import { describeVersions, planVersions } from '../../src/resources/docker-versions.js';
import { dockerRole } from '../../src/roles/docker.js';
import { parseInventory } from '../../src/inventory/index.js';
import type { HostConfig } from '../../src/inventory/types.js';

/** The recorded outputs , now fact fixtures (test/fixtures/facts/README.md). */
const MOVED: Record<string, [string, string]> = {
  'engine-running.txt': ['docker.engine', 'running'],
  'engine-stopped.txt': ['docker.engine', 'stopped'],
  'os-release-trixie.txt': ['os.release', 'trixie'],
  'os-release-bookworm.txt': ['os.release', 'bookworm'],
  'os-release-noble.txt': ['os.release', 'noble'],
};
const fixture = (name: string) => factOutput(...MOVED[name]!).stdout;
const os = (name: string) => parseOsRelease(fixture(name));
const host = { name: 'web1' } as HostConfig;
const ctx = (pending: string[] = []): PlanContext => ({ host, mode: 'check', pendingPrerequisites: pending });
const file = (path: string, content: string, meta: { owner?: string; group?: string; mode?: string } = {}): FileState => ({
  path,
  exists: true,
  type: 'file',
  owner: meta.owner ?? 'root',
  group: meta.group ?? 'root',
  mode: meta.mode ?? '0644',
  content: Buffer.from(content),
});
const absent = (path: string): FileState => ({ path, exists: false });
const scripts = (changes: Change[]) =>
  changes.flatMap((c) => c.actions.map((a) => (a.kind === 'exec' ? (a.display ?? a.script) : `write ${a.path}`)));

const SEED_DAEMON = {
  'log-driver': 'json-file',
  'log-opts': { 'max-size': '10m', 'max-file': '3' },
  'live-restore': true,
  'default-address-pools': [{ base: '172.30.0.0/16', size: 24 }],
};

describe('daemon.json: rendered through the template, compared as JSON', () => {
  const rendered = renderDaemonJson(SEED_DAEMON);

  it('renders the inventory map as canonical JSON (sorted keys)', () => {
    expect(rendered).toBe(canonicalJson(SEED_DAEMON));
    expect(JSON.parse(rendered)).toEqual(SEED_DAEMON);
    expect(rendered.indexOf('"default-address-pools"')).toBeLessThan(rendered.indexOf('"log-driver"'));
  });

  it('creates a missing file, validated by dockerd before it replaces anything', () => {
    const changes = planDaemonJson(rendered, absent(DAEMON_JSON));
    expect(changes.map((c) => c.summary)).toEqual([`create ${DAEMON_JSON} (default-address-pools, live-restore, log-driver, log-opts)`]);
    const write = changes[0]!.actions[1]!;
    expect(write.kind === 'exec' && write.script).toContain('dockerd --validate --config-file "$tmp"');
  });

  it('same settings in another layout and key order: no change', () => {
    const other =
      '{"log-opts":{"max-file":"3","max-size":"10m"},"live-restore":true,\n"log-driver":"json-file","default-address-pools":[{"size":24,"base":"172.30.0.0/16"}]}';
    expect(planDaemonJson(rendered, file(DAEMON_JSON, other))).toEqual([]);
  });

  it('a hand edit is drift with a JSON diff naming the keys', () => {
    const edited = JSON.stringify({ ...SEED_DAEMON, debug: true, 'log-opts': { 'max-size': '50m', 'max-file': '3' } });
    const [change, ...rest] = planDaemonJson(rendered, file(DAEMON_JSON, edited));
    expect(rest).toEqual([]);
    expect(change!.summary).toBe(`${DAEMON_JSON} differs from docker.daemon (debug, log-opts.max-size)`);
    expect(change!.diff).toContain('-  "debug": true,');
    expect(change!.diff).toContain('-    "max-size": "50m"');
    expect(change!.diff).toContain('+    "max-size": "10m"');
    // Only real differences: unchanged keys are context, never -/+.
    expect(change!.diff).not.toMatch(/^[-+]\s+"live-restore"/m);
  });

  it('arrays compare by position', () => {
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonChangedPaths({ a: { b: 1, c: 2 } }, { a: { b: 1 }, d: 1 })).toEqual(['a.c', 'd']);
  });

  it('invalid JSON on the host is rewritten', () => {
    const [change] = planDaemonJson(rendered, file(DAEMON_JSON, '{"debug": true,'));
    expect(change!.summary).toMatch(/is not valid JSON/);
  });

  it('right content, wrong mode: chmod only', () => {
    expect(scripts(planDaemonJson(rendered, file(DAEMON_JSON, rendered, { mode: '0600' })))).toEqual([
      'chmod 0644 /etc/docker/daemon.json',
    ]);
  });
});

describe('source debian (Debian 13 packages)', () => {
  it('accepts Debian 13, refuses Debian 12 (Compose v1 only) and Ubuntu', () => {
    expect(checkDebianSource(os('os-release-trixie.txt'))).toBeUndefined();
    expect(checkDebianSource(os('os-release-bookworm.txt'))).toMatch(/Debian 12 \(bookworm\) has no Compose v2 package.*docker-ce/);
    expect(checkDebianSource(os('os-release-noble.txt'))).toMatch(/runs ubuntu 24.04: use docker.source: docker-ce/);
  });
  it('refuses the whole role before anything is applied', () => {
    const facts = factSetFrom([[osReleaseFact, { value: os('os-release-bookworm.txt') }]]);
    expect(() => new DockerSourceCheck({ source: 'debian' }).plan(facts, ctx())).toThrow(/refused: Debian 12/);
    expect(new DockerSourceCheck({ source: 'docker-ce' }).plan(facts, ctx())).toEqual([]);
  });
});

describe("source docker-ce (Docker's apt repository, from recorded facts: not reachable here)", () => {
  const spec = { url: 'https://docker-apt.example.net/linux/debian', components: ['stable'] };
  const plan = (osName: string, key: FileState, sources: FileState, s: Parameters<typeof sourcesFile>[0] = spec) => {
    const repo = new DockerAptRepository(s);
    return repo.plan(
      factSetFrom([
        [osReleaseFact, { value: os(osName) }],
        [fileFact(KEYRING), { value: key }],
        [fileFact(SOURCES), { value: sources }],
      ]),
    );
  };

  it('Debian 12: downloads the key and adds a deb822 source for bookworm', () => {
    const changes = plan('os-release-bookworm.txt', absent(KEYRING), absent(SOURCES));
    expect(changes.map((c) => c.summary)).toEqual([
      `download Docker's signing key https://docker-apt.example.net/linux/debian/gpg -> ${KEYRING}`,
      `add Docker's apt repository ${SOURCES} (bookworm)`,
    ]);
    expect(sourcesFile(spec, os('os-release-bookworm.txt'))).toBe(
      [
        "# Docker's own apt repository, managed by hostkit roles/docker.mjs (docker.source: docker-ce)",
        'Types: deb',
        'URIs: https://docker-apt.example.net/linux/debian',
        'Suites: bookworm',
        'Components: stable',
        'Architectures: amd64',
        `Signed-By: ${KEYRING}`,
        '',
      ].join('\n'),
    );
    const fetch = changes[0]!.actions[0]!;
    expect(fetch.kind === 'exec' && fetch.script).toContain(
      'curl -fsSL --retry 3 -o "$tmp" https://docker-apt.example.net/linux/debian/gpg',
    );
  });

  it('Ubuntu 24.04 arm64: the ubuntu repository, noble, arm64', () => {
    const text = sourcesFile({ ...spec, url: 'https://docker-apt.example.net/linux/ubuntu' }, os('os-release-noble.txt'));
    expect(text).toContain('URIs: https://docker-apt.example.net/linux/ubuntu\nSuites: noble\n');
    expect(text).toContain('Architectures: arm64\n');
  });

  it('converged: key present (never re-downloaded), source identical', () => {
    const want = sourcesFile(spec, os('os-release-bookworm.txt'));
    expect(plan('os-release-bookworm.txt', file(KEYRING, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n'), file(SOURCES, want))).toEqual([]);
  });

  it('a mirror and an inline key from the inventory', () => {
    const key = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----';
    const s = { components: ['stable', 'test'], url: 'https://mirror.example/docker/debian', key };
    const changes = plan('os-release-bookworm.txt', file(KEYRING, 'old'), absent(SOURCES), s);
    expect(changes[0]!.summary).toBe(`replace Docker's signing key ${KEYRING} (docker.repository.key)`);
    expect(changes[0]!.actions.at(-1)).toMatchObject({ kind: 'write', path: KEYRING, content: `${key}\n`, mode: '0644' });
    expect(sourcesFile(s, os('os-release-bookworm.txt'))).toContain(
      'URIs: https://mirror.example/docker/debian\nSuites: bookworm\nComponents: stable test\n',
    );
  });

  it('docker-ce without docker.repository.url is refused at its inventory position (no built-in repository host)', () => {
    expect(() => parseInventory('all: { hosts: { web1: { address: 10.0.0.1 } } }\ndocker: { source: docker-ce }\n', 'inline.yaml')).toThrow(
      /docker\.repository\.url|repository\.url/,
    );
  });

  it('the role: repository, then docker-ce packages (apt-get update picks the new source up)', () => {
    const inv = parseInventory(
      'all: { hosts: { web1: { address: 10.0.0.1 } } }\n' +
        'docker: { source: docker-ce, min_version: "27.0", repository: { url: "https://docker-apt.example.net/linux/debian" } }\n',
      'inline.yaml',
    );
    const { resources } = buildRole(dockerRole, inv, inv.hosts[0]!);
    expect(resources.map((r) => r.id)).toEqual([
      'docker source docker-ce',
      'docker apt repository',
      'packages docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
      'service docker.service',
      'docker versions',
    ]);
    expect(resources[2]!.requires).toEqual(['docker apt repository']);
    // On a Debian 12 host without Docker, --check shows the whole path.
    const byId = (id: string) => resources.find((r) => r.id === id)! as Resource;
    const facts = factSetFrom([
      [osReleaseFact, { value: os('os-release-bookworm.txt') }],
      [fileFact(KEYRING), { value: absent(KEYRING) }],
      [fileFact(SOURCES), { value: absent(SOURCES) }],
      [
        packagesFact(['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin']),
        { stdout: '', stderr: '', exitCode: 0 },
      ],
      [unitFact('docker.service'), { stdout: 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n', stderr: '', exitCode: 0 }],
      [dockerEngineFact, { value: parseDockerEngineProbe({ stdout: '\n@@hostkit-docker end@@\n', stderr: '', exitCode: 0 }) }],
    ]);
    expect(
      byId(resources[2]!.id)
        .plan(facts, ctx(['docker apt repository']))
        .map((c) => c.summary),
    ).toEqual(['install docker-ce, docker-ce-cli, containerd.io, docker-buildx-plugin, docker-compose-plugin']);
    expect(byId('docker versions').plan(facts, ctx(['service docker.service']))).toEqual([]);
  });
});

describe('versions against the declared minimums', () => {
  const running = parseDockerEngineProbe({ stdout: fixture('engine-running.txt'), stderr: '', exitCode: 0 });
  it('reports both versions', () => {
    expect(describeVersions(running, { engine: '26.0', compose: '2.20' })).toEqual([
      'docker engine 26.1.5+dfsg1 (minimum 26.0), compose 2.26.1-4 (minimum 2.20)',
    ]);
  });
  it('at or above the minimums: nothing', () => {
    expect(planVersions(running, { engine: '26.1.5', compose: '2.26' }, false)).toEqual([]);
  });
  it('below: drift in --check, an action that fails in apply', () => {
    const changes = planVersions(running, { engine: '27.0', compose: '2.30' }, false);
    expect(changes.map((c) => c.summary)).toEqual([
      'docker engine 26.1.5+dfsg1 is below the declared minimum 27.0 (docker.min_version)',
      'docker compose 2.26.1-4 is below the declared minimum 2.30 (docker.compose_min_version)',
    ]);
    const a = changes[0]!.actions[0]!;
    expect(a.kind === 'exec' && a.script).toMatch(/>&2; exit 1$/);
  });
  it('engine down: drift naming the reason (unless a prerequisite will start it)', () => {
    const stopped = parseDockerEngineProbe({ stdout: fixture('engine-stopped.txt'), stderr: '', exitCode: 0 });
    expect(planVersions(stopped, {}, false)[0]!.summary).toBe('the docker engine does not answer (docker.service is not running)');
    expect(planVersions(stopped, {}, true)).toEqual([]);
  });
});

describe('the docker role for the seed inventory', () => {
  it('builds daemon.json, Debian packages, the service and the version check, with one restart handler', () => {
    const inv = parseInventory(readFileSync(new URL('../../inventory.yaml', import.meta.url), 'utf8'), 'inventory.yaml');
    const built = buildRole(dockerRole, inv, inv.hosts[0]!);
    expect(built.resources.map((r) => r.id)).toEqual([
      'docker source debian',
      'file /etc/docker/daemon.json',
      'packages docker.io docker-cli docker-compose',
      'service docker.service',
      'docker versions',
    ]);
    expect(built.handlers?.map((h) => h.id)).toEqual(['restart docker']);
    expect(built.resources[1]!.notify).toEqual(['restart docker']);
  });
});

describe('inventory: docker and firewall additions', () => {
  const parse = (yaml: string) => parseInventory(`all: { hosts: { web1: { address: 10.0.0.1 } } }\n${yaml}`, 'inline.yaml');
  it('defaults', () => {
    const inv = parse('docker: {}\nfirewall: { rules: ["22/tcp"] }\n');
    expect(inv.doc.docker).toEqual({ source: 'debian', repository: { components: ['stable'] } });
    expect(inv.doc.firewall).toMatchObject({ docker: false, deadman_timeout: 60, local_only: [] });
  });
  it('refuses bad values with their position', () => {
    expect(() => parse('docker: { source: snap }\n')).toThrow(/docker\.source/);
    expect(() => parse('docker: { min_version: "latest" }\n')).toThrow(/a version like "26.1"/);
    expect(() => parse('docker: { daemon: { debug: true }, deamon: {} }\n')).toThrow(/deamon/);
    expect(() => parse('firewall: { deadman_timeout: 3 }\n')).toThrow(/a number of seconds 10\.\.3600/);
    expect(() => parse('firewall: { local_only: ["81/icmp"] }\n')).toThrow(/firewall\.local_only/);
  });
});
