import { z } from 'zod';
import { absolutePath, networkKey, octalMode, port, safeText, secretName, serviceName, stackName } from '../schema/primitives.js';

/**
 * The platform's sections of the inventory, shared by the stacks, networks and backup roles and
 * the report: `stacks`, `images`, `compose`, `secrets` and `npm`.
 */

export { stackName };

const containerName = safeText.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/, 'a container name: letters, digits, "_", "." and "-"');
const IMAGE = 'an image reference with a pinned tag, e.g. "postgres:16.6" (not "latest")';
/** name[:port]/path:tag or @sha256:digest; "latest" or no tag is not a pinned version. */
export const imageRef = safeText
  .regex(
    /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/,
    IMAGE,
  )
  .refine((r) => !r.endsWith(':latest'), IMAGE);
const DURATION = 'a duration like "30s", "1m", "500ms"';
const duration = safeText.regex(/^\d+(ms|s|m|h)$/, DURATION);
const PUBLISH = 'a published port "IP:HOST:CONTAINER[/tcp|/udp]" with an explicit binding, e.g. "127.0.0.1:81:81" or "0.0.0.0:443:443"';
const publishedPort = safeText.regex(/^(\d{1,3}\.){3}\d{1,3}:\d{1,5}:\d{1,5}(\/(tcp|udp))?$/, PUBLISH);
const VOLUME = 'a volume "SOURCE:TARGET[:ro]"; SOURCE relative to the data root (e.g. "nginx/data") or absolute';
const volume = safeText.regex(/^[^:]+:\/[^:]*(:(ro|rw))?$/, VOLUME);
const envName = safeText.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const healthcheckSchema = z
  .object({
    /** ["CMD", ...] or ["CMD-SHELL", "..."]; a plain string runs with the container's shell. */
    test: z.union([z.array(safeText).min(2), safeText.min(1)], { error: 'a command: ["CMD", ...], ["CMD-SHELL", "..."] or a string' }),
    interval: duration.default('30s'),
    timeout: duration.default('5s'),
    retries: z.number().int().min(1).default(3),
    start_period: duration.default('30s'),
    /** Probe interval during start_period (Docker 25+): a fresh container turns healthy in seconds. */
    start_interval: duration.default('2s'),
  })
  .strict();

const envValue = z.union([safeText, z.number(), z.boolean(), z.object({ secret: secretName }).strict()], {
  error: 'a string, a number, true/false or { secret: <name in the secrets file> }',
});

/** A secret by name; `hash: bcrypt` puts its bcrypt hash in a file instead of the value (htpasswd, users databases). */
const secretRef = z.object({ secret: secretName, hash: z.enum(['bcrypt']).optional() }).strict();
export type SecretRef = z.infer<typeof secretRef>;
export type FileVar = string | number | boolean | SecretRef | FileVar[] | { [key: string]: FileVar };
/** What a managed file's template reads: safe text, numbers, booleans, lists, maps and secrets. */
const fileVar: z.ZodType<FileVar> = z.lazy(() =>
  z.union([secretRef, safeText, z.number(), z.boolean(), z.array(fileVar), z.record(safeText, fileVar)], {
    error: 'a string, number, true/false, list, map or { secret: <name>[, hash: bcrypt] }',
  }),
);
const FILE_PATH = 'a file path: relative to the data root (e.g. "authelia/config/configuration.yml") or absolute, without ".."';
const serviceFileSchema = z
  .object({
    /** Relative to the data root (inside one of the service's volumes), or absolute. */
    path: safeText.regex(/^[^.\s][^\s]*[^/]$/, FILE_PATH).refine((p) => !p.split('/').includes('..'), FILE_PATH),
    /** A Handlebars template under templates/, rendered with { service, vars } through the one instance. */
    template: safeText.regex(
      /^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)*\.hbs$/,
      'a template under templates/, e.g. "authelia/configuration.yml.hbs"',
    ),
    mode: octalMode.default('0600'),
    owner: safeText.regex(/^([a-z_][a-z0-9_-]*|\d+)$/, 'a user name or uid').default('root'),
    group: safeText.regex(/^([a-z_][a-z0-9_-]*|\d+)$/, 'a group name or gid').default('root'),
    vars: z.record(safeText, fileVar).default({}),
  })
  .strict();

const sqlName = safeText.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a database or role name: lowercase letters, digits and "_"');
/** Databases and roles that must exist on a database server (created when missing, never dropped). */
const databaseSchema = z
  .object({
    engine: z.enum(['postgres', 'mariadb']),
    /** The account the server's own client connects as inside the container (socket, no password). */
    admin_user: sqlName.optional(),
    roles: z.array(z.object({ name: sqlName, password: z.object({ secret: secretName }).strict() }).strict()).default([]),
    /** owner: a role (PostgreSQL: the database owner; MariaDB: granted ALL on it). */
    databases: z.array(z.object({ name: sqlName, owner: sqlName }).strict()).default([]),
  })
  .strict();

const GIT_URL =
  'a git repository: https://host/path (no password in it), ssh://[user@]host/path, user@host:path, file:///path or an absolute path';
/** Where the control machine fetches an application's source (it never reaches the server itself). */
export const gitUrl = safeText.refine(
  (u) =>
    /^(https:\/\/([A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+(:\d{1,5})?|ssh:\/\/([A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+(:\d{1,5})?|file:\/\/)\/[A-Za-z0-9._~%+/-]+$/.test(
      u,
    ) ||
    /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~+][A-Za-z0-9._~+/-]*$/.test(u) ||
    /^\/[A-Za-z0-9._~+/-]+$/.test(u),
  GIT_URL,
);
const GIT_REF = 'a branch, a tag or a full 40-hex commit (git check-ref-format rules: no "..", no leading "-" or "/", no ".lock" end)';
/** A ref the control machine resolves to ONE commit per run; that commit is what is built and labelled. */
export const gitRef = safeText.refine(
  (r) =>
    /^[0-9a-f]{40}$/.test(r) ||
    (/^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/.test(r) &&
      !/\.\.|\/\/|\/\.|@\{|\.lock$|\.lock\/|\/$|\.$/.test(r) &&
      !/^refs\/(remotes|hostkit)\//.test(r)),
  GIT_REF,
);
const DOCKERFILE = 'a path inside the repository, e.g. "Dockerfile" or "docker/web.Dockerfile"';
const repoPath = safeText.refine((p) => /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(p) && !p.split('/').includes('..'), DOCKERFILE);

const buildSchema = z
  .object({
    /** The application's repository, fetched by the control machine (prepare). */
    git: gitUrl,
    /** Branch, tag or commit; resolved once per run and pinned: the image carries that commit. */
    ref: gitRef,
    /** The Dockerfile inside the repository (default "Dockerfile"); its last FROM must be the service's image. */
    dockerfile: repoPath.optional(),
  })
  .strict();

const installerSchema = z
  .object({
    /** The container port its web server listens on. */
    port,
    /** The page to ask for (GET, from the host to the container's address). */
    path: safeText.regex(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*$/, 'an absolute URL path, e.g. "/"').default('/'),
    /** A redirect whose Location contains this means the application is not installed: a public installer. */
    redirect: safeText.regex(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*$/, 'an URL path, e.g. "/core/install.php"'),
  })
  .strict();

const serviceSchema = z
  .object({
    container_name: containerName,
    image: imageRef,
    /** The seed's "Role" column. */
    description: safeText.optional(),
    command: z.array(safeText).optional(),
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
    domains: z.array(safeText.regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a domain name')).default([]),
    /** Configuration files rendered from templates/ + secrets; a change restarts this container only. */
    files: z.array(serviceFileSchema).default([]),
    /** On a database server: the databases and roles its consumers need. */
    database: databaseSchema.optional(),
    /**
     * The application's code: an image built from its repository FROM `image` (the upstream image
     * the service runs, whose needs still apply), tagged hostkit-app/<container_name>:git.
     */
    build: buildSchema.optional(),
    /** An application with a web installer: answering GET path with a redirect to it is drift (not installed). */
    installer: installerSchema.optional(),
  })
  .strict();

const stackSchema = z
  .object({
    layer: z.enum(['infrastructure', 'production', 'development']),
    description: safeText.optional(),
    networks: z.record(networkKey, z.object({ name: safeText.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a Docker network name') }).strict()),
    services: z.record(serviceName, serviceSchema),
  })
  .strict();

const imageSourceSchema = z
  .object({
    /** pull (default): from its registry; archive: `docker save` tarball on the control machine; build: a build context. */
    source: z.enum(['pull', 'archive', 'build']),
    /** archive: path of the tarball (relative to the first inventory file's directory). */
    archive: safeText.min(1).optional(),
    /** archive: the image's tag inside the tarball when it is not the reference itself. */
    archive_tag: safeText.min(1).optional(),
    /** build: the context directory (relative like archive). */
    context: safeText.min(1).optional(),
    dockerfile: safeText.min(1).optional(),
  })
  .strict();

export const composeSchema = z
  .object({
    /** Stack directories on the server: <dir>/<stack>/compose.yaml and .env (mode 600). */
    dir: absolutePath.default('/opt/hostkit/stacks'),
    /** Seconds `docker compose up --wait` may take for a stack to become healthy. */
    wait_timeout: z.number().int().min(5).default(300),
  })
  .strict();

export const secretsSchema = z
  .object({
    /** YAML map name -> value, outside git; relative to the first inventory file's directory. --secrets FILE overrides. */
    file: safeText.min(1),
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

// Defined apart (src/schema/published-port.ts): the platform model reads ports without loading zod.
export { type PublishedPort, parsePublishedPort } from '../schema/published-port.js';

/** The platform's sections as the inventory schema composes them (each optional). */
export const platformSections = {
  secrets: secretsSchema.optional(),
  compose: composeSchema.optional(),
  images: z.record(imageRef, imageSourceSchema).optional(),
  stacks: z.record(stackName, stackSchema).optional(),
  npm: npmSchema.optional(),
};

export type StackConfig = z.infer<typeof stackSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type ImageSourceConfig = z.infer<typeof imageSourceSchema>;
export type ServiceFileConfig = z.infer<typeof serviceFileSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type HealthcheckConfig = z.infer<typeof healthcheckSchema>;
export type BuildConfig = z.infer<typeof buildSchema>;
export type InstallerConfig = z.infer<typeof installerSchema>;
export type NpmConfig = z.infer<typeof npmSchema>;
export type ComposeConfig = z.infer<typeof composeSchema>;
export type SecretsConfig = z.infer<typeof secretsSchema>;

/**
 * What the platform reads of an inventory document: its own sections and the data root (the
 * data role's section). Structural, so platform code needs no import of the inventory.
 */
export interface PlatformSections {
  secrets?: SecretsConfig | undefined;
  compose?: ComposeConfig | undefined;
  images?: Record<string, ImageSourceConfig> | undefined;
  stacks?: Record<string, StackConfig> | undefined;
  npm?: NpmConfig | undefined;
  data?: { root: string; directories: { path: string }[] } | undefined;
}
