import { z } from 'zod';
import { safeText } from '../schema/primitives.js';

/**
 * Ansible's connection variables, accepted next to hostkit's own names. Each maps to one
 * hostkit variable; a host that gets both spellings of one setting is refused (which one wins
 * would be a guess). Other `ansible_*` variables are dropped with a warning naming them.
 */
const PORT = 'an integer 1..65535';
const portLike = z.preprocess(
  (v) => (typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : v),
  z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT }),
);
const BOOL = 'true or false (yes/no)';
// Ansible's boolean(): INI values stay strings ("yes", "true"), YAML ones may be real booleans.
const boolLike = z.preprocess(
  (v) => {
    if (typeof v === 'string') {
      const s = v.toLowerCase();
      if (['yes', 'y', 'on', 'true', 't', '1'].includes(s)) return true;
      if (['no', 'n', 'off', 'false', 'f', '0'].includes(s)) return false;
    }
    if (v === 1 || v === 0) return v === 1;
    return v;
  },
  z.boolean({ error: BOOL }),
);
// INI reads `ansible_host=10` or `ansible_user=1000` as numbers; Ansible uses them as text.
const text = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), safeText.min(1));

export const ansibleVarsShape = {
  ansible_host: text,
  ansible_ssh_host: text,
  ansible_port: portLike,
  ansible_ssh_port: portLike,
  ansible_user: text,
  ansible_ssh_user: text,
  ansible_ssh_private_key_file: text,
  ansible_private_key_file: text,
  ansible_connection: z.enum(['ssh', 'local'], { error: 'one of "ssh", "local" (hostkit has no other connection)' }),
  ansible_become: boolLike,
  ansible_become_user: z.literal('root', { error: '"root" (hostkit becomes root only)' }),
  ansible_become_method: z.literal('sudo', { error: '"sudo" (hostkit escalates with sudo only)' }),
  ansible_ssh_common_args: safeText,
};
