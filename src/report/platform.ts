import type { InventoryDocument } from '../inventory/schema.js';
import { proxyDomainsDoc } from '../proxy/report.js';
import { allServices, LAYERS, platformModel, secretsOf, type PlatformModel, type ServiceModel } from '../platform/model.js';
import { secretUses } from '../platform/secrets.js';

/**
 * docs/platform.md: the seed's container inventory, port map, networks with NPM's connections,
 * domains and /mnt/data layout, plus a Mermaid diagram, all rendered from the inventory so the
 * documentation cannot drift from what is deployed. Pure: inventory in, Markdown out.
 */

const GENERATED =
  '<!-- Generated from inventory.yaml by `node scripts/report.mjs`. Do not edit: a unit test fails when this file is not current. -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function portsOf(svc: ServiceModel): string {
  const published = svc.ports.map((p) => `${p.hostIp}:${p.hostPort}→${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`);
  const internal = svc.expose.filter((e) => !svc.ports.some((p) => p.containerPort === e)).map(String);
  return [...published, ...internal].join(', ') || '-';
}

function npmService(p: PlatformModel): ServiceModel | undefined {
  return p.npm ? p.stacks.find((s) => s.name === p.npm!.stack)?.services.find((s) => s.key === p.npm!.service) : undefined;
}

function summary(p: PlatformModel): string {
  const services = allServices(p);
  const lines = LAYERS.map((layer) => {
    const stacks = p.stacks.filter((s) => s.layer === layer);
    const n = stacks.reduce((t, s) => t + s.services.length, 0);
    return `- **${layer}**: ${plural(stacks.length, 'stack')}, ${plural(n, 'container')} (${stacks.map((s) => `${s.name}: ${s.services.length}`).join(', ')})`;
  });
  return [
    `**${plural(p.stacks.length, 'stack')}, ${plural(services.length, 'container')} in ${LAYERS.length} layers**, brought up in this order, each layer gating the next:`,
    '',
    ...lines,
    '',
    `The seed's totals say 34 containers while its lists name 35; this count is the inventory's.`,
  ].join('\n');
}

const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

function diagram(p: PlatformModel): string {
  const npm = npmService(p);
  const out = ['```mermaid', 'flowchart LR'];
  if (npm) {
    const publicPorts = npm.ports.filter((x) => !x.hostIp.startsWith('127.')).map((x) => x.hostPort);
    const loopback = npm.ports.filter((x) => x.hostIp.startsWith('127.')).map((x) => x.hostPort);
    out.push(`  internet((Internet)) -- "${publicPorts.join(', ')}" --> npm`);
    if (loopback.length) out.push(`  operator((Operator)) -. "SSH tunnel to 127.0.0.1:${loopback.join(', ')}" .-> npm`);
    out.push(`  npm["${npm.containerName}<br/>Nginx Proxy Manager"]`);
  }
  for (const layer of LAYERS) {
    const stacks = p.stacks.filter((s) => s.layer === layer);
    if (!stacks.length) continue;
    out.push(`  subgraph ${id('layer', layer)}["Layer: ${layer}"]`);
    for (const s of stacks) out.push(`    ${id('stack', s.name)}["${s.name}<br/>${plural(s.services.length, 'container')}"]`);
    out.push('  end');
  }
  for (const s of p.stacks) {
    for (const n of s.networks) {
      out.push(`  ${id('net', n.name)}{{"${n.name}"}}`);
      out.push(`  ${id('stack', s.name)} --- ${id('net', n.name)}`);
    }
  }
  if (npm && p.npm) {
    for (const ref of p.npm.networks) {
      const net = p.stacks.find((s) => s.name === ref.stack)?.networks.find((n) => n.key === ref.network);
      if (net) out.push(`  npm -. connect .-> ${id('net', net.name)}`);
    }
  }
  out.push('```');
  return out.join('\n');
}

function containerInventory(p: PlatformModel): string {
  return LAYERS.flatMap((layer) =>
    p.stacks
      .filter((s) => s.layer === layer)
      .map((s) =>
        [
          `### ${s.name} (${layer}, ${plural(s.services.length, 'container')})`,
          '',
          s.description,
          '',
          table(
            ['Container', 'Service', 'Image', 'Port(s)', 'Data', 'Depends on', 'Role'],
            s.services.map((svc) => [
              code(svc.containerName),
              svc.key,
              code(svc.image),
              portsOf(svc),
              svc.volumes
                .filter((v) => v.dataDir)
                .map((v) => v.source)
                .join(', ') || '-',
              svc.dependsOn.join(', ') || '-',
              svc.description,
            ]),
          ),
        ].join('\n'),
      ),
  ).join('\n\n');
}

function portMap(p: PlatformModel, doc: InventoryDocument): string {
  const services = allServices(p);
  const published = services.flatMap((svc) => svc.ports.map((port) => ({ svc, port })));
  const pub = published.filter((x) => !x.port.hostIp.startsWith('127.'));
  const loop = published.filter((x) => x.port.hostIp.startsWith('127.'));
  const rules = (doc.firewall?.rules ?? []).map((r) =>
    typeof r === 'string' ? r : `${r.port}/${r.proto}${r.comment ? ` (${r.comment})` : ''}`,
  );
  const internal = services.filter((s) => s.expose.length).map((s) => [code(s.containerName), s.expose.join(', '), s.stack]);
  return [
    '**Firewall (UFW)**: default incoming ' + (doc.firewall?.defaults.incoming ?? '-') + '; allowed: ' + (rules.join(', ') || 'none') + '.',
    '',
    '**Published on a public address** (only the proxy):',
    '',
    table(
      ['Host port', 'Container', 'Container port'],
      pub.map((x) => [`${x.port.hostIp}:${x.port.hostPort}/${x.port.protocol}`, code(x.svc.containerName), String(x.port.containerPort)]),
    ),
    '',
    '**Published on loopback only** (reach them with an SSH tunnel, e.g. `ssh -L 81:localhost:81 root@server`):',
    '',
    table(
      ['Host port', 'Container', 'Container port'],
      loop.map((x) => [`${x.port.hostIp}:${x.port.hostPort}/${x.port.protocol}`, code(x.svc.containerName), String(x.port.containerPort)]),
    ),
    '',
    '**Internal only** (Docker networks, never published):',
    '',
    table(['Container', 'Port(s)', 'Stack'], internal),
  ].join('\n');
}

function networks(p: PlatformModel): string {
  const npm = npmService(p);
  const connected = new Set((p.npm?.networks ?? []).map((r) => `${r.stack}/${r.network}`));
  const rows = p.stacks.flatMap((s) =>
    s.networks.map((n) => {
      const members = s.services.filter((svc) => svc.networks.includes(n.key)).map((svc) => svc.containerName);
      const viaCompose = npm && npm.stack === s.name && npm.networks.includes(n.key);
      const how = viaCompose ? 'member (compose)' : connected.has(`${s.name}/${n.key}`) ? 'connected (`docker network connect`)' : 'no';
      return [code(n.name), s.name, s.layer, members.join(', '), npm ? how : '-'];
    }),
  );
  const lines = (p.npm?.networks ?? []).flatMap((r) => {
    const net = p.stacks.find((s) => s.name === r.stack)?.networks.find((n) => n.key === r.network);
    return net && npm ? [`docker network connect ${net.name} ${npm.containerName}`] : [];
  });
  const production = p.stacks.filter((s) => s.layer === 'production');
  return [
    table(['Network', 'Stack', 'Layer', 'Containers', `NPM (${npm?.containerName ?? 'none'})`], rows),
    '',
    `NPM's connections (the seed's ${lines.length} lines), kept by the networks role, additively (it never disconnects anything else):`,
    '',
    '```sh',
    ...lines,
    '```',
    '',
    ...(production.length
      ? [
          `Production isolation (audited and enforced): on ${production.flatMap((s) => s.networks.map((n) => code(n.name))).join(', ')} only the containers of ${production.map((s) => s.name).join(', ')} and NPM; those containers on no other network.`,
        ]
      : []),
  ].join('\n');
}

function domains(p: PlatformModel): string {
  const rows = allServices(p).flatMap((svc) =>
    svc.domains.map((d) => [d, code(svc.containerName), String(svc.expose[0] ?? svc.ports[0]?.containerPort ?? '-'), svc.stack]),
  );
  return [
    "NPM proxy hosts forward to the container name on its port (SSL by Let's Encrypt, HTTP/2, HSTS, block exploits):",
    '',
    table(['Domain', 'Forward host', 'Forward port', 'Stack'], rows),
  ].join('\n');
}

function dataLayout(p: PlatformModel, doc: InventoryDocument): string {
  const dirs = (doc.data?.directories ?? []).map((d) => ({ ...d, path: d.path.replace(/\/+$/, '') }));
  const services = allServices(p);
  const declared = new Set(dirs.map((d) => d.path));
  // A declared subfolder (a mount owned by its image's uid, e.g. pgadmin/data) is drawn under its parent.
  const parentOf = (path: string) =>
    path.includes('/') && declared.has(path.slice(0, path.lastIndexOf('/'))) ? path.slice(0, path.lastIndexOf('/')) : undefined;
  const childrenOf = (parent: string | undefined) => dirs.filter((d) => parentOf(d.path) === parent);
  const width = Math.max(0, ...dirs.map((d) => d.path.length + 1)) + 4;
  const lines = (parent: string | undefined, indent: string): string[] =>
    childrenOf(parent).flatMap((d, i, all) => {
      const last = i === all.length - 1;
      const users = services.filter((s) =>
        s.volumes.some((v) => v.source === `${p.dataRoot}/${d.path}` || (!parent && v.dataDir === d.path)),
      );
      const name = parent ? d.path.slice(parent.length + 1) : d.path;
      const mode = d.mode ?? doc.data?.mode ?? '';
      const owner = d.owner ? ` ${d.owner}:${d.group ?? d.owner}` : '';
      const names = users.map((s) => s.containerName);
      const line = `${indent}${last ? '└── ' : '├── '}${`${name}/`.padEnd(width - indent.length)}# ${mode}${owner} ${d.description ?? ''}${names.length ? ` (${names.join(', ')})` : ''}`;
      return [line, ...lines(d.path, `${indent}${last ? '    ' : '│   '}`)];
    });
  return ['```', `${p.dataRoot}/`, ...lines(undefined, ''), '```'].join('\n');
}

function secrets(p: PlatformModel): string {
  const uses = secretUses(p);
  const rows = [...uses.keys()].sort().map((name) => [code(name), uses.get(name)!.join(', ')]);
  const stacks = p.stacks.map((s) => [
    s.name,
    code(`${s.dir}/compose.yaml`),
    code(`${s.dir}/.env`),
    String(new Set(s.services.flatMap(secretsOf)).size),
  ]);
  return [
    `Values live in the secrets file outside git (${code('secrets.file')} or ${code('--secrets FILE')}); a run lists every missing one before touching a host. On the server each stack has:`,
    '',
    table(['Stack', 'Compose file (0644)', 'Secrets (.env, 0600)', 'Secrets used'], stacks),
    '',
    table(['Secret', 'Used by (stack/service VARIABLE)'], rows),
  ].join('\n');
}

function images(p: PlatformModel): string {
  const rows = p.images.map((img) => [
    code(img.ref),
    img.source,
    allServices(p)
      .filter((s) => s.image === img.ref)
      .map((s) => s.containerName)
      .join(', '),
  ]);
  return table(['Image', 'Source', 'Containers'], rows);
}

function appCode(p: PlatformModel): string {
  const rows = allServices(p)
    .filter((s) => s.build)
    .map((s) => [
      code(s.containerName),
      code(s.image),
      code(s.build!.git),
      code(s.build!.ref),
      s.installer ? `redirect to ${code(s.installer.redirect)} on port ${s.installer.port} is drift` : '-',
    ]);
  if (rows.length === 0) return 'No service is built from a repository.';
  return [
    `Built on the server as ${code('hostkit-app/<container>:git')} FROM the image, from the repository at the commit the ref names when the run starts (sent by the control machine).`,
    '',
    table(['Container', 'FROM', 'Repository', 'Ref', 'Installer check'], rows),
  ].join('\n');
}

export function renderPlatformDoc(doc: InventoryDocument): string {
  // Paths of image archives do not appear: the document is the same from any checkout.
  const p = platformModel(doc, '/');
  return [
    GENERATED,
    '',
    '# The platform',
    '',
    summary(p),
    '',
    diagram(p),
    '',
    '## Container inventory',
    '',
    containerInventory(p),
    '',
    '## Port map',
    '',
    portMap(p, doc),
    '',
    '## Networks',
    '',
    networks(p),
    '',
    '## Domains',
    '',
    doc.proxy ? proxyDomainsDoc(doc) : domains(p),
    '',
    `## Storage (${p.dataRoot})`,
    '',
    dataLayout(p, doc),
    '',
    '## Images',
    '',
    images(p),
    '',
    '## Application code',
    '',
    appCode(p),
    '',
    '## Stack files and secrets',
    '',
    secrets(p),
    '',
  ].join('\n');
}
