import type { Finding, Path, Where } from '../schema/check.js';
import { parsePublishedPort, type PlatformSections } from './schema.js';

const isLoopback = (ip: string) => ip.startsWith('127.');
const overlaps = (a: string, b: string) => a === b || a === '0.0.0.0' || b === '0.0.0.0';

/**
 * Cross-field rules of the platform sections that a schema cannot express, each reported at the
 * value to edit: duplicate container or network names, a host port published twice, a public
 * binding outside the proxy, a service on a network its stack does not declare, unknown
 * depends_on, volumes outside the declared data directories, image sources missing their path,
 * and NPM connections naming unknown stacks or networks. Nothing here reads a file.
 */
export function checkPlatform(doc: PlatformSections, where: Where): Finding[] {
  const problems: Finding[] = [];
  const at = (path: Path, message: string) => problems.push({ ...where.value(path), message });
  const atKey = (path: Path, message: string) => problems.push({ ...where.key(path), message });
  /** "line 3, column 5" of an earlier definition, with its file when that is another one. */
  const line = (path: Path, from?: Path) => {
    const p = where.value(path);
    const other = from && where.value(from).file !== p.file ? `${p.file} ` : '';
    return `${other}line ${p.line}, column ${p.col}`;
  };
  const stacks = Object.entries(doc.stacks ?? {});
  const dataDirs = doc.data ? new Set(doc.data.directories.map((d) => d.path.replace(/\/+$/, '').split('/')[0]!)) : undefined;
  const proxy = doc.npm ? `${doc.npm.stack}/${doc.npm.service}` : undefined;

  const containers = new Map<string, Path>();
  const networkNames = new Map<string, Path>();
  const published: { ip: string; port: number; proto: string; path: Path }[] = [];
  const usedImages = new Set<string>();

  for (const [stackName, stack] of stacks) {
    const base: Path = ['stacks', stackName];
    for (const [key, net] of Object.entries(stack.networks)) {
      const path = [...base, 'networks', key, 'name'];
      const first = networkNames.get(net.name);
      if (first) at(path, `duplicate network name "${net.name}" (first given at ${line(first, path)})`);
      else networkNames.set(net.name, path);
    }
    const declaredNets = Object.keys(stack.networks);
    for (const [svcName, svc] of Object.entries(stack.services)) {
      const sp: Path = [...base, 'services', svcName];
      usedImages.add(svc.image);

      const first = containers.get(svc.container_name);
      if (first)
        at(
          [...sp, 'container_name'],
          `duplicate container name "${svc.container_name}" (first given at ${line(first, [...sp, 'container_name'])})`,
        );
      else containers.set(svc.container_name, [...sp, 'container_name']);

      svc.networks.forEach((n, i) => {
        if (!declaredNets.includes(n)) {
          at(
            [...sp, 'networks', i],
            `network "${n}" is not declared in stacks.${stackName}.networks (declared: ${declaredNets.join(', ') || 'none'})`,
          );
        }
      });
      svc.depends_on.forEach((d, i) => {
        if (!stack.services[d])
          at(
            [...sp, 'depends_on', i],
            `depends_on "${d}": no such service in stack ${stackName} (services: ${Object.keys(stack.services).join(', ')})`,
          );
        else if (d === svcName) at([...sp, 'depends_on', i], `a service cannot depend on itself`);
      });

      svc.ports.forEach((spec, i) => {
        const p = parsePublishedPort(spec);
        const path = [...sp, 'ports', i];
        if (p.hostPort < 1 || p.hostPort > 65535 || p.containerPort < 1 || p.containerPort > 65535) {
          at(path, `port numbers must be 1..65535, got "${spec}"`);
          return;
        }
        const clash = published.find((o) => o.port === p.hostPort && o.proto === p.protocol && overlaps(o.ip, p.hostIp));
        if (clash) at(path, `host port ${p.hostPort}/${p.protocol} is published twice (first at ${line(clash.path, path)})`);
        else published.push({ ip: p.hostIp, port: p.hostPort, proto: p.protocol, path });
        if (!isLoopback(p.hostIp) && `${stackName}/${svcName}` !== proxy) {
          at(
            path,
            `"${spec}" publishes on a public address; only the proxy (npm: ${proxy ?? 'not declared'}) may. Bind to 127.0.0.1 and use an SSH tunnel, or use expose:`,
          );
        }
      });

      svc.volumes.forEach((spec, i) => {
        const source = spec.split(':')[0]!;
        if (source.split('/').includes('..')) at([...sp, 'volumes', i], `a volume source without ".." components, got "${spec}"`);
        else if (!source.startsWith('/') && dataDirs && !dataDirs.has(source.replace(/^\.\//, '').split('/')[0]!)) {
          at([...sp, 'volumes', i], `"${source}" is not under a declared data directory (data.directories: ${[...dataDirs].join(', ')})`);
        }
      });

      if (svc.installer) {
        const ports = [...svc.expose, ...svc.ports.map((spec) => parsePublishedPort(spec).containerPort)];
        if (!ports.includes(svc.installer.port))
          at(
            [...sp, 'installer', 'port'],
            `port ${svc.installer.port} is not a port of the service (expose/ports: ${ports.join(', ') || 'none'})`,
          );
      }

      const test = svc.healthcheck?.test;
      if (Array.isArray(test) && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) {
        at([...sp, 'healthcheck', 'test', 0], `a healthcheck test list starts with "CMD" or "CMD-SHELL", got ${JSON.stringify(test[0])}`);
      }
    }
  }

  for (const [ref, src] of Object.entries(doc.images ?? {})) {
    const path: Path = ['images', ref];
    if (!usedImages.has(ref)) atKey(path, `image "${ref}" is not used by any service`);
    if (src.source === 'archive' && !src.archive)
      at([...path, 'source'], 'source "archive" needs "archive: <path of a docker save tarball>"');
    if (src.source === 'build' && !src.context) at([...path, 'source'], 'source "build" needs "context: <build context directory>"');
    if (src.source !== 'archive' && (src.archive || src.archive_tag))
      at([...path, 'source'], `"archive"/"archive_tag" only apply to source "archive", got source "${src.source}"`);
    if (src.source !== 'build' && (src.context || src.dockerfile))
      at([...path, 'source'], `"context"/"dockerfile" only apply to source "build", got source "${src.source}"`);
  }

  if (doc.npm) {
    const stack = doc.stacks?.[doc.npm.stack];
    if (!stack) at(['npm', 'stack'], `no stack "${doc.npm.stack}" in stacks (stacks: ${stacks.map(([n]) => n).join(', ') || 'none'})`);
    else if (!stack.services[doc.npm.service]) at(['npm', 'service'], `no service "${doc.npm.service}" in stack ${doc.npm.stack}`);
    doc.npm.networks.forEach((ref, i) => {
      const target = doc.stacks?.[ref.stack];
      if (!target) at(['npm', 'networks', i, 'stack'], `no stack "${ref.stack}" in stacks`);
      else if (!target.networks[ref.network]) {
        at(
          ['npm', 'networks', i, 'network'],
          `stack ${ref.stack} declares no network "${ref.network}" (declared: ${Object.keys(target.networks).join(', ')})`,
        );
      }
    });
  }
  return problems;
}
