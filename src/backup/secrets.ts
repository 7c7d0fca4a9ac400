import { readFile } from 'node:fs/promises';
import { registerSecrets } from '../engine/redact.js';
import { parseSecretsFile, SecretsError } from '../platform/secrets.js';
import type { BackupConfig } from './schema.js';

/** The backup secrets of the inventory (restic password, ssh key, S3 keys), read on the control machine. */
export interface BackupSecrets {
  password: string;
  sshKey?: string;
  s3?: { accessKey: string; secretKey: string };
}

/**
 * Reads the backup's secrets from `file` (--secrets FILE, else the inventory's secrets.file) and
 * registers them for redaction. The backup role's prepared input: the engine keeps it for the run.
 */
export async function loadBackupSecrets(cfg: BackupConfig, file: string | undefined): Promise<BackupSecrets> {
  if (!file)
    throw new SecretsError(`backup: the inventory names no secrets file (secrets.file or --secrets FILE) for ${cfg.password_secret}`);
  let values: Map<string, string>;
  try {
    values = parseSecretsFile(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SecretsError(`backup: secrets file ${file} does not exist`);
    throw err;
  }
  const names = [cfg.password_secret, cfg.ssh_key_secret, cfg.s3_access_key_secret, cfg.s3_secret_key_secret].filter((n): n is string =>
    Boolean(n),
  );
  const missing = names.filter((n) => !values.get(n));
  if (missing.length)
    throw new SecretsError(`backup: secrets missing or empty in ${file}: ${missing.join(', ')} (values are never printed)`);
  const get = (n: string) => values.get(n)!;
  const s: BackupSecrets = {
    password: get(cfg.password_secret),
    ...(cfg.ssh_key_secret ? { sshKey: get(cfg.ssh_key_secret).replace(/\n*$/, '\n') } : {}),
    ...(cfg.s3_access_key_secret && cfg.s3_secret_key_secret
      ? { s3: { accessKey: get(cfg.s3_access_key_secret), secretKey: get(cfg.s3_secret_key_secret) } }
      : {}),
  };
  // Multi-line values (the key) are also registered line by line: diffs and logs split them.
  registerSecrets(
    names.flatMap((n) => [
      get(n),
      ...get(n)
        .split('\n')
        .map((l) => l.trim()),
    ]),
  );
  return s;
}
