import { z } from 'zod';
import { hardeningSchema } from '../roles/hardening.schema.js';

/**
 * The inventory schema: Ansible-style hosts and groups under `all`, plus the declared platform.
 * Every object is strict: an unknown key is an error, reported with its line and column.
 */
const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a host name: letters, digits, "_", "." and "-"');
// Messages are noun phrases naming what was expected: the loader words them as
// `expected <message>, got <value>` (see errors.ts).
const PORT = 'an integer 1..65535';
const port = z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT });
const MODE = 'an octal mode as a quoted string, e.g. "0750"';
// Unquoted 0750 is the integer 750 in YAML 1.2, hence the type error also asks for quotes.
const octalMode = z
  .string({ error: MODE })
  .regex(/^0?[0-7]{3,4}$/, MODE)
  .transform((m) => m.replace(/^0?([0-7]{3,4})$/, '$1').padStart(4, '0'));
const posixName = z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, 'a user or group name');

/** Connection and behaviour variables a host may set directly or inherit from a group's vars. */
export const hostVarsSchema = z
  .object({
    address: z.string().min(1),
    port: port,
    user: z.string().min(1),
    identity_file: z.string().min(1),
    become: z.boolean(),
    connection: z.enum(['ssh', 'local']),
    /** A protected host is contacted only when named with --limit, or from itself (local). */
    protected: z.boolean(),
    known_hosts: z.string().min(1),
    /** strict: unknown or changed keys refused; accept-new: like OpenSSH's, unknown keys recorded. */
    host_key_checking: z.enum(['strict', 'accept-new']),
    /** Seconds (HostConfig.connectTimeoutMs is milliseconds). */
    connect_timeout: z.number({ error: 'a number of seconds > 0' }).positive({ error: 'a number of seconds > 0' }),
  })
  .partial()
  .strict();

const groupSchema: z.ZodType<Group> = z.lazy(() =>
  z
    .object({
      hosts: z.record(hostName, hostVarsSchema.nullable()).optional(),
      vars: hostVarsSchema.optional(),
      children: z.record(hostName, groupSchema.nullable()).optional(),
    })
    .strict(),
);
export interface Group {
  hosts?: Record<string, z.infer<typeof hostVarsSchema> | null>;
  vars?: z.infer<typeof hostVarsSchema>;
  children?: Record<string, Group | null>;
}

const ruleString = z.string().regex(/^\d{1,5}(:\d{1,5})?(\/(tcp|udp))?$/, 'a rule like "22/tcp", "80", "6000:6007/udp"');

const rulePort = z.union([port, z.string().regex(/^\d{1,5}(:\d{1,5})?$/, 'a port or range "6000:6007"')], {
  error: 'a port 1..65535 or a range like "6000:6007"',
});

const ruleObject = z
  .object({
    port: rulePort,
    proto: z.enum(['tcp', 'udp', 'any']).default('tcp'),
    action: z.enum(['allow', 'limit', 'deny', 'reject']).default('allow'),
    from: z.string().default('any'),
    comment: z
      .string()
      .max(200)
      .regex(/^[^']*$/, "a comment without ' (ufw refuses it)")
      .optional(),
  })
  .strict();

// The union-level message only shows when the value is neither a string nor a map.
const firewallRuleSchema = z.union([ruleString, ruleObject], {
  error: 'a rule like "22/tcp" or a map with port, proto, action, from, comment',
});

export const firewallSchema = z
  .object({
    defaults: z
      .object({
        incoming: z.enum(['deny', 'allow', 'reject']).default('deny'),
        outgoing: z.enum(['deny', 'allow', 'reject']).default('allow'),
        routed: z.enum(['deny', 'allow', 'reject', 'disabled']).default('disabled'),
      })
      .strict()
      .default({ incoming: 'deny', outgoing: 'allow', routed: 'disabled' }),
    logging: z.enum(['off', 'low', 'medium', 'high', 'full']).optional(),
    rules: z.array(firewallRuleSchema).default([]),
    /** Filter published container ports like the host (DOCKER-USER through ufw's after.rules). */
    docker: z.boolean().default(false),
    /** Seconds after which the host restores the previous rules unless a fresh SSH login worked. */
    deadman_timeout: z
      .number({ error: 'a number of seconds 10..3600' })
      .int({ error: 'a number of seconds 10..3600' })
      .min(10, { error: 'a number of seconds 10..3600' })
      .max(3600, { error: 'a number of seconds 10..3600' })
      .default(60),
    /** Ports that may only listen on loopback (reach them through an SSH tunnel): "81", "81/tcp". */
    local_only: z.array(z.union([port, ruleString], { error: 'a port like 81 or "81/tcp"' })).default([]),
  })
  .strict();

const versionString = z.string().regex(/^\d+(\.\d+){0,3}$/, 'a version like "26.1" or "2.20.0"');

export const dockerSchema = z
  .object({
    /** debian: Debian's docker.io + docker-compose (Debian 13); docker-ce: Docker's own apt repository. */
    source: z.enum(['debian', 'docker-ce']).default('debian'),
    /** Override the package list of the source. */
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'a Debian package name')).optional(),
    /** docker-ce only: the apt repository (default https://download.docker.com/linux/<distribution id>). */
    repository: z
      .object({
        url: z.string().url().optional(),
        /** Distribution codename; default the host's VERSION_CODENAME. */
        suite: z
          .string()
          .regex(/^[a-z0-9-]+$/)
          .optional(),
        components: z.array(z.string().regex(/^[a-z0-9-]+$/)).default(['stable']),
        /** URL of the ASCII-armored signing key (default <url>/gpg), fetched on the host when absent. */
        key_url: z.string().url().optional(),
        /** Or the key itself (ASCII-armored), written as is. */
        key: z.string().includes('BEGIN PGP PUBLIC KEY BLOCK').optional(),
      })
      .strict()
      .default({ components: ['stable'] }),
    /** /etc/docker/daemon.json as a map; absent: the file is not managed. */
    daemon: z.record(z.string(), z.json()).optional(),
    /** --check fails below these. */
    min_version: versionString.optional(),
    compose_min_version: versionString.optional(),
  })
  .strict();

const directorySchema = z
  .object({
    path: z
      .string({ error: 'a path relative to the data root' })
      .regex(/^[^/\0][^\0]*$/, 'a path relative to the data root')
      .refine((p) => !p.split('/').includes('..'), 'a path without ".." components'),
    owner: posixName.optional(),
    group: posixName.optional(),
    mode: octalMode.optional(),
    description: z.string().optional(),
  })
  .strict();

export const dataSchema = z
  .object({
    root: z.string({ error: 'an absolute path' }).regex(/^\/[^\0]*$/, 'an absolute path'),
    owner: posixName.default('root'),
    group: posixName.default('root'),
    mode: octalMode.default('0755'),
    directories: z.array(directorySchema).default([]),
  })
  .strict();

// ------------------------------------------------------------------ the platform (compose stacks)

const dnsLabelName = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, `${what}: lowercase letters, digits, "_" and "-"`);
/** Compose project names are what `docker compose ls` and the project label show. */
export const stackName = dnsLabelName('a stack (compose project) name');
const serviceName = dnsLabelName('a service name');
const networkKey = dnsLabelName('a network key');
const secretName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a secret name: lowercase letters, digits and "_"');
const containerName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/, 'a container name: letters, digits, "_", "." and "-"');
const IMAGE = 'an image reference with a pinned tag, e.g. "postgres:16.6" (not "latest")';
/** name[:port]/path:tag or @sha256:digest; "latest" or no tag is not a pinned version. */
export const imageRef = z
  .string({ error: IMAGE })
  .regex(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/,
    IMAGE,
  )
  .refine((r) => !r.endsWith(':latest'), IMAGE);
const DURATION = 'a duration like "30s", "1m", "500ms"';
const duration = z.string({ error: DURATION }).regex(/^\d+(ms|s|m|h)$/, DURATION);
const PUBLISH = 'a published port "IP:HOST:CONTAINER[/tcp|/udp]" with an explicit binding, e.g. "127.0.0.1:81:81" or "0.0.0.0:443:443"';
const publishedPort = z.string({ error: PUBLISH }).regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}:\d{1,5}(\/(tcp|udp))?$/, PUBLISH);
const VOLUME = 'a volume "SOURCE:TARGET[:ro]"; SOURCE relative to the data root (e.g. "nginx/data") or absolute';
const volume = z.string({ error: VOLUME }).regex(/^[^:\0]+:\/[^:\0]*(:(ro|rw))?$/, VOLUME);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const healthcheckSchema = z
  .object({
    /** ["CMD", ...] or ["CMD-SHELL", "..."]; a plain string runs with the container's shell. */
    test: z.union([z.array(z.string()).min(2), z.string().min(1)], { error: 'a command: ["CMD", ...], ["CMD-SHELL", "..."] or a string' }),
    interval: duration.default('30s'),
    timeout: duration.default('5s'),
    retries: z.number().int().min(1).default(3),
    start_period: duration.default('30s'),
    /** Probe interval during start_period (Docker 25+): a fresh container turns healthy in seconds. */
    start_interval: duration.default('2s'),
  })
  .strict();

const envValue = z.union([z.string(), z.number(), z.boolean(), z.object({ secret: secretName }).strict()], {
  error: 'a string, a number, true/false or { secret: <name in the secrets file> }',
});

const serviceSchema = z
  .object({
    container_name: containerName,
    image: imageRef,
    /** The seed's "Role" column. */
    description: z.string().optional(),
    command: z.array(z.string()).optional(),
    /** Published ports; the binding address is required so nothing is public by accident. */
    ports: z.array(publishedPort).default([]),
    /** Ports the service listens on inside Docker networks only (never published). */
    expose: z.array(port).default([]),
    environment: z.record(envName, envValue).default({}),
    volumes: z.array(volume).default([]),
    networks: z.array(networkKey).min(1, { error: 'at least one network of the stack' }),
    depends_on: z.array(serviceName).default([]),
    healthcheck: healthcheckSchema.optional(),
    restart: z.enum(['always', 'unless-stopped', 'on-failure', 'no']).default('always'),
    domains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a domain name')).default([]),
  })
  .strict();

const stackSchema = z
  .object({
    layer: z.enum(['infrastructure', 'production', 'development']),
    description: z.string().optional(),
    networks: z.record(networkKey, z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a Docker network name') }).strict()),
    services: z.record(serviceName, serviceSchema),
  })
  .strict();

const imageSourceSchema = z
  .object({
    /** pull (default): from its registry; archive: `docker save` tarball on the control machine; build: a build context. */
    source: z.enum(['pull', 'archive', 'build']),
    /** archive: path of the tarball (relative to the first inventory file's directory). */
    archive: z.string().min(1).optional(),
    /** archive: the image's tag inside the tarball when it is not the reference itself. */
    archive_tag: z.string().min(1).optional(),
    /** build: the context directory (relative like archive). */
    context: z.string().min(1).optional(),
    dockerfile: z.string().min(1).optional(),
  })
  .strict();

export const composeSchema = z
  .object({
    /** Stack directories on the server: <dir>/<stack>/compose.yaml and .env (mode 600). */
    dir: z
      .string()
      .regex(/^\/[^\0]*$/, 'an absolute path')
      .default('/opt/hostkit/stacks'),
    /** Seconds `docker compose up --wait` may take for a stack to become healthy. */
    wait_timeout: z.number().int().min(5).default(300),
  })
  .strict();

export const secretsSchema = z
  .object({
    /** YAML map name -> value, outside git; relative to the first inventory file's directory. --secrets FILE overrides. */
    file: z.string().min(1),
  })
  .strict();

const stackNetworkRef = z.object({ stack: stackName, network: networkKey }).strict();
export const npmSchema = z
  .object({
    stack: stackName,
    service: serviceName,
    /** Networks the proxy container is connected to (additively) besides its own compose networks. */
    networks: z.array(stackNetworkRef).default([]),
  })
  .strict();

// ------------------------------------------------------------------ host: base system, ssh, fail2ban

const DEB_PACKAGE = 'a Debian package name';
const debPackage = z.string({ error: DEB_PACKAGE }).regex(/^[a-z0-9][a-z0-9+.-]+$/, DEB_PACKAGE);
const TIMEZONE = 'a zone of /usr/share/zoneinfo, e.g. "UTC" or "Europe/Moscow"';
const SYSCTL_KEY = 'a sysctl key like "net.ipv4.tcp_syncookies"';

export const baseSchema = z
  .object({
    /** Installed (never removed): what the platform needs on every host. */
    packages: z.array(debPackage).default([]),
    /** Short host name (one label); absent: left as it is. */
    hostname: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a short host name: lowercase letters, digits and "-"')
      .optional(),
    timezone: z
      .string({ error: TIMEZONE })
      .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, TIMEZONE)
      .default('UTC'),
    /** Daily unattended security upgrades (unattended-upgrades + APT::Periodic). */
    unattended_upgrades: z.boolean().default(true),
    /** Kernel parameters, set now and persisted in /etc/sysctl.d/90-hostkit.conf. */
    sysctl: z
      .record(
        z.string().regex(/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/, SYSCTL_KEY),
        z.union([z.number(), z.string().regex(/^[^\n=#]+$/)], { error: 'a number or a one-line value' }),
      )
      .default({}),
  })
  .strict();

/** sshd keywords the inventory may set besides the ones the ssh role owns (auth, root, users, port). */
export const SSH_EXTRA_OPTIONS = [
  'AllowAgentForwarding',
  'AllowStreamLocalForwarding',
  'AllowTcpForwarding',
  'AuthorizedKeysFile',
  'Banner',
  'ClientAliveCountMax',
  'ClientAliveInterval',
  'Compression',
  'GatewayPorts',
  'LogLevel',
  'LoginGraceTime',
  'MaxAuthTries',
  'MaxSessions',
  'MaxStartups',
  'PerSourceMaxStartups',
  'PerSourcePenalties',
  'PerSourcePenaltyExemptList',
  'PermitTunnel',
  'PermitUserEnvironment',
  'PrintLastLog',
  'PrintMotd',
  'TCPKeepAlive',
  'UseDNS',
  'X11Forwarding',
] as const;
const SSH_VALUE = 'a one-line value without "#", a number or true/false';
const sshOptionValue = z.union([z.string().regex(/^[^\n\r#]+$/), z.number(), z.boolean()], { error: SSH_VALUE });
const SECONDS = 'a number of seconds 10..3600';
const deadmanSeconds = z.number({ error: SECONDS }).int({ error: SECONDS }).min(10, { error: SECONDS }).max(3600, { error: SECONDS });

export const sshSchema = z
  .object({
    /** Must be the port hostkit connects to (the fresh-login proof runs there). Absent: not managed. */
    port: port.optional(),
    permit_root_login: z.enum(['prohibit-password', 'no', 'yes']).default('prohibit-password'),
    /** AllowUsers; empty: every user may log in (with a key). */
    allow_users: z.array(posixName).default([]),
    password_authentication: z.boolean().default(false),
    extra: z.partialRecord(z.enum(SSH_EXTRA_OPTIONS), sshOptionValue).default({}),
    /** Seconds after which the host restores the previous drop-in unless a fresh SSH login worked. */
    deadman_timeout: deadmanSeconds.default(60),
  })
  .strict()
  .superRefine((s, ctx) => {
    const level = s.extra.LogLevel;
    if (level !== undefined && !/^(INFO|VERBOSE)$/i.test(String(level))) {
      ctx.addIssue({
        code: 'custom',
        path: ['extra', 'LogLevel'],
        message: 'INFO or VERBOSE (fail2ban reads the INFO lines)',
        input: level,
      });
    }
    const sessions = s.extra.MaxSessions;
    if (sessions !== undefined && !(typeof sessions === 'number' && sessions >= 8)) {
      ctx.addIssue({
        code: 'custom',
        path: ['extra', 'MaxSessions'],
        message: 'a number >= 8 (hostkit runs up to 8 sessions per connection)',
        input: sessions,
      });
    }
  });

const F2B_TIME = 'a time: seconds, or a number with s, m, h, d or w ("10m", "1h", "1w")';
const f2bTime = z.union([z.number().int().positive(), z.string().regex(/^\d+[smhdw]$/)], { error: F2B_TIME });
const IP_OR_NET = 'an IPv4 or IPv6 address or network, e.g. "203.0.113.7" or "10.0.0.0/8"';
const ipOrNet = z.string({ error: IP_OR_NET }).regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(\/\d{1,3})?$/, IP_OR_NET);
const F2B_FILTER = 'a fail2ban filter, optionally with parameters: "nginx-http-auth", "sshd[mode=aggressive]"';

const fail2banJailSchema = z
  .object({
    // iptables chain names are short: f2b-<name>-docker must fit in 28 characters.
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,15}$/, 'a jail name: lowercase letters, digits, "_" and "-" (at most 16)'),
    filter: z.string({ error: F2B_FILTER }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*(\[[^\]\n]*\])?$/, F2B_FILTER),
    /** Log files (file backend) ... */
    logpath: z
      .array(z.string().regex(/^\/[^\s\0]*$/, 'an absolute path without spaces'))
      .min(1)
      .optional(),
    /** ... or journal matches (systemd backend), e.g. "_SYSTEMD_UNIT=nginx.service". */
    journalmatch: z
      .string()
      .regex(/^[^\n]+$/)
      .optional(),
    port: z
      .string()
      .regex(/^[a-z0-9]+([,:][a-z0-9]+)*$/, 'ports like "http,https" or "8080"')
      .default('http,https'),
    maxretry: z.number().int().min(1).optional(),
    bantime: f2bTime.optional(),
    findtime: f2bTime.optional(),
    /** The app is reached through Docker-published ports: also ban forwarded traffic (no INPUT rule sees it). */
    proxied: z.boolean().default(false),
  })
  .strict()
  .refine((j) => (j.logpath === undefined) !== (j.journalmatch === undefined), {
    error: 'either logpath (log files) or journalmatch (systemd journal), not both',
  });

export const fail2banSchema = z
  .object({
    bantime: f2bTime.default('1h'),
    findtime: f2bTime.default('10m'),
    maxretry: z.number().int().min(1).default(5),
    /** Never banned: the operator's addresses (loopback is always added). */
    ignoreip: z.array(ipOrNet).default([]),
    /** How a ban blocks the host's ports: ufw (one rule per ban, needs the firewall role) or fail2ban's own nftables table. */
    banaction: z.enum(['ufw', 'nftables']).default('ufw'),
    sshd: z
      .object({
        enabled: z.boolean().default(true),
        /** aggressive counts wrong-key attempts (key-only SSH logs no "Failed password"). */
        mode: z.enum(['normal', 'ddos', 'extra', 'aggressive']).default('aggressive'),
        port: z.union([port, z.literal('ssh')]).default('ssh'),
        maxretry: z.number().int().min(1).optional(),
        bantime: f2bTime.optional(),
        findtime: f2bTime.optional(),
      })
      .strict()
      .prefault({}),
    /** Bans repeat offenders (from fail2ban's own log) for longer, on all ports. */
    recidive: z
      .object({
        enabled: z.boolean().default(true),
        bantime: f2bTime.default('1w'),
        findtime: f2bTime.default('1d'),
        maxretry: z.number().int().min(1).default(5),
      })
      .strict()
      .prefault({}),
    jails: z.array(fail2banJailSchema).default([]),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>(['sshd', 'recidive']);
    f.jails.forEach((j, i) => {
      if (seen.has(j.name))
        ctx.addIssue({
          code: 'custom',
          path: ['jails', i, 'name'],
          message: 'a jail name not used above (sshd and recidive are built in)',
          input: j.name,
        });
      seen.add(j.name);
    });
  });

// ------------------------------------------------------------------ backups (restic)

const REPOSITORY = 'a restic repository: "sftp:user@host:/path", "/local/path" or "s3:http://host:9000/bucket"';
const HOURS = 'a number of hours > 0';
export const backupSchema = z
  .object({
    /** Default case: an offsite sftp: repository on a backup host; a local path and s3: also work. */
    repository: z.string({ error: REPOSITORY }).regex(/^(sftp:[^\s:@]+@[^\s:]+:\/\S*|\/\S+|s3:\S+)$/, REPOSITORY),
    /** Secret holding the restic repository password (never written anywhere but a 0600 file). */
    password_secret: secretName,
    /** Secret holding the private SSH key restic's sftp uses (sftp: repositories). */
    ssh_key_secret: secretName.optional(),
    /** The backup host's known_hosts line(s); absent: its key is recorded on first use (accept-new). */
    known_hosts: z.string().optional(),
    /** Secrets with S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) for s3: repositories. */
    s3_access_key_secret: secretName.optional(),
    s3_secret_key_secret: secretName.optional(),
    /** systemd OnCalendar of the backup timer. */
    schedule: z
      .string()
      .regex(/^[^\n'"]+$/)
      .default('*-*-* 03:00:00'),
    /** systemd OnCalendar of the periodic `restic check`. */
    check_schedule: z
      .string()
      .regex(/^[^\n'"]+$/)
      .default('weekly'),
    retention: z
      .object({
        keep_daily: z.number().int().min(0).default(7),
        keep_weekly: z.number().int().min(0).default(4),
        keep_monthly: z.number().int().min(0).default(6),
      })
      .strict()
      .default({ keep_daily: 7, keep_weekly: 4, keep_monthly: 6 }),
    /** `scripts/backup.mjs --check` fails when the newest snapshot is older than this. */
    max_age_hours: z.number({ error: HOURS }).positive({ error: HOURS }).default(26),
    /** Database containers dumped before each snapshot; absent: every postgres/mariadb service of the stacks. */
    databases: z.array(z.object({ stack: stackName, service: serviceName }).strict()).optional(),
  })
  .strict();
export type BackupConfig = z.infer<typeof backupSchema>;

export const inventorySchema = z
  .object({
    all: groupSchema,
    firewall: firewallSchema.optional(),
    data: dataSchema.optional(),
    docker: dockerSchema.optional(),
    secrets: secretsSchema.optional(),
    compose: composeSchema.optional(),
    images: z.record(imageRef, imageSourceSchema).optional(),
    stacks: z.record(stackName, stackSchema).optional(),
    npm: npmSchema.optional(),
    base: baseSchema.optional(),
    ssh: sshSchema.optional(),
    fail2ban: fail2banSchema.optional(),
    backup: backupSchema.optional(),
    hardening: hardeningSchema.optional(),
  })
  .strict();

export type InventoryDocument = z.infer<typeof inventorySchema>;
export type HostVars = z.infer<typeof hostVarsSchema>;
export type FirewallConfig = z.infer<typeof firewallSchema>;
export type FirewallRuleInput = z.infer<typeof firewallRuleSchema>;
export type DataConfig = z.infer<typeof dataSchema>;
export type DockerConfig = z.infer<typeof dockerSchema>;
export type StackConfig = z.infer<typeof stackSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type ImageSourceConfig = z.infer<typeof imageSourceSchema>;
export type HealthcheckConfig = z.infer<typeof healthcheckSchema>;
export type NpmConfig = z.infer<typeof npmSchema>;
export type BaseConfig = z.infer<typeof baseSchema>;
export type SshConfig = z.infer<typeof sshSchema>;
export type Fail2banConfig = z.infer<typeof fail2banSchema>;
export type Fail2banJailConfig = z.infer<typeof fail2banJailSchema>;
