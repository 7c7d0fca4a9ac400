import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { COMPOSE_LABEL, containersFact, serviceContainer } from '../facts/containers.js';
import { composeNetwork, networksFact } from '../facts/networks.js';
import { sh } from '../transports/quote.js';
import type { NpmTarget } from './npm-network.js';

/**
 * Production isolation (seed ADR-002): on a production stack's networks only that stack's
 * containers and the proxy; the stack's containers on no other network. Each violation is
 * drift, repaired by disconnecting exactly that container from exactly that network.
 */
export interface IsolationSpec {
  stack: { name: string; networkKeys: string[] };
  /** The proxy, the one container from outside the stack allowed on its networks. */
  npm?: NpmTarget | undefined;
}

export class ProductionIsolation extends BaseResource<IsolationSpec> {
  protected readonly kind = 'isolation of';
  private readonly stack;
  private readonly npm;

  constructor(spec: IsolationSpec, options?: ResourceOptions) {
    super(spec, options);
    this.stack = spec.stack;
    this.npm = spec.npm;
  }

  protected override identity() {
    return this.stack.name;
  }

  facts() {
    return [containersFact, networksFact];
  }

  plan(facts: FactSet): Change[] {
    const containers = facts.get(containersFact);
    const networks = facts.get(networksFact);
    const own = this.stack.networkKeys.flatMap((k) => composeNetwork(networks, this.stack.name, k) ?? []);
    const ownIds = new Set(own.map((n) => n.id));
    const proxy = this.npm ? serviceContainer(containers, this.npm.stack, this.npm.service) : undefined;
    const changes: Change[] = [];
    const disconnect = (summary: string, networkId: string, containerId: string, display: string): Change => ({
      summary,
      actions: [{ kind: 'exec', script: sh(['docker', 'network', 'disconnect', networkId, containerId]), display }],
    });
    for (const c of containers.containers) {
      const isProduction = c.labels[COMPOSE_LABEL.project] === this.stack.name;
      for (const n of c.networks) {
        if (isProduction && !ownIds.has(n.id)) {
          changes.push(
            disconnect(
              `production container ${c.name} is also attached to network ${n.name}: disconnect`,
              n.id,
              c.id,
              `docker network disconnect ${n.name} ${c.name}`,
            ),
          );
        } else if (!isProduction && ownIds.has(n.id) && c.id !== proxy?.id) {
          changes.push(
            disconnect(
              `foreign container ${c.name} is attached to production network ${n.name}: disconnect`,
              n.id,
              c.id,
              `docker network disconnect ${n.name} ${c.name}`,
            ),
          );
        }
      }
    }
    return changes;
  }
}
