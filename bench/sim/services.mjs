// Platforms of a given size for bench/scale.sh --services: the sandbox firewall and data
// sections plus `n` compose services in stacks of at most 10, so the time per host can be
// compared at 7 and 70 services.
import { defaultPlatformYaml } from '../../dist/sandbox/index.js';

export function servicesYaml(n) {
  const stacks = [];
  for (let s = 0; s * 10 < n; s++) {
    const count = Math.min(10, n - s * 10);
    const services = Array.from(
      { length: count },
      (_, i) => `      svc${s}x${i}:
        container_name: sim-s${s}-svc${i}
        image: busybox:1.36.1
        description: simulated service ${i} of stack ${s}
        command: ["sleep", "infinity"]
        volumes: ["python/s${s}-${i}:/data"]
        networks: [net]`,
    );
    stacks.push(`  sim-s${s}-stack:
    layer: infrastructure
    description: simulated stack ${s}
    networks:
      net: { name: sim-s${s}-stack_net }
    services:
${services.join('\n')}`);
  }
  return `${defaultPlatformYaml()}compose:
  dir: /opt/hostkit/stacks
stacks:
${stacks.join('\n')}
`;
}
