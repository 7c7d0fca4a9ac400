import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventorySources } from '../../src/inventory/load.js';
import { BACKUP_DIR, backupModel, engineOf, STATUS_FILE } from '../../src/backup/model.js';
import { backupScript, dumpCommand, envFile } from '../../src/backup/script.js';
import { backupVerdict, parseLastRun, parseSnapshots } from '../../src/backup/snapshots.js';

const INV = `
all:
  hosts:
    web1: { address: 10.0.0.5 }
data: { root: /mnt/data, directories: [{ path: shop }, { path: prod }] }
secrets: { file: secrets.yaml }
stacks:
  shop:
    layer: development
    networks: { n: { name: shop_n } }
    services:
      db:
        container_name: shop-db
        image: mariadb:11.4.4
        volumes: ["shop/db:/var/lib/mysql"]
        environment: { MARIADB_ROOT_PASSWORD: { secret: shop_root } }
        networks: [n]
      web:
        container_name: shop-web
        image: drupal:10
        volumes: ["shop/files:/files"]
        networks: [n]
  prod:
    layer: production
    networks: { n: { name: prod_n } }
    services:
      db:
        container_name: prod-db
        image: hostkit-db/postgres:0123abcd
        volumes: ["prod/db:/var/lib/postgresql/data"]
        environment: { POSTGRES_PASSWORD: { secret: prod_pw } }
        networks: [n]
backup:
  repository: sftp:backup@203.0.113.9:/srv/restic/web1
  password_secret: restic_password
  ssh_key_secret: backup_ssh_key
  retention: { keep_daily: 3, keep_weekly: 2, keep_monthly: 1 }
  max_age_hours: 2
`;
const inv = (extra = '') => parseInventorySources([{ file: 'inv.yaml', text: INV + extra }]);

// Recorded from restic 0.18 (Debian 13): `restic snapshots --json`.
const SNAPSHOTS = `[{"time":"2026-11-25T20:01:02.123456789Z","tree":"ab","paths":["/mnt/data"],"hostname":"web1","username":"root","tags":["host:web1","stack:shop","date:2026-11-25"],"program_version":"restic 0.18.0","summary":{},"id":"4f1e0c6b9d2a8e7f00112233445566778899aabbccddeeff0011223344556677","short_id":"4f1e0c6b"},{"time":"2026-11-24T03:00:00Z","paths":["/mnt/data"],"hostname":"web1","username":"root","id":"1111111111111111111111111111111111111111111111111111111111111111","short_id":"11111111"}]`;

describe('backup model', () => {
  it('derives the databases with their engine, dump files beside the data, and excludes live DB files', () => {
    const m = backupModel(inv())!;
    expect(m.databases.map((d) => [d.container, d.engine, d.dumpFile])).toEqual([
      ['prod-db', 'postgres', '/mnt/data/prod/dumps/prod-db.sql'], // layer order: production first
      ['shop-db', 'mariadb', '/mnt/data/shop/dumps/shop-db.sql'],
    ]);
    expect(m.excludes).toEqual(['/mnt/data/prod/db', '/mnt/data/shop/db']);
    expect(m.sftp).toEqual({ target: 'backup@203.0.113.9', port: 22 });
    expect(m.config.schedule).toBe('*-*-* 03:00:00');
  });
  it('an explicit database list is honoured and checked', () => {
    expect(backupModel(inv('  databases: [{ stack: prod, service: db }]\n'))!.databases.map((d) => d.container)).toEqual(['prod-db']);
    expect(() => backupModel(inv('  databases: [{ stack: prod, service: nope }]\n'))).toThrow(/no such service: prod\/nope/);
    expect(() => backupModel(inv('  databases: [{ stack: shop, service: web }]\n'))).toThrow(/neither PostgreSQL nor MariaDB/);
  });
  it('engines from image references', () => {
    expect(engineOf('postgres:16.6')).toBe('postgres');
    expect(engineOf('hostkit-db/mariadb:abc')).toBe('mariadb');
    expect(engineOf('dpage/pgadmin4:8.14')).toBeUndefined();
    expect(engineOf('mysql:8')).toBe('mariadb');
  });
  it('rejects a malformed repository', () => {
    expect(() =>
      parseInventorySources([{ file: 'i.yaml', text: INV.replace('sftp:backup@203.0.113.9:/srv/restic/web1', 'ftp://x') }]),
    ).toThrow(/restic repository/);
  });
});

describe('backup script', () => {
  const m = backupModel(inv())!;
  const script = backupScript(m, 'web1');
  it('dumps with credentials from the container environment, never argv', () => {
    expect(dumpCommand(m.databases[1]!)).toContain('MYSQL_PWD="${MARIADB_ROOT_PASSWORD');
    expect(dumpCommand(m.databases[1]!)).toContain('--all-databases --single-transaction');
    expect(dumpCommand(m.databases[0]!)).toContain('pg_dumpall');
    expect(script).toContain('docker exec prod-db sh -c');
  });
  it('one tagged snapshot of the data root, excludes, retention from the inventory, sftp through the key', () => {
    expect(script).toMatch(
      /backup --json --host web1 --tag host:web1 --tag stack:shop --tag stack:prod --tag "date:\$\(date -u \+%F\)" --exclude \/mnt\/data\/prod\/db --exclude \/mnt\/data\/shop\/db \/mnt\/data/,
    );
    expect(script).toContain('forget --prune --host web1 --keep-daily 3 --keep-weekly 2 --keep-monthly 1');
    expect(script).toContain('-i /etc/hostkit/backup/ssh_key');
    expect(script).toContain('backup@203.0.113.9 -s sftp');
    expect(envFile(m)).toContain('RESTIC_PASSWORD_FILE=/etc/hostkit/backup/password');
  });
  // --check runs `snapshots` and `status` concurrently: the query must not overwrite the last run's status.
  it('a failed snapshots query leaves the last run status alone; a failed check records it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostkit-backup-script-'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'restic'), '#!/bin/sh\necho "repository unreachable" >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(dir, 'env'), '');
    const local = script.replaceAll(STATUS_FILE, join(dir, 'status.json')).replaceAll(`${BACKUP_DIR}/env`, join(dir, 'env'));
    writeFileSync(join(dir, 'hostkit-backup'), local);
    const before = '{"ok":false,"finished":1,"step":"open repository","exit":1}';
    writeFileSync(join(dir, 'status.json'), `${before}\n`);
    const run = (cmd: string) =>
      spawnSync('bash', [join(dir, 'hostkit-backup'), cmd], { env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}` }, encoding: 'utf8' });
    expect(run('snapshots').status).toBe(1);
    expect(readFileSync(join(dir, 'status.json'), 'utf8')).toBe(`${before}\n`);
    expect(run('check').status).toBe(1);
    expect(readFileSync(join(dir, 'status.json'), 'utf8')).toMatch(/"step":"check"/);
  });
});

describe('backup --check verdict', () => {
  const snaps = parseSnapshots(SNAPSHOTS);
  it('parses restic snapshots --json, newest last', () => {
    expect(snaps.map((s) => s.shortId)).toEqual(['11111111', '4f1e0c6b']);
    expect(snaps[1]!.tags).toContain('stack:shop');
    expect(parseSnapshots('')).toEqual([]);
  });
  const ok = parseLastRun('{"ok":true,"finished":1795640462,"step":"done","exit":0,"snapshot":"4f1e0c6b"}');
  it('0 when the newest snapshot is younger than the limit and the last run succeeded', () => {
    expect(backupVerdict(snaps, ok, new Date('2026-11-25T21:00:00Z'), 2).exitCode).toBe(0);
  });
  it('2 when older than the limit, when none exists, or when the last run failed', () => {
    expect(backupVerdict(snaps, ok, new Date('2026-11-25T23:00:00Z'), 2)).toMatchObject({
      exitCode: 2,
      lines: [expect.stringMatching(/older|old \(limit 2 h\)/), expect.any(String)],
    });
    expect(backupVerdict([], ok, new Date(), 2).exitCode).toBe(2);
    const failed = parseLastRun('{"ok":false,"finished":1795640462,"step":"open repository","exit":1}');
    const v = backupVerdict(snaps, failed, new Date('2026-11-25T21:00:00Z'), 2);
    expect(v.exitCode).toBe(2);
    expect(v.lines.join('\n')).toContain('last backup run FAILED at step "open repository" (exit 1');
  });
});

describe('recover: databases first', () => {
  it("the databases-only inventory keeps each stack's database services and drops NPM", async () => {
    const { databasesOnly } = await import('../../src/cli/recover.js');
    const i = inv();
    const d = databasesOnly(i, backupModel(i)!);
    expect(Object.fromEntries(Object.entries(d.doc.stacks!).map(([k, s]) => [k, Object.keys(s.services)]))).toEqual({
      shop: ['db'],
      prod: ['db'],
    });
    expect(d.doc.npm).toBeUndefined();
    expect(i.doc.stacks!.shop!.services.web).toBeDefined(); // the original is untouched
  });
});
