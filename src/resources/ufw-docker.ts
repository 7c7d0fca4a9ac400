import { createTwoFilesPatch } from 'diff';
import type { Change, FactSet, PlanContext } from '../engine/types.js';
import { BaseResource, handler, type ResourceOptions } from '../engine/resource.js';
import { fileFact } from '../facts/file.js';
import { dockerUserFact, type ChainState } from '../facts/docker-user.js';
import { ufwState as ufwStateFact } from '../facts/ufw.js';

/**
 * Published container ports filtered by the host's policy (the model of ufw-docker, without its
 * per-container-IP rules). Docker DNATs published ports in PREROUTING and accepts them in FORWARD
 * before any ufw chain, so ufw's INPUT rules never see them. Docker jumps to DOCKER-USER first
 * in FORWARD and never flushes it; ufw loads /etc/ufw/after.rules (iptables-restore --noflush)
 * at boot, on enable and on reload. A block there that declares DOCKER-USER (declaring flushes
 * it, so reloads never duplicate) owns the chain:
 *
 *   RETURN  packets of established/related connections (replies, both ways)
 *   RETURN  anything coming FROM a Docker bridge (docker0, br-*): containers talk to each other
 *           and to the internet as before; Docker's own isolation rules still apply after
 *   RETURN  new connections whose ORIGINAL destination port (conntrack --ctorigdstport: the port
 *           the client dialled, before Docker's DNAT) is one of firewall.rules' allowed ports,
 *           from the rule's source; the container's IP and its internal port never appear, so
 *           recreating a container (new IP) changes nothing
 *   DROP    every other DNATed (published) connection, and anything else routed to a bridge
 *   RETURN  everything else (forwarding that is not Docker's is left to ufw's FORWARD rules)
 *
 * Verified on a Debian 13 target with Docker 26.1 (iptables-nft): survives `systemctl restart
 * docker`, `ufw reload`, `ufw disable/enable`, container recreation and a reboot (ufw loads the
 * chain before dockerd starts; dockerd keeps an existing DOCKER-USER and re-inserts its jump).
 */

export const AFTER_RULES = { v4: '/etc/ufw/after.rules', v6: '/etc/ufw/after6.rules' } as const;
export const BEGIN_MARKER = '# BEGIN hostkit docker-user';
export const END_MARKER = '# END hostkit docker-user';
/** Bridges Docker creates: the default one and user-defined networks (br-<network id>). */
export const DOCKER_BRIDGES = ['docker0', 'br-+'] as const;

export interface DockerAllow {
  proto: 'tcp' | 'udp';
  /** "80" or "6000:6007". */
  port: string;
  /** "any", an address or a CIDR (ufw-normalized). */
  from: string;
}

export interface DockerFilter {
  allow: DockerAllow[];
}

type Family = 'v4' | 'v6';

/** -s as iptables -S prints it: hosts get /32 or /128. */
function sourceArg(from: string): string {
  if (from === 'any') return '';
  return `-s ${from.includes('/') ? from : `${from}/${from.includes(':') ? 128 : 32}`} `;
}

function familyOf(from: string): Family | 'both' {
  return from === 'any' ? 'both' : from.includes(':') ? 'v6' : 'v4';
}

/** The chain's rules exactly as `iptables -S DOCKER-USER` prints them once loaded. */
export function dockerUserRules(filter: DockerFilter, family: Family): string[] {
  const rules = [
    '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    ...DOCKER_BRIDGES.map((b) => `-A DOCKER-USER -i ${b} -j RETURN`),
  ];
  const seen = new Set<string>();
  for (const a of filter.allow) {
    const fam = familyOf(a.from);
    if (fam !== 'both' && fam !== family) continue;
    const rule = `-A DOCKER-USER ${sourceArg(a.from)}-p ${a.proto} -m conntrack --ctorigdstport ${a.port} --ctdir ORIGINAL -j RETURN`;
    if (!seen.has(rule)) rules.push(rule);
    seen.add(rule);
  }
  rules.push(
    '-A DOCKER-USER -m conntrack --ctstate DNAT -j DROP',
    ...DOCKER_BRIDGES.map((b) => `-A DOCKER-USER -o ${b} -j DROP`),
    '-A DOCKER-USER -j RETURN',
  );
  return rules;
}

/** The block written into after.rules / after6.rules. */
export function dockerUserBlock(filter: DockerFilter, family: Family): string {
  return [
    `${BEGIN_MARKER} (managed by hostkit roles/firewall.mjs from firewall.rules with firewall.docker: true; edits are overwritten)`,
    '# Published container ports get the host policy: only the allowed ports are reachable from outside.',
    '*filter',
    ':DOCKER-USER - [0:0]',
    ...dockerUserRules(filter, family),
    'COMMIT',
    END_MARKER,
    '',
  ].join('\n');
}

/** The managed block of a file (markers included), or undefined. */
export function extractBlock(text: string): string | undefined {
  const start = text.indexOf(BEGIN_MARKER);
  if (start < 0 || (start > 0 && text[start - 1] !== '\n')) return undefined;
  const end = text.indexOf(END_MARKER, start);
  if (end < 0) return undefined;
  const after = text.indexOf('\n', end);
  return text.slice(start, after < 0 ? text.length : after + 1);
}

/** The file with its block replaced (or appended after a blank line), or removed when block is undefined. */
export function replaceBlock(text: string, block: string | undefined): string {
  const current = extractBlock(text);
  if (current !== undefined) {
    const i = text.indexOf(current);
    const before = text.slice(0, i);
    const rest = text.slice(i + current.length);
    if (block !== undefined) return before + block + rest;
    // Removing: drop the blank line we added before it, too.
    return before.replace(/\n\n$/, '\n') + rest;
  }
  if (block === undefined) return text;
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${base}\n${block}`;
}

function lineDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(path, path, before, after, '', '', { context: 2 }).split('\n').slice(2).join('\n');
}

const RESET_CHAIN = (t: string) => `if ${t} -S DOCKER-USER >/dev/null 2>&1; then ${t} -F DOCKER-USER && ${t} -A DOCKER-USER -j RETURN; fi`;

/** Script that empties a DOCKER-USER chain left by a removed block (Docker's default: one RETURN). */
export const RESET_DOCKER_USER = ['PATH="$PATH:/usr/sbin:/sbin"', RESET_CHAIN('iptables'), RESET_CHAIN('ip6tables') + ' || true'].join(
  '\n',
);

export const UFW_RELOAD_HANDLER = 'ufw reload';
/** Reload only a loaded firewall: `ufw reload` on an inactive one would only print a notice. */
export const UFW_RELOAD_SCRIPT = "if LC_ALL=C ufw status | grep -q '^Status: active'; then ufw reload; fi";
export const ufwReload = handler(UFW_RELOAD_HANDLER, [{ kind: 'exec', script: UFW_RELOAD_SCRIPT, display: 'ufw reload' }]);

/** The DOCKER-USER block in ufw's after*.rules, reloaded through a handler when it changed. */
export class UfwDockerFilter extends BaseResource<{ filter: DockerFilter | undefined }> {
  protected readonly kind = 'ufw docker-user filter';
  private readonly files = { v4: fileFact(AFTER_RULES.v4), v6: fileFact(AFTER_RULES.v6) };
  readonly filter: DockerFilter | undefined;

  /** filter undefined: firewall.docker is false; a block left by an earlier run is removed. Notifies `ufw reload`. */
  constructor(spec: { filter: DockerFilter | undefined }, options: ResourceOptions = {}) {
    super(spec, { notify: [ufwReload], ...options });
    this.filter = spec.filter;
  }

  facts() {
    return [this.files.v4, this.files.v6, dockerUserFact, ufwStateFact];
  }

  plan(facts: FactSet, ctx: PlanContext): Change[] {
    const ufw = facts.get(ufwStateFact);
    const chains = facts.get(dockerUserFact);
    const families: Family[] = ufw.installed && !ufw.ipv6 ? ['v4'] : ['v4', 'v6'];
    const changes: Change[] = [];
    let fileChanged = false;
    for (const family of families) {
      const file = facts.get(this.files[family]);
      const path = AFTER_RULES[family];
      const want = this.filter ? dockerUserBlock(this.filter, family) : undefined;
      if (!file.exists) {
        if (!want) continue;
        // ufw (its package ships the file) is installed by an earlier resource of this role.
        if (ctx.pendingPrerequisites.length) {
          changes.push({ summary: `add the DOCKER-USER filter to ${path} (once ufw is installed)`, actions: [] });
          fileChanged = true;
          continue;
        }
        throw new Error(`${path} does not exist: is ufw installed? It ships the file the DOCKER-USER filter goes into`);
      }
      if (file.type !== 'file') throw new Error(`${path} is a ${file.kind}, not a regular file; it is left alone`);
      const text = file.content.toString('utf8');
      const have = extractBlock(text);
      if (have === want) continue;
      const next = replaceBlock(text, want);
      fileChanged = true;
      changes.push({
        summary: !want
          ? `remove the DOCKER-USER filter from ${path} (firewall.docker is false)`
          : have === undefined
            ? `add the DOCKER-USER filter to ${path}: published container ports allowed only on ${this.describeAllowed(family)}`
            : `update the DOCKER-USER filter in ${path}: published container ports allowed only on ${this.describeAllowed(family)}`,
        diff: lineDiff(path, have ?? '', want ?? ''),
        actions: [
          // ufw reads these as root only (0640 root:root, as the package ships them).
          { kind: 'write', path, content: next, mode: '0640', owner: 'root', group: 'root' },
          ...(want ? [] : [{ kind: 'exec' as const, script: RESET_DOCKER_USER, display: 'reset the DOCKER-USER chain to Docker default' }]),
        ],
      });
    }
    // The files are right, but the kernel runs something else (flushed by hand, ufw not reloaded).
    if (!fileChanged && this.filter && ufw.active) {
      const stale = families.filter((f) => chains[f].available && !sameRules(chains[f], dockerUserRules(this.filter!, f)));
      if (stale.length) {
        const f = stale[0]!;
        changes.push({
          summary: `DOCKER-USER rules loaded in the kernel (${stale.map((x) => (x === 'v4' ? 'iptables' : 'ip6tables')).join(', ')}) differ from ${AFTER_RULES[f]}: reload ufw`,
          diff: lineDiff(
            `DOCKER-USER (${f})`,
            chains[f].rules.map((r) => `${r}\n`).join(''),
            dockerUserRules(this.filter, f)
              .map((r) => `${r}\n`)
              .join(''),
          ),
          actions: [], // the reload handler loads them
        });
      }
    }
    return changes;
  }

  private describeAllowed(family: Family): string {
    const list = (this.filter?.allow ?? [])
      .filter((a) => familyOf(a.from) === 'both' || familyOf(a.from) === family)
      .map((a) => `${a.port}/${a.proto}${a.from === 'any' ? '' : ` from ${a.from}`}`);
    return list.length ? [...new Set(list)].join(', ') : 'no port';
  }
}

function sameRules(chain: ChainState, want: string[]): boolean {
  return chain.exists && chain.rules.length === want.length && chain.rules.every((r, i) => r === want[i]);
}
