import type { Resource, Role } from '../engine/types.js';
import type { DockerConfig } from './docker.schema.js';
import { AptPackages } from '../resources/apt-packages.js';
import { Service } from '../resources/service.js';
import { DockerDaemonConfig, RESTART_DOCKER, type Json } from '../resources/docker-daemon.js';
import { DockerAptRepository, DockerSourceCheck, PACKAGES } from '../resources/docker-repo.js';
import { DockerVersions } from '../resources/docker-versions.js';

/**
 * Docker Engine + Compose v2: from Debian's packages (Debian 13) or Docker's apt repository,
 * /etc/docker/daemon.json from the inventory (restart handler only when it changed), the engine
 * enabled and running, versions reported and held to the declared minimums.
 */
export function dockerResources(config: DockerConfig): { resources: Resource[] } {
  const resources: Resource[] = [new DockerSourceCheck(config.source)];
  // daemon.json before the packages: on a fresh host the engine starts with it the first time.
  if (config.daemon) resources.push(new DockerDaemonConfig(config.daemon as { [key: string]: Json }));
  const prereqs: string[] = [];
  if (config.source === 'docker-ce') {
    const repo = new DockerAptRepository(config.repository);
    resources.push(repo);
    prereqs.push(repo.id);
  }
  const names = config.packages ?? PACKAGES[config.source];
  // AptPackages takes no prerequisites of its own; the repository must come first.
  const pkgs: Resource = Object.assign(new AptPackages(names, `packages ${names.join(' ')}`), { requires: prereqs });
  const service = new Service({ unit: 'docker.service', enabled: true, active: true, requires: [pkgs.id] });
  const versions = new DockerVersions(
    {
      ...(config.min_version ? { engine: config.min_version } : {}),
      ...(config.compose_min_version ? { compose: config.compose_min_version } : {}),
    },
    [pkgs.id, service.id],
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
    return {
      ...dockerResources(config),
      handlers: [
        {
          id: RESTART_DOCKER,
          actions: [{ kind: 'exec', script: 'systemctl restart docker.service', display: 'systemctl restart docker' }],
        },
      ],
    };
  },
};
