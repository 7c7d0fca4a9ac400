import type { Resource, Role } from '../engine/types.js';
import { platformOf, findService, type PlatformModel } from '../platform/model.js';
import { NpmNetworkConnection, type NpmTarget } from '../resources/npm-network.js';
import { ProductionIsolation } from '../resources/network-isolation.js';

/** Resources of the networks role (exported for unit tests). */
export function networkResources(platform: PlatformModel): Resource[] {
  const resources: Resource[] = [];
  const npmService = platform.npm ? findService(platform, platform.npm.stack, platform.npm.service) : undefined;
  const npm: NpmTarget | undefined =
    platform.npm && npmService
      ? { stack: platform.npm.stack, service: platform.npm.service, containerName: npmService.containerName }
      : undefined;
  if (npm) {
    for (const ref of platform.npm!.networks) {
      const net = platform.stacks.find((s) => s.name === ref.stack)?.networks.find((n) => n.key === ref.network);
      if (net) resources.push(new NpmNetworkConnection({ npm, network: { stack: ref.stack, key: net.key, name: net.name } }));
    }
  }
  for (const stack of platform.stacks.filter((s) => s.layer === 'production')) {
    resources.push(new ProductionIsolation({ stack: { name: stack.name, networkKeys: stack.networks.map((n) => n.key) }, npm }));
  }
  return resources;
}

export const networksRole: Role<PlatformModel> = {
  name: 'networks',
  description:
    'Docker networks: the proxy (NPM) connected to every declared stack network, additively; production isolation audited and enforced (only production containers and NPM on its network).',
  config: (inventory) => platformOf(inventory),
  build(platform) {
    return { resources: networkResources(platform) };
  },
};
