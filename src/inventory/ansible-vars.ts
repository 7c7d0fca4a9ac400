import { ansibleVarsShape } from './ansible-vars.schema.js';
import { shlexSplit } from './shlex.js';

export const ANSIBLE_VARS = Object.keys(ansibleVarsShape);

/** hostkit variable -> its Ansible spellings, in the order Ansible prefers them. */
export const SPELLINGS = {
  address: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  identity_file: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  connection: ['ansible_connection'],
  become: ['ansible_become'],
  known_hosts: [],
  host_key_checking: [],
  connect_timeout: [],
} as const satisfies Record<string, readonly string[]>;
export type Mapped = keyof typeof SPELLINGS;

/** An `ansible_*` key hostkit does not read (the caller warns and drops it). */
export function isIgnoredAnsibleVar(key: string): boolean {
  return key.startsWith('ansible_') && !ANSIBLE_VARS.includes(key);
}

const SSH_OPTIONS: Record<string, Mapped> = {
  port: 'port',
  user: 'user',
  identityfile: 'identity_file',
  userknownhostsfile: 'known_hosts',
  stricthostkeychecking: 'host_key_checking',
  connecttimeout: 'connect_timeout',
};
const SUPPORTED_ARGS = '-p, -l, -i, -o Port/User/IdentityFile/UserKnownHostsFile/StrictHostKeyChecking=yes|accept-new/ConnectTimeout';

/**
 * `ansible_ssh_common_args` as hostkit settings. Only options hostkit has a setting for are
 * accepted; anything else (ProxyJump, ControlMaster, ...) throws naming the option.
 */
export function parseSshCommonArgs(args: string): Partial<Record<Mapped, unknown>> {
  const out: Partial<Record<Mapped, unknown>> = {};
  const words = shlexSplit(args).map((w) => w.text);
  const unsupported = (what: string) =>
    new Error(`"${what}" in ansible_ssh_common_args has no hostkit setting (supported: ${SUPPORTED_ARGS})`);
  const option = (kv: string) => {
    const m = /^([A-Za-z]+)(?:=|\s+)(.+)$/.exec(kv.trim());
    if (!m) throw unsupported(`-o ${kv}`);
    const key = SSH_OPTIONS[m[1]!.toLowerCase()];
    if (!key) throw unsupported(`-o ${kv}`);
    out[key] = optionValue(key, m[2]!, `-o ${kv}`);
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = () => {
      const v = words[++i];
      if (v === undefined) throw new Error(`"${w}" in ansible_ssh_common_args needs a value`);
      return v;
    };
    if (w === '-o') option(next());
    else if (w.startsWith('-o')) option(w.slice(2));
    else if (w === '-p') out.port = optionValue('port', next(), '-p');
    else if (w === '-l') out.user = next();
    else if (w === '-i') out.identity_file = next();
    else throw unsupported(w);
  }
  return out;
}

function optionValue(key: Mapped, value: string, what: string): unknown {
  if (key === 'port' || key === 'connect_timeout') {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || (key === 'port' && n > 65535))
      throw new Error(`"${what}" in ansible_ssh_common_args: not a valid number`);
    return n;
  }
  if (key === 'host_key_checking') {
    const v = value.toLowerCase();
    if (v === 'yes') return 'strict';
    if (v === 'accept-new') return 'accept-new';
    throw new Error(`"${what}" in ansible_ssh_common_args: hostkit always checks host keys (StrictHostKeyChecking=yes or accept-new)`);
  }
  return value;
}

export interface Setting<W> {
  value: unknown;
  path: (string | number)[];
  where: W;
}

/**
 * The host's settings under hostkit's names, from whichever spelling set each one (hostkit's,
 * an `ansible_*` one, or an option inside ansible_ssh_common_args). Two spellings for one
 * setting is a problem naming both; `onValue` problems point at the value, not the key.
 */
export function resolveSpellings<W>(
  set: Record<string, Setting<W>>,
  host: string,
): { values: Record<string, Setting<W>>; problems: { at: Setting<W>; message: string; onValue?: boolean }[] } {
  const values: Record<string, Setting<W>> = {};
  const problems: { at: Setting<W>; message: string; onValue?: boolean }[] = [];
  for (const [k, v] of Object.entries(set)) if (!k.startsWith('ansible_')) values[k] = v;
  const fromArgs: Partial<Record<Mapped, unknown>> = {};
  const args = set.ansible_ssh_common_args;
  if (args) {
    try {
      Object.assign(fromArgs, parseSshCommonArgs(String(args.value)));
    } catch (err) {
      problems.push({ at: args, message: (err as Error).message, onValue: true });
    }
  }
  for (const [key, names] of Object.entries(SPELLINGS) as [Mapped, readonly string[]][]) {
    const given = [key, ...names].filter((n) => set[n]);
    if (args && key in fromArgs) given.push('ansible_ssh_common_args');
    if (given.length === 0) continue;
    if (given.length > 1) {
      const at = set[given.find((n) => n !== key) ?? given[0]!]!;
      problems.push({
        at,
        message: `host "${host}" gets ${key} from ${given.map((n) => `"${n}"`).join(' and ')}; use one spelling (hostkit's "${key}" or Ansible's)`,
      });
    }
    const first = given[0]!;
    values[key] = first === 'ansible_ssh_common_args' ? { ...args!, value: fromArgs[key] } : set[first]!;
  }
  return { values, problems };
}
