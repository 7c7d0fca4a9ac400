import { createTwoFilesPatch } from 'diff';
import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource } from '../engine/resource.js';
import { fileFact } from '../facts/file.js';
import { osReleaseFact, type OsRelease } from '../facts/docker.js';
import { renderTemplate } from '../templates.js';
import { RefusedError } from '../engine/errors.js';
import { quote, sh } from '../transports/quote.js';
import { APT_UPDATE } from './apt-packages.js';

/**
 * Where Docker comes from.
 * - debian: Debian's own packages. Debian 13 ships Docker 26 (docker.io + docker-cli) and Compose
 *   v2 (docker-compose, the CLI plugin). Debian 12's docker-compose is v1: refused there.
 * - docker-ce: Docker's apt repository (docker.repository.url), for Debian 12 / Ubuntu: signing key in
 *   /etc/apt/keyrings/docker.asc, a deb822 source, then docker-ce, docker-ce-cli, containerd.io,
 *   docker-buildx-plugin, docker-compose-plugin. (Not reachable from the sandbox: covered by plan
 *   tests from recorded facts, test/unit/docker-plan.test.ts.)
 */

export type DockerSource = 'debian' | 'docker-ce';

export const PACKAGES: Record<DockerSource, readonly string[]> = {
  debian: ['docker.io', 'docker-cli', 'docker-compose'],
  'docker-ce': ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin'],
};

export const KEYRING = '/etc/apt/keyrings/docker.asc';
export const SOURCES = '/etc/apt/sources.list.d/docker.sources';
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 -q';

export interface RepositorySpec {
  /** Required (the schema refuses docker-ce without it); the project names no repository host. */
  url: string;
  suite?: string;
  components: string[];
  key_url?: string;
  key?: string;
}

/** Distributions whose own packages are good enough for source "debian". */
export function checkDebianSource(os: OsRelease): string | undefined {
  if (os.id !== 'debian')
    return `source "debian" installs Debian's packages, but this host runs ${os.id} ${os.versionId}: use docker.source: docker-ce`;
  const major = Number(os.versionId.split('.')[0]);
  // testing/sid have no VERSION_ID: newer than 13.
  if (os.versionId !== '' && major < 13) {
    return `Debian ${os.versionId} (${os.codename}) has no Compose v2 package (its docker-compose is v1): use docker.source: docker-ce`;
  }
  return undefined;
}

/** Refuses (before anything is applied) a source that cannot give Docker + Compose v2 here. */
export class DockerSourceCheck extends BaseResource<{ source: DockerSource }> {
  protected readonly kind = 'docker source';
  protected override identity() {
    return this.spec.source;
  }
  get source(): DockerSource {
    return this.spec.source;
  }
  facts() {
    return [osReleaseFact];
  }
  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const os = facts.get(osReleaseFact);
    const problem = this.source === 'debian' ? checkDebianSource(os) : undefined;
    if (problem) throw new RefusedError(ctx.host.name, this.id, problem);
    if (this.source === 'docker-ce' && !['debian', 'ubuntu'].includes(os.id)) {
      throw new RefusedError(ctx.host.name, this.id, `Docker's apt repository serves Debian and Ubuntu; this host runs ${os.id}`);
    }
    return [];
  }
}

export function sourcesFile(spec: RepositorySpec, os: OsRelease): string {
  return renderTemplate('docker/docker.sources.hbs', {
    url: spec.url,
    suite: spec.suite ?? os.codename,
    components: spec.components,
    arch: os.arch,
    keyring: KEYRING,
  });
}

/** Fetch the key on the host (curl, installed first if missing) into the keyring, atomically. */
export function fetchKeyScript(url: string): string {
  return [
    'set -e',
    `if ! command -v curl >/dev/null 2>&1; then`,
    APT_UPDATE,
    `  ${APT} install -y --no-install-recommends curl ca-certificates`,
    'fi',
    'install -d -m 0755 /etc/apt/keyrings',
    `tmp=$(mktemp ${quote(`${KEYRING}.hostkit-XXXXXX`)})`,
    `trap 'rm -f "$tmp"' EXIT`,
    `curl -fsSL --retry 3 -o "$tmp" ${quote(url)}`,
    `grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$tmp" || { echo ${quote(`${url} did not return an ASCII-armored key`)} >&2; exit 1; }`,
    'chmod 0644 "$tmp"',
    `mv -f "$tmp" ${quote(KEYRING)}`,
  ].join('\n');
}

export class DockerAptRepository extends BaseResource<RepositorySpec> {
  protected readonly kind = 'docker apt repository';
  private readonly key = fileFact(KEYRING);
  private readonly sources = fileFact(SOURCES);

  facts() {
    return [osReleaseFact, this.key, this.sources];
  }

  plan(facts: FactSet): Change[] {
    const os = facts.get(osReleaseFact);
    const changes: Change[] = [];
    const key = facts.get(this.key);
    const keyUrl = this.spec.key_url ?? `${this.spec.url.replace(/\/$/, '')}/gpg`;
    if (this.spec.key !== undefined) {
      const want = this.spec.key.endsWith('\n') ? this.spec.key : `${this.spec.key}\n`;
      if (!key.exists || key.type !== 'file' || !key.content.equals(Buffer.from(want))) {
        changes.push({
          summary: `${key.exists ? 'replace' : 'install'} Docker's signing key ${KEYRING} (docker.repository.key)`,
          actions: [
            { kind: 'exec', script: sh(['install', '-d', '-m', '0755', '/etc/apt/keyrings']) },
            { kind: 'write', path: KEYRING, content: want, mode: '0644', owner: 'root', group: 'root' },
          ],
        });
      }
    } else if (!key.exists) {
      changes.push({
        summary: `download Docker's signing key ${keyUrl} -> ${KEYRING}`,
        actions: [{ kind: 'exec', script: fetchKeyScript(keyUrl), display: `curl -fsSL ${keyUrl} -o ${KEYRING}` }],
      });
    }
    const want = sourcesFile(this.spec, os);
    const cur = facts.get(this.sources);
    const have = cur.exists && cur.type === 'file' ? cur.content.toString('utf8') : undefined;
    if (have !== want) {
      changes.push({
        summary:
          have === undefined
            ? `add Docker's apt repository ${SOURCES} (${this.spec.suite ?? os.codename})`
            : `content of ${SOURCES} differs`,
        diff: createTwoFilesPatch(
          have === undefined ? '/dev/null' : SOURCES,
          SOURCES,
          have ?? '',
          want,
          have === undefined ? '' : 'current',
          'declared',
        ),
        actions: [{ kind: 'write', path: SOURCES, content: want, mode: '0644', owner: 'root', group: 'root' }],
      });
    }
    return changes;
  }
}
