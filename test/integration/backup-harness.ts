import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import type { Target } from './harness.js';

/**
 * The offsite backup host for the backup/DR tests: a second bare sandbox target (sshd with the
 * sftp subsystem). The management side of restic's access: a fresh key pair whose private half
 * goes into the secrets file (backup_ssh_key) and whose public half is authorised on the backup
 * host; the backup host's key is pinned in the inventory (backup.known_hosts).
 */
export interface BackupHost {
  repository: string;
  knownHosts: string;
}

export const RESTIC_SECRET = 'restic_password';
export const KEY_SECRET = 'backup_ssh_key';

export async function prepareBackupHost(backup: Target, dir: string, secretsFile: string): Promise<BackupHost> {
  const key = join(dir, 'backup_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hostkit-backup', '-f', key], { stdin: 'ignore' });
  const pub = (await readFile(`${key}.pub`, 'utf8')).trim();
  const r = await backup.exec(
    `install -d -m 700 /root/.ssh /srv/restic && echo '${pub}' >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && cat /etc/ssh/ssh_host_ed25519_key.pub`,
  );
  if (r.exitCode !== 0) throw new Error(`backup host setup failed (exit ${r.exitCode}): ${r.stderr}`);
  const [type, blob] = r.stdout.trim().split(/\s+/);
  const existing = (parse(await readFile(secretsFile, 'utf8')) as Record<string, string>) ?? {};
  const add: Record<string, string> = {};
  if (!existing[RESTIC_SECRET]) add[RESTIC_SECRET] = `restic-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  if (!existing[KEY_SECRET]) add[KEY_SECRET] = await readFile(key, 'utf8');
  if (Object.keys(add).length) await appendFile(secretsFile, stringify(add));
  return { repository: `sftp:root@${backup.containerIp}:/srv/restic/leruepecie`, knownHosts: `${backup.containerIp} ${type} ${blob}` };
}

/** The inventory's backup: section for the sandbox (the two real databases only: the rest are stand-ins). */
export function backupSection(b: BackupHost, maxAgeHours = 26): Record<string, unknown> {
  return {
    backup: {
      repository: b.repository,
      password_secret: RESTIC_SECRET,
      ssh_key_secret: KEY_SECRET,
      known_hosts: b.knownHosts,
      schedule: '*-*-* 03:00:00',
      retention: { keep_daily: 7, keep_weekly: 4, keep_monthly: 6 },
      max_age_hours: maxAgeHours,
      databases: [
        { stack: 'seller1-prod-stack', service: 'db' },
        { stack: 'commerce-stack', service: 'db' },
      ],
    },
  };
}
