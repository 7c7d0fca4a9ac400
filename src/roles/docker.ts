import type { Resource, Role } from '../engine/types.js';
import { handlersOf } from '../engine/resource.js';
import type { DockerConfig } from './docker.schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { Service } from '../resources/service.js';
import { DockerDaemonConfig, type Json } from '../resources/docker-daemon.js';
import { DockerAptRepository, DockerSourceCheck, PACKAGES } from '../resources/docker-repo.js';
import { DockerVersions } from '../resources/docker-versions.js';

/**
 * Docker Engine + Compose v2: from Debian's packages (Debian 13) or Docker's apt repository,
 * /etc/docker/daemon.json from the inventory (restart handler only when it changed), the engine
 * enabled and running, versions reported and held to the declared minimums.
 */
export function dockerResources(config: DockerConfig): { resources: Resource[] } {
  const resources: Resource[] = [new DockerSourceCheck({ source: config.source })];
  // daemon.json before the packages: on a fresh host the engine starts with it the first time.
  if (config.daemon) resources.push(new DockerDaemonConfig({ daemon: config.daemon as { [key: string]: Json } }));
  const prereqs: Resource[] = [];
  if (config.source === 'docker-ce') {
    const { url } = config.repository;
    // The schema refuses docker-ce without a url; this guards a config built in code.
    if (url === undefined) throw new Error('docker.repository.url is required with docker.source docker-ce');
    const repo = new DockerAptRepository({ ...config.repository, url });
    resources.push(repo);
    prereqs.push(repo);
  }
  const names = config.packages ?? PACKAGES[config.source];
  // The repository must come first.
  const pkgs = new AptPackages({ names }, { requires: prereqs });
  const service = new Service({ unit: 'docker.service', enabled: true, active: true }, { requires: [pkgs] });
  const versions = new DockerVersions(
    {
      ...(config.min_version ? { engine: config.min_version } : {}),
      ...(config.compose_min_version ? { compose: config.compose_min_version } : {}),
    },
    { requires: [pkgs, service] },
  );
  resources.push(pkgs, service, versions);
  return { resources };
}

export const dockerRole: Role<DockerConfig> = {
  name: 'docker',
  description:
    "Docker Engine + Compose v2 (Debian's packages, or Docker's apt repository with docker.source: docker-ce), " +
    '/etc/docker/daemon.json from the inventory, engine enabled and running, versions held to the declared minimums.',
  config: (inventory) => inventory.doc.docker,
  build(config) {
    const { resources } = dockerResources(config);
    return { resources, handlers: handlersOf(resources) };
  },
};
