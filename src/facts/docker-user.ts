import type { Fact, ProbeOutput } from '../engine/types.js';
import { defineFact } from './define.js';
import { splitSections } from './docker.js';

/**
 * The DOCKER-USER chain as loaded in the kernel (iptables -S, the canonical rule syntax that
 * iptables-restore also accepts), for both address families, plus whether FORWARD jumps to it.
 * Read-only; no xtables lock is taken by -S with the nft backend (Debian 13's default).
 */

export interface ChainState {
  /** The iptables/ip6tables command exists and answered. */
  available: boolean;
  /** `-A FORWARD -j DOCKER-USER` is present (Docker inserts it first in FORWARD). */
  forwardJump: boolean;
  /** The chain exists. */
  exists: boolean;
  /** Its rules as `iptables -S DOCKER-USER` prints them, without the "-N DOCKER-USER" line. */
  rules: string[];
}

export interface DockerUserChains {
  v4: ChainState;
  v6: ChainState;
}

const MARK = '@@hostkit-chain';

export const DOCKER_USER_PROBE = [
  `m() { printf '\\n${MARK} %s@@\\n' "$1"; }`,
  'PATH="$PATH:/usr/sbin:/sbin"',
  'for t in iptables ip6tables; do',
  '  command -v $t >/dev/null 2>&1 || continue',
  '  m $t-forward; $t -S FORWARD 2>&1; m "$t-forward-rc $?"',
  '  m $t-user; $t -S DOCKER-USER 2>&1; m "$t-user-rc $?"',
  'done',
  'm end',
].join('\n');

function rcOf(s: Map<string, string>, prefix: string): number | undefined {
  for (const key of s.keys()) {
    const m = new RegExp(`^${prefix}-rc (\\d+)$`).exec(key);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function chainOf(s: Map<string, string>, t: 'iptables' | 'ip6tables'): ChainState {
  const fwdRc = rcOf(s, `${t}-forward`);
  if (fwdRc === undefined) return { available: false, forwardJump: false, exists: false, rules: [] };
  const forward = (s.get(`${t}-forward`) ?? '').split('\n');
  const userRc = rcOf(s, `${t}-user`);
  const user = (s.get(`${t}-user`) ?? '').split('\n').map((l) => l.trim());
  return {
    available: fwdRc === 0,
    forwardJump: forward.some((l) => /^-A FORWARD -j DOCKER-USER\s*$/.test(l.trim())),
    exists: userRc === 0,
    rules: userRc === 0 ? user.filter((l) => l.startsWith('-A DOCKER-USER')) : [],
  };
}

export function parseDockerUserProbe(out: ProbeOutput): DockerUserChains {
  const s = splitSections(out.stdout, MARK);
  return { v4: chainOf(s, 'iptables'), v6: chainOf(s, 'ip6tables') };
}

export const dockerUserFact: Fact<DockerUserChains> = defineFact('docker.user-chains', [], DOCKER_USER_PROBE, parseDockerUserProbe);
