/**
 * What each pinned upstream image needs before it is healthy, read from its own Dockerfile and
 * entrypoint at (or near) the pinned tag: ONE row per image. The sandbox's strict stand-ins are
 * built from these rows (src/sandbox/standins.ts) and test/unit/upstream-images.test.ts checks
 * every service of inventory.yaml against them, so a real rebuild fails in the tests first.
 * Pure data: no code per image.
 */

export type DbEngine = 'postgres' | 'mariadb';

/** A port the image listens on: fixed, or moved by an env variable or a command-line option. */
export interface ListenPort {
  default?: number;
  /** An env variable that moves it (PGADMIN_LISTEN_PORT). */
  env?: string;
  /** A command-line option that moves it: `--bind=:9002` or `--console-address :9001` (port after the last ':'). */
  arg?: string;
}

export interface RequiredFile {
  /** Container path. */
  path: string;
  /** yaml: must parse as a YAML mapping with `keys` at the top; htpasswd: at least one `user:hash` line. */
  format: 'yaml' | 'htpasswd';
  keys?: string[];
  /** yaml: session cookies must name a domain (session.cookies[].domain or session.domain). */
  sessionDomain?: boolean;
  why: string;
}

/** The database a consumer is configured for: the env names that carry where and who. */
export interface RequiredDatabase {
  engine: DbEngine;
  /** Only when this env variable has this value (n8n's DB_TYPE=postgresdb; sqlite otherwise). */
  when?: { env: string; equals: string };
  /** Env names; host may be `host:port`. */
  host: string;
  port?: string;
  name: string;
  user: string;
  password: string;
}

export interface UpstreamImage {
  ref: string;
  /** Where the facts come from (upstream repository and files at the pinned tag). */
  source: string;
  /** uid:gid the process that writes the data runs as (root images that chown: 0:0). */
  uid: number;
  gid: number;
  /** The image starts as root and its workers write as uid:gid (Apache's www-data), not USER uid:gid. */
  startsAsRoot?: boolean;
  /** Container paths that uid must be able to write (mounts the entrypoint does not chown). */
  writable: string[];
  files: RequiredFile[];
  /** Env variables without which the image does not start. */
  env: string[];
  ports: ListenPort[];
  database?: RequiredDatabase;
  /** Answers `302 Location: /core/install.php` until this file exists (stock Drupal core). */
  installedMarker?: string;
  /** A real interpreter runs the service's own command (the app code must be there). */
  realInterpreter?: boolean;
  /** The image is this database server (its consumers' `database` names the engine). */
  server?: DbEngine;
  /** Paths of the healthcheck commands the inventory may use that the image ships. */
  healthTools?: string[];
}

export const UPSTREAM_IMAGES: readonly UpstreamImage[] = [
  {
    // NginxProxyManager/nginx-proxy-manager docker/Dockerfile (s6 as root, creates /data itself)
    ref: 'jc21/nginx-proxy-manager:2.12.3',
    source: 'github.com/NginxProxyManager/nginx-proxy-manager v2.12.3 docker/Dockerfile, docker/rootfs/etc/s6-overlay',
    uid: 0,
    gid: 0,
    writable: ['/data', '/etc/letsencrypt'],
    files: [],
    env: [],
    ports: [{ default: 80 }, { default: 443 }, { default: 81 }],
  },
  {
    // ajnart/homarr Dockerfile: root, listens on 7575 on all addresses
    ref: 'ghcr.io/ajnart/homarr:0.15.10',
    source: 'github.com/ajnart/homarr v0.15.10 Dockerfile',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 7575 }],
  },
  {
    // authelia/authelia Dockerfile: ENV X_AUTHELIA_CONFIG=/config/configuration.yml; the
    // configuration validator refuses to start without these sections.
    ref: 'authelia/authelia:4.38.17',
    source: 'github.com/authelia/authelia v4.38.17 Dockerfile, entrypoint.sh, internal/configuration/validator',
    uid: 0,
    gid: 0,
    writable: ['/config'],
    files: [
      {
        path: '/config/configuration.yml',
        format: 'yaml',
        keys: ['authentication_backend', 'storage', 'notifier', 'session', 'access_control'],
        sessionDomain: true,
        why: 'X_AUTHELIA_CONFIG points at it; a missing file or section fails at start',
      },
    ],
    env: [],
    ports: [{ default: 9091 }],
    healthTools: ['/app/healthcheck.sh'],
  },
  {
    // docker-library/postgres 16/bookworm docker-entrypoint.sh: root, chowns PGDATA to 999;
    // initdb scripts only on an EMPTY data dir.
    ref: 'postgres:16.6',
    source: 'github.com/docker-library/postgres 16/bookworm/Dockerfile, docker-entrypoint.sh',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: ['POSTGRES_PASSWORD'],
    ports: [{ default: 5432 }],
    server: 'postgres',
  },
  {
    // MariaDB/mariadb-docker 11.4 docker-entrypoint.sh: root, chowns; same initdb rule
    ref: 'mariadb:11.4.4',
    source: 'github.com/MariaDB/mariadb-docker 11.4/Dockerfile, docker-entrypoint.sh, healthcheck.sh',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 3306 }],
    server: 'mariadb',
  },
  {
    // docker-library/redis 7.4/debian docker-entrypoint.sh: chowns /data, then gosu redis
    ref: 'redis:7.4.1',
    source: 'github.com/docker-library/redis 7.4/debian/Dockerfile, docker-entrypoint.sh',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 6379 }],
  },
  {
    // go-gitea/gitea Dockerfile (s6 as root); docker/root/etc/s6/openssh: OpenSSH listens on
    // SSH_LISTEN_PORT (default 22); the database role and database must exist.
    ref: 'gitea/gitea:1.22.6',
    source: 'github.com/go-gitea/gitea v1.22.6 Dockerfile, docker/root/etc/s6/openssh/setup, docker/root/etc/templates/sshd_config',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: ['GITEA__security__INSTALL_LOCK', 'GITEA__security__SECRET_KEY'],
    ports: [{ default: 3000 }, { default: 22, env: 'SSH_LISTEN_PORT' }],
    database: {
      engine: 'postgres',
      when: { env: 'GITEA__database__DB_TYPE', equals: 'postgres' },
      host: 'GITEA__database__HOST',
      name: 'GITEA__database__NAME',
      user: 'GITEA__database__USER',
      password: 'GITEA__database__PASSWD',
    },
  },
  {
    // minio/minio Dockerfile.release: root, `server /data`; console on --console-address
    ref: 'minio/minio:RELEASE.2024-12-18T13-15-44Z',
    source: 'github.com/minio/minio RELEASE.2024-12-18T13-15-44Z Dockerfile.release, dockerscripts/docker-entrypoint.sh',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 9000 }, { arg: '--console-address' }],
  },
  {
    // portainer/portainer build/linux/Dockerfile: FROM scratch, root, no shell; --bind moves 9000
    ref: 'portainer/portainer-ce:2.21.5',
    source: 'github.com/portainer/portainer 2.21.5 build/linux/Dockerfile',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 9000, arg: '--bind' }],
  },
  {
    // pgadmin-org/pgadmin4 pkg/docker/Dockerfile: USER pgadmin (5050:0); entrypoint.sh writes
    // /var/lib/pgadmin (sessions, pgadmin4.db): EACCES on a root-owned mount.
    ref: 'dpage/pgadmin4:8.14',
    source: 'github.com/pgadmin-org/pgadmin4 REL-8_14 pkg/docker/Dockerfile, pkg/docker/entrypoint.sh',
    uid: 5050,
    gid: 0,
    writable: ['/var/lib/pgadmin'],
    files: [],
    env: ['PGADMIN_DEFAULT_EMAIL', 'PGADMIN_DEFAULT_PASSWORD'],
    ports: [{ default: 80, env: 'PGADMIN_LISTEN_PORT' }],
  },
  {
    // mailhog/MailHog Dockerfile: adduser -u 1000 mailhog; USER mailhog
    ref: 'mailhog/mailhog:v1.0.1',
    source: 'github.com/mailhog/MailHog v1.0.1 Dockerfile',
    uid: 1000,
    gid: 1000,
    writable: ['/maildir'],
    files: [],
    env: [],
    ports: [{ default: 1025 }, { default: 8025 }],
  },
  {
    // n8n-io/n8n docker/images/n8n/Dockerfile: USER node (1000:1000); writes ~/.n8n/config at start
    ref: 'n8nio/n8n:1.72.1',
    source: 'github.com/n8n-io/n8n n8n@1.72.1 docker/images/n8n/Dockerfile, docker-entrypoint.sh',
    uid: 1000,
    gid: 1000,
    writable: ['/home/node/.n8n'],
    files: [],
    env: [],
    ports: [{ default: 5678, env: 'N8N_PORT' }],
    database: {
      engine: 'postgres',
      when: { env: 'DB_TYPE', equals: 'postgresdb' },
      host: 'DB_POSTGRESDB_HOST',
      port: 'DB_POSTGRESDB_PORT',
      name: 'DB_POSTGRESDB_DATABASE',
      user: 'DB_POSTGRESDB_USER',
      password: 'DB_POSTGRESDB_PASSWORD',
    },
  },
  {
    // jupyter/docker-stacks images/docker-stacks-foundation/Dockerfile: NB_UID=1000 NB_GID=100
    ref: 'quay.io/jupyter/base-notebook:2024-12-23',
    source: 'github.com/jupyter/docker-stacks 2024-12-23 images/docker-stacks-foundation/Dockerfile, images/base-notebook/Dockerfile',
    uid: 1000,
    gid: 100,
    writable: ['/home/jovyan/work'],
    files: [],
    env: [],
    ports: [{ default: 8888 }],
    healthTools: ['/etc/jupyter/docker_healthcheck.py'],
  },
  {
    // louislam/uptime-kuma docker/dockerfile + extra/entrypoint.sh: chowns /app/data
    ref: 'louislam/uptime-kuma:1.23.16',
    source: 'github.com/louislam/uptime-kuma 1.23.16 docker/dockerfile, docker/etc/entrypoint.sh',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 3001 }],
    healthTools: ['/app/extra/healthcheck'],
  },
  {
    // restic/rest-server Dockerfile + docker/entrypoint.sh: /data/.htpasswd (create_user), else 401
    ref: 'restic/rest-server:0.13.0',
    source: 'github.com/restic/rest-server v0.13.0 Dockerfile, docker/entrypoint.sh, docker/create_user',
    uid: 0,
    gid: 0,
    writable: [],
    files: [{ path: '/data/.htpasswd', format: 'htpasswd', why: 'without users every request is 401' }],
    env: [],
    ports: [{ default: 8000 }],
  },
  {
    // TimWolla/docker-adminer 4/Dockerfile: php -S [::]:8080
    ref: 'adminer:4.8.1',
    source: 'github.com/TimWolla/docker-adminer 4.8.1 Dockerfile',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 8080 }],
  },
  {
    // docker-library/drupal 10.3/php8.3/apache-bookworm/Dockerfile: no entrypoint (DRUPAL_DB_* are
    // ignored); apache's workers run as www-data (33) and write sites/default/files; stock core
    // answers 302 to /core/install.php until settings.php (the site's own code) is there.
    ref: 'drupal:10.3.10-apache',
    source: 'github.com/docker-library/drupal 10.3/php8.3/apache-bookworm/Dockerfile',
    uid: 33,
    gid: 33,
    startsAsRoot: true,
    writable: ['/opt/drupal/web/sites/default/files'],
    files: [],
    env: [],
    ports: [{ default: 80 }],
    installedMarker: '/opt/drupal/web/sites/default/settings.php',
  },
  {
    // docker-library/python 3.12/slim-bookworm/Dockerfile: root, no app; the service's command
    // runs pip on requirements.txt (empty dir -> pip fails -> restart loop).
    ref: 'python:3.12.8-slim',
    source: 'github.com/docker-library/python 3.12/slim-bookworm/Dockerfile',
    uid: 0,
    gid: 0,
    writable: [],
    files: [],
    env: [],
    ports: [{ default: 5000 }],
    realInterpreter: true,
  },
];

export function upstreamImage(ref: string): UpstreamImage | undefined {
  return UPSTREAM_IMAGES.find((i) => i.ref === ref);
}
