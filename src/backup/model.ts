import type { Inventory } from '../inventory/types.js';
import type { BackupConfig } from './schema.js';
import { allServices, platformOf, type ServiceModel } from '../platform/model.js';

/**
 * What a backup of one host consists of, derived from the inventory: the databases to dump
 * (engine from the image), where their dumps go (beside their data), what the snapshot covers
 * and leaves out (live database files: they come back through the dumps), and where things live
 * on the server.
 */
export type DbEngine = 'postgres' | 'mariadb';

export interface DatabaseDump {
  stack: string;
  service: string;
  container: string;
  engine: DbEngine;
  /** Absolute dump file on the server, under the data root. */
  dumpFile: string;
  /** Host directories of the database's data (excluded from the snapshot). */
  dataPaths: string[];
}

export interface BackupModel {
  config: BackupConfig;
  dataRoot: string;
  databases: DatabaseDump[];
  excludes: string[];
  stacks: string[];
  /** For sftp: repositories, user@host and the port used by restic's ssh. */
  sftp?: { target: string; port: number };
}

export const BACKUP_DIR = '/etc/hostkit/backup';
export const BACKUP_SCRIPT = '/usr/local/sbin/hostkit-backup';
export const STATUS_FILE = '/var/lib/hostkit/backup/last-run.json';
export const UNIT = 'hostkit-backup';

/** The engine a service runs, from its image reference; undefined for anything else. */
export function engineOf(image: string): DbEngine | undefined {
  const name =
    image
      .split('@')[0]!
      .replace(/:[^/]*$/, '')
      .split('/')
      .pop() ?? '';
  if (/postgres/.test(name)) return 'postgres';
  if (/^(mariadb|mysql)/.test(name)) return 'mariadb';
  return undefined;
}

export class BackupConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupConfigError';
  }
}

export function backupModel(inventory: Inventory): BackupModel | undefined {
  const config = inventory.doc.backup;
  if (!config) return undefined;
  const dataRoot = (inventory.doc.data?.root ?? '/mnt/data').replace(/\/+$/, '');
  const services = inventory.doc.stacks ? allServices(platformOf(inventory)) : [];
  const find = (stack: string, service: string) => services.find((s) => s.stack === stack && s.key === service);
  let chosen: ServiceModel[];
  if (config.databases) {
    const missing = config.databases.filter((d) => !find(d.stack, d.service));
    if (missing.length)
      throw new BackupConfigError(`backup.databases: no such service: ${missing.map((d) => `${d.stack}/${d.service}`).join(', ')}`);
    chosen = config.databases.map((d) => find(d.stack, d.service)!);
  } else {
    chosen = services.filter((s) => engineOf(s.image));
  }
  const databases = chosen.map((svc): DatabaseDump => {
    const engine = engineOf(svc.image);
    if (!engine) throw new BackupConfigError(`backup.databases: ${svc.stack}/${svc.key} (${svc.image}) is neither PostgreSQL nor MariaDB`);
    const dataPaths = svc.volumes.filter((v) => v.source.startsWith(`${dataRoot}/`)).map((v) => v.source);
    // Beside the data: <root>/<data dir of the database>/dumps/<container>.sql
    const dir = svc.volumes.find((v) => v.dataDir)?.dataDir ?? svc.stack;
    return {
      stack: svc.stack,
      service: svc.key,
      container: svc.containerName,
      engine,
      dumpFile: `${dataRoot}/${dir}/dumps/${svc.containerName}.sql`,
      dataPaths,
    };
  });
  const m = /^sftp:([^:]+):/.exec(config.repository);
  return {
    config,
    dataRoot,
    databases,
    excludes: [...new Set(databases.flatMap((d) => d.dataPaths))].sort(),
    stacks: inventory.doc.stacks ? Object.keys(inventory.doc.stacks) : [],
    ...(m ? { sftp: { target: m[1]!, port: 22 } } : {}),
  };
}
