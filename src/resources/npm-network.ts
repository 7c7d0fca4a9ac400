import type { Change, FactSet } from '../engine/types.js';
import { BaseResource, type ResourceOptions } from '../engine/resource.js';
import { COMPOSE_LABEL, containersFact, serviceContainer } from '../facts/containers.js';
import { composeNetwork, networksFact } from '../facts/networks.js';
import { sh } from '../transports/quote.js';

export interface NpmTarget {
  /** The proxy's compose project and service (labels). */
  stack: string;
  service: string;
  /** Declared container name, for messages before the container exists. */
  containerName: string;
}

export interface StackNetworkRef {
  stack: string;
  key: string;
  /** Declared network name, for messages before the network exists. */
  name: string;
}

/**
 * The proxy container connected to one stack network, additively: `docker network connect` and
 * nothing else (never a disconnect, unlike a declarative network module that owns the member
 * list). Container and network are found by their compose labels, on the host, when it runs.
 */
export interface NpmNetworkSpec {
  npm: NpmTarget;
  network: StackNetworkRef;
}

export class NpmNetworkConnection extends BaseResource<NpmNetworkSpec> {
  protected readonly kind = 'npm on';
  private readonly npm;
  private readonly network;

  constructor(spec: NpmNetworkSpec, options?: ResourceOptions) {
    super(spec, options);
    this.npm = spec.npm;
    this.network = spec.network;
  }

  protected override identity() {
    return this.network.name;
  }

  facts() {
    return [containersFact, networksFact];
  }

  plan(facts: FactSet): Change[] {
    const container = serviceContainer(facts.get(containersFact), this.npm.stack, this.npm.service);
    const network = composeNetwork(facts.get(networksFact), this.network.stack, this.network.key);
    if (container && network && container.networks.some((n) => n.id === network.id)) return [];
    const who = container?.name ?? this.npm.containerName;
    const where = network?.name ?? this.network.name;
    const why = !container ? ' (proxy container not created yet)' : !network ? ' (network not created yet)' : '';
    return [
      {
        summary: `connect ${who} to ${where}${why}`,
        actions: [{ kind: 'exec', script: this.connectScript(), display: `docker network connect ${where} ${who}` }],
      },
    ];
  }

  private connectScript(): string {
    const label = (k: string, v: string) => sh([`label=${k}=${v}`]);
    const { npm, network } = this;
    return [
      `net=$(docker network ls -q --no-trunc --filter ${label(COMPOSE_LABEL.project, network.stack)} --filter ${label(COMPOSE_LABEL.network, network.key)})`,
      `ctr=$(docker ps -aq --no-trunc --filter ${label(COMPOSE_LABEL.project, npm.stack)} --filter ${label(COMPOSE_LABEL.service, npm.service)})`,
      `[ -n "$net" ] || { echo ${sh([`network ${network.key} of stack ${network.stack} does not exist: bring the stack up first (stacks role)`])} >&2; exit 1; }`,
      `[ -n "$ctr" ] || { echo ${sh([`no container for service ${npm.service} of stack ${npm.stack}: bring the stack up first (stacks role)`])} >&2; exit 1; }`,
      // Idempotent even if something connected it since the facts were read.
      `docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$v.NetworkID}} {{end}}' "$ctr" | grep -qw "$net" || docker network connect "$net" "$ctr"`,
    ].join('\n');
  }
}
