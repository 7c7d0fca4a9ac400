/**
 * The fuzz test's starting point: a small inventory that declares every section (so every
 * builder runs) and a secrets file for it. Every string in it (values and map keys) is a field
 * the fuzzer replaces or extends with hostile text.
 */
export const baseInventory = () => ({
  all: {
    vars: { user: 'root', port: 22, host_key_checking: 'strict', known_hosts: '~/.ssh/known_hosts', identity_file: '~/.ssh/id_ed25519' },
    hosts: { web1: { address: '10.0.0.5' } },
    children: { prod: { hosts: { web1: null } } },
  },
  base: {
    hostname: 'web1',
    timezone: 'Europe/Berlin',
    packages: ['curl', 'jq'],
    sysctl: { 'net.ipv4.tcp_syncookies': 1, 'net.core.somaxconn': '4096' },
  },
  ssh: { port: 22, allow_users: ['root'], extra: { Banner: '/etc/issue.net', MaxAuthTries: 4, LogLevel: 'VERBOSE' } },
  firewall: {
    rules: [
      { port: 22, proto: 'tcp', comment: 'ssh management' },
      { port: 443, proto: 'tcp', from: '203.0.113.0/24', comment: 'https' },
      '80/tcp',
    ],
    local_only: ['81/tcp'],
  },
  fail2ban: {
    bantime: '1h',
    ignoreip: ['203.0.113.7'],
    jails: [
      { name: 'npm', filter: 'nginx-http-auth', logpath: ['/mnt/data/npm/logs/proxy.log'], port: 'http,https', bantime: '2h' },
      { name: 'app', filter: 'sshd[mode=ddos]', journalmatch: '_SYSTEMD_UNIT=app.service', port: '8080', proxied: true },
    ],
  },
  docker: {
    source: 'docker-ce',
    repository: { url: 'https://docker-apt.example.net/linux/debian', suite: 'bookworm', components: ['stable'] },
    daemon: { 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' }, 'data-root': '/mnt/data/docker' },
    min_version: '26.0',
  },
  data: {
    root: '/mnt/data',
    directories: [
      { path: 'npm', owner: 'root', mode: '0750', description: 'proxy data' },
      { path: 'app/db', owner: 'root', group: 'root' },
    ],
  },
  secrets: { file: 'secrets.yaml' },
  compose: { dir: '/opt/hostkit/stacks' },
  stacks: {
    app: {
      layer: 'production',
      description: 'the shop',
      networks: { front: { name: 'app_front' } },
      services: {
        db: {
          container_name: 'app-db',
          image: 'postgres:16.6',
          environment: { POSTGRES_PASSWORD: { secret: 'db_password' }, POSTGRES_DB: 'shop', PGTZ: 'UTC' },
          volumes: ['app/db:/var/lib/postgresql/data'],
          networks: ['front'],
          healthcheck: { test: 'pg_isready -U postgres' },
        },
        web: {
          container_name: 'app-web',
          image: 'nginx:1.27.3',
          description: 'front end',
          command: ['nginx', '-g', 'daemon off;'],
          ports: ['127.0.0.1:8080:80'],
          environment: { SHOP_NAME: 'my shop', DB_HOST: 'db' },
          volumes: ['npm:/srv:ro'],
          networks: ['front'],
          depends_on: ['db'],
          healthcheck: { test: ['CMD', 'wget', '-q', '-O-', 'http://localhost/'] },
          domains: ['shop.example.org'],
        },
      },
    },
  },
  backup: {
    repository: 'sftp:backup@203.0.113.9:/srv/restic/web1',
    password_secret: 'restic_password',
    ssh_key_secret: 'backup_ssh_key',
    known_hosts: '203.0.113.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostkitFuzzKey',
    schedule: '*-*-* 03:00:00',
    check_schedule: 'weekly',
    databases: [{ stack: 'app', service: 'db' }],
  },
});

export const baseSecrets = () => ({
  db_password: 'db-password-0123',
  restic_password: 'restic-password-0123',
  backup_ssh_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n',
});
