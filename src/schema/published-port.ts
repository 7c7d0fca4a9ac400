export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** As written: "127.0.0.1:81:81". */
  spec: string;
}

/** A published port as the schema accepts it ("127.0.0.1:81:81", "0.0.0.0:53:53/udp"). */
export function parsePublishedPort(spec: string): PublishedPort {
  const [binding, protocol = 'tcp'] = spec.split('/');
  const [hostIp, hostPort, containerPort] = binding!.split(':');
  return { hostIp: hostIp!, hostPort: Number(hostPort), containerPort: Number(containerPort), protocol: protocol as 'tcp' | 'udp', spec };
}
