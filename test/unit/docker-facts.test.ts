import { describe, expect, it } from 'vitest';
import { factOutput } from '../fixtures/facts/fixture.mjs';
import { parseContainers } from '../../src/facts/containers.js';
import {
  API_ANSWERS,
  compareVersions,
  parseApiAnswers,
  parseDockerEngineProbe,
  parseOsRelease,
  versionParts,
} from '../../src/facts/docker.js';

/** The recorded outputs , now fact fixtures (test/fixtures/facts/README.md). */
const MOVED: Record<string, [string, string]> = {
  'engine-running.txt': ['docker.engine', 'running'],
  'engine-stopped.txt': ['docker.engine', 'stopped'],
  'os-release-trixie.txt': ['os.release', 'trixie'],
  'os-release-bookworm.txt': ['os.release', 'bookworm'],
  'os-release-noble.txt': ['os.release', 'noble'],
};
const fixture = (name: string) => factOutput(...MOVED[name]!).stdout;
const out = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });

describe('docker engine probe (recorded on Debian 13)', () => {
  it('reads the engine and compose versions from the JSON output', () => {
    expect(parseDockerEngineProbe(out(fixture('engine-running.txt')))).toEqual({
      cli: true,
      clientVersion: '26.1.5+dfsg1',
      engineVersion: '26.1.5+dfsg1',
      composeVersion: '2.26.1-4',
    });
  });

  it('a stopped engine (docker.socket still active) is not asked, so never socket-activated', () => {
    const s = parseDockerEngineProbe(out(fixture('engine-stopped.txt')));
    expect(s).toEqual({ cli: true, versionError: 'docker.service is not running', composeVersion: '2.26.1-4' });
  });

  it('a daemon that does not answer: client version and the reason', () => {
    const text =
      '\n@@hostkit-docker version@@\n{"Client":{"Version":"26.1.5+dfsg1"},"Server":null}\n' +
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n\n@@hostkit-docker end@@\n';
    expect(parseDockerEngineProbe(out(text))).toEqual({
      cli: true,
      clientVersion: '26.1.5+dfsg1',
      versionError: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
  });

  it('no docker CLI at all', () => {
    expect(parseDockerEngineProbe(out('\n@@hostkit-docker end@@\n'))).toEqual({ cli: false });
  });

  it('compose missing: the CLI says so', () => {
    const text = fixture('engine-running.txt').replace(/\{"version":"2.26.1-4"\}/, "docker: 'compose' is not a docker command.");
    const s = parseDockerEngineProbe(out(text));
    expect(s.composeVersion).toBeUndefined();
    expect(s.composeError).toBe("docker: 'compose' is not a docker command.");
  });

  it('a cut-short output is an error, never "not installed"', () => {
    expect(() => parseDockerEngineProbe(out('\n@@hostkit-docker version@@\n{"Client"'))).toThrow(/incomplete/);
  });
});

describe("the Engine API's answers of one curl (apiGetEach)", () => {
  const recorded = factOutput('docker.containers', 'removed-meanwhile');

  it('keeps the 200s in order and leaves out a 404 (removed after the list), as docker inspect || true', () => {
    expect(parseApiAnswers<{ Name: string }>(recorded.stdout).map((c) => c.Name)).toEqual(['/python-dev', '/python-tst']);
  });

  it('no objects listed: no answers', () => {
    expect(parseApiAnswers(`${API_ANSWERS}\n`)).toEqual([]);
  });

  it('an answer cut short, another status, a body that is not JSON: errors', () => {
    expect(() => parseApiAnswers(recorded.stdout.slice(0, -30))).toThrow(/cut short/);
    expect(() => parseApiAnswers(`${API_ANSWERS}\n{"message":"boom"}\n\n@@hostkit-api 500@@\n`)).toThrow(
      /answered 500: \{"message":"boom"\}/,
    );
    expect(() => parseApiAnswers(`${API_ANSWERS}\n{"Id":\n\n@@hostkit-api 200@@\n`)).toThrow(/not JSON/);
    expect(() => parseApiAnswers('[]\n')).toThrow(/not the Engine API/);
  });

  it('curl failing part way (the daemon gone) fails the fact, whatever was printed', () => {
    expect(() => parseContainers({ ...recorded, exitCode: 7, stderr: 'curl: (7) Failed to connect' })).toThrow(/exit 7\): curl: \(7\)/);
  });
});

describe('versions', () => {
  it('parses Debian and upstream version strings', () => {
    expect(versionParts('26.1.5+dfsg1')).toEqual([26, 1, 5]);
    expect(versionParts('2.26.1-4')).toEqual([2, 26, 1]);
    expect(versionParts('v2.29.7')).toEqual([2, 29, 7]);
    expect(versionParts('5:27.3.1-1~debian.12~bookworm')).toEqual([27, 3, 1]);
  });
  it('compares numerically, missing parts as 0', () => {
    expect(compareVersions('26.1.5+dfsg1', '26.0')).toBeGreaterThan(0);
    expect(compareVersions('26.1', '26.1.0')).toBe(0);
    expect(compareVersions('2.26.1-4', '2.30')).toBeLessThan(0);
    expect(compareVersions('10.0', '9.9')).toBeGreaterThan(0);
  });
});

describe('os-release', () => {
  it('Debian 13 target', () => {
    expect(parseOsRelease(fixture('os-release-trixie.txt'))).toEqual({ id: 'debian', versionId: '13', codename: 'trixie', arch: 'amd64' });
  });
  it('Debian 12', () => {
    expect(parseOsRelease(fixture('os-release-bookworm.txt'))).toMatchObject({ id: 'debian', versionId: '12', codename: 'bookworm' });
  });
  it('Ubuntu 24.04 on arm64', () => {
    expect(parseOsRelease(fixture('os-release-noble.txt'))).toEqual({ id: 'ubuntu', versionId: '24.04', codename: 'noble', arch: 'arm64' });
  });
  it('no ID: an error', () => {
    expect(() => parseOsRelease('NAME=x\n')).toThrow(/no ID/);
  });
});
