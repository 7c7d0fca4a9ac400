import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource } from '../engine/resource.js';
import { hostnameFact, hostsResolves, type HostnameState } from '../facts/hostname.js';
import { sh } from '../transports/quote.js';

/**
 * Replace `path` with `content` (carried as base64): rename when possible, else rewrite in place
 * (Docker bind-mounts /etc/hostname and /etc/hosts, and a rename over a mount point fails).
 */
function replaceScript(path: string, content: string): string {
  return [
    'set -e',
    `tmp=$(mktemp ${sh([`${path}.hostkit-XXXXXX`])})`,
    `printf '%s' '${Buffer.from(content).toString('base64')}' | base64 -d > "$tmp"`,
    `chmod 0644 "$tmp"`,
    `mv -f "$tmp" ${sh([path])} 2>/dev/null || { cat "$tmp" > ${sh([path])}; rm -f "$tmp"; }`,
  ].join('\n');
}

/** /etc/hosts with `name` on Debian's 127.0.1.1 line (replaced when present, else appended). */
export function hostsWithName(hosts: string, name: string): string {
  const lines = hosts.trim() === '' ? [] : hosts.replace(/\n+$/, '').split('\n');
  const i = lines.findIndex((l) => /^\s*127\.0\.1\.1\s/.test(l));
  if (i >= 0) lines[i] = `127.0.1.1\t${name}`;
  else lines.push(`127.0.1.1\t${name}`);
  return lines.join('\n') + '\n';
}

/** The host's name: /etc/hostname, the running hostname, and a 127.0.1.1 line in /etc/hosts. */
export class Hostname extends BaseResource<{ name: string }> {
  protected readonly kind = 'hostname';
  protected override identity() {
    return this.spec.name;
  }

  facts() {
    return [hostnameFact];
  }

  plan(facts: FactSet, _ctx: PlanContext): Change[] {
    return planHostname(this.spec.name, facts.get(hostnameFact));
  }
}

export function planHostname(name: string, cur: HostnameState): Change[] {
  const changes: Change[] = [];
  if (cur.file !== name) {
    changes.push({
      summary: `/etc/hostname ${cur.file ?? '(missing)'} -> ${name}`,
      actions: [{ kind: 'exec', script: replaceScript('/etc/hostname', `${name}\n`), display: `write /etc/hostname (${name})` }],
    });
  }
  if (cur.kernel !== name) {
    changes.push({ summary: `running hostname ${cur.kernel} -> ${name}`, actions: [{ kind: 'exec', script: sh(['hostname', name]) }] });
  }
  // sudo and many daemons resolve the own name; Debian maps it on 127.0.1.1.
  if (!hostsResolves(cur.hosts, name)) {
    changes.push({
      summary: `/etc/hosts does not map ${name}: set 127.0.1.1 ${name}`,
      actions: [
        {
          kind: 'exec',
          script: replaceScript('/etc/hosts', hostsWithName(cur.hosts, name)),
          display: `write /etc/hosts (127.0.1.1 ${name})`,
        },
      ],
    });
  }
  return changes;
}
