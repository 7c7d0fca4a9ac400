import { dirname, isAbsolute, resolve } from 'node:path';
import type {
  BuildConfig,
  FileVar,
  HealthcheckConfig,
  ImageSourceConfig,
  InstallerConfig,
  PlatformSections,
  PublishedPort,
  ServiceConfig,
} from './schema.js';
import { parsePublishedPort } from '../schema/published-port.js';

/**
 * The platform as the roles and the report read it: the inventory's `stacks`, `images`, `npm`,
 * `compose` and `secrets` sections, normalised (stacks in layer order, data paths absolute,
 * image sources resolved). Pure: no file is read here.
 */

export { parsePublishedPort, type PublishedPort };

export type Layer = 'infrastructure' | 'production' | 'development';
/** Bring-up order: each layer gates the next (issue 5). */
export const LAYERS: readonly Layer[] = ['infrastructure', 'production', 'development'];

export interface VolumeMount {
  /** Absolute host path (relative sources are under the data root). */
  source: string;
  target: string;
  readOnly: boolean;
  /** First path segment under the data root, i.e. the `data.directories` entry it lives in. */
  dataDir?: string;
}

/** A configuration file of a service, rendered from templates/ with its vars (secrets resolved in prepare). */
export interface ServiceFileModel {
  /** Absolute path on the host. */
  path: string;
  template: string;
  mode: string;
  owner: string;
  group: string;
  vars: Record<string, FileVar>;
}

export type DbEngine = 'postgres' | 'mariadb';

/** The databases and roles a database server must have (src/resources/databases.ts). */
export interface DatabaseModel {
  engine: DbEngine;
  /** Who the server's client connects as inside the container. */
  adminUser: string;
  roles: { name: string; secret: string }[];
  databases: { name: string; owner: string }[];
}

export type EnvEntry = { name: string; value: string } | { name: string; secret: string };

export interface ServiceModel {
  stack: string;
  /** Compose service key (the com.docker.compose.service label). */
  key: string;
  containerName: string;
  image: string;
  description: string;
  command?: string[];
  ports: PublishedPort[];
  expose: number[];
  environment: EnvEntry[];
  volumes: VolumeMount[];
  networks: string[];
  dependsOn: string[];
  healthcheck?: HealthcheckConfig;
  restart: ServiceConfig['restart'];
  domains: string[];
  files: ServiceFileModel[];
  database?: DatabaseModel;
  /** Built from the application's repository FROM `image`; compose runs `build.tag`. */
  build?: AppBuild;
  installer?: InstallerConfig;
}

/** A service's application image: its repository, the ref pinned per run, the tag compose runs. */
export interface AppBuild {
  git: string;
  ref: string;
  dockerfile: string;
  /** hostkit-app/<container name>:git (one image per service: each may follow its own ref). */
  tag: string;
}

/** The local tag of a service's application image (a Docker repository name: lowercase). */
export const appImageTag = (containerName: string): string =>
  `hostkit-app/${containerName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:git`;

/** The image compose runs for a service: its application build, else its upstream image. */
export const runImage = (s: Pick<ServiceModel, 'image' | 'build'>): string => s.build?.tag ?? s.image;

function appBuild(containerName: string, b: BuildConfig): AppBuild {
  return { git: b.git, ref: b.ref, dockerfile: b.dockerfile ?? 'Dockerfile', tag: appImageTag(containerName) };
}

export interface NetworkModel {
  /** Key in the compose file (the com.docker.compose.network label). */
  key: string;
  /** Docker network name, as the seed gives it. */
  name: string;
}

export interface StackModel {
  /** Compose project name (the com.docker.compose.project label). */
  name: string;
  layer: Layer;
  description: string;
  networks: NetworkModel[];
  services: ServiceModel[];
  /** Directory on the server holding compose.yaml and .env. */
  dir: string;
}

export type ImageSource =
  | { ref: string; source: 'pull' }
  | { ref: string; source: 'archive'; archive: string; archiveTag: string }
  | { ref: string; source: 'build'; context: string; dockerfile?: string };

export interface NpmModel {
  stack: string;
  service: string;
  networks: { stack: string; network: string }[];
}

export interface PlatformModel {
  dataRoot: string;
  stacksDir: string;
  waitTimeoutS: number;
  /** Infrastructure, then production, then development; declared order within a layer. */
  stacks: StackModel[];
  /** Every image a service uses, with where it comes from. */
  images: ImageSource[];
  npm?: NpmModel;
  /** Absolute path of the secrets file named by the inventory, if any. */
  secretsFile?: string;
}

const trimSlash = (p: string) => p.replace(/\/+$/, '') || '/';

export function parseVolume(spec: string, dataRoot: string): VolumeMount {
  const [source, target, flag] = spec.split(':');
  const relative = !source!.startsWith('/');
  const clean = source!.replace(/^\.\//, '').replace(/\/+$/, '');
  return {
    source: relative ? `${trimSlash(dataRoot)}/${clean}` : source!,
    target: target!,
    readOnly: flag === 'ro',
    ...(relative ? { dataDir: clean.split('/')[0]! } : {}),
  };
}

function serviceModel(stack: string, key: string, s: ServiceConfig, dataRoot: string): ServiceModel {
  return {
    stack,
    key,
    containerName: s.container_name,
    image: s.image,
    description: s.description ?? '',
    ...(s.command ? { command: s.command } : {}),
    ports: s.ports.map(parsePublishedPort),
    expose: s.expose,
    environment: Object.entries(s.environment).map(([name, v]) =>
      typeof v === 'object' ? { name, secret: v.secret } : { name, value: String(v) },
    ),
    volumes: s.volumes.map((v) => parseVolume(v, dataRoot)),
    networks: s.networks,
    dependsOn: s.depends_on,
    ...(s.healthcheck ? { healthcheck: s.healthcheck } : {}),
    restart: s.restart,
    domains: s.domains,
    files: s.files.map((f) => ({
      path: f.path.startsWith('/') ? f.path : `${trimSlash(dataRoot)}/${f.path}`,
      template: f.template,
      mode: f.mode,
      owner: f.owner,
      group: f.group,
      vars: f.vars,
    })),
    ...(s.database
      ? {
          database: {
            engine: s.database.engine,
            adminUser: s.database.admin_user ?? (s.database.engine === 'postgres' ? 'postgres' : 'root'),
            roles: s.database.roles.map((r) => ({ name: r.name, secret: r.password.secret })),
            databases: s.database.databases,
          },
        }
      : {}),
    ...(s.build ? { build: appBuild(s.container_name, s.build) } : {}),
    ...(s.installer ? { installer: s.installer } : {}),
  };
}

/** What the platform reads of a loaded inventory: its files and its document (an Inventory is one). */
export interface PlatformInventory {
  sources: readonly string[];
  doc: PlatformSections;
}

/** Paths in the inventory are relative to the directory of the first inventory file. */
export function inventoryBaseDir(inventory: Pick<PlatformInventory, 'sources'>): string {
  const first = inventory.sources[0];
  return first ? dirname(resolve(first)) : process.cwd();
}

function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

function imageSource(ref: string, cfg: ImageSourceConfig | undefined, base: string): ImageSource {
  if (!cfg || cfg.source === 'pull') return { ref, source: 'pull' };
  if (cfg.source === 'archive')
    return { ref, source: 'archive', archive: resolvePath(base, cfg.archive ?? ''), archiveTag: cfg.archive_tag ?? ref };
  return { ref, source: 'build', context: resolvePath(base, cfg.context ?? ''), ...(cfg.dockerfile ? { dockerfile: cfg.dockerfile } : {}) };
}

export function platformModel(doc: PlatformSections, baseDir: string = process.cwd()): PlatformModel {
  const dataRoot = trimSlash(doc.data?.root ?? '/mnt/data');
  const stacksDir = trimSlash(doc.compose?.dir ?? '/opt/hostkit/stacks');
  const declared = Object.entries(doc.stacks ?? {});
  const stacks: StackModel[] = LAYERS.flatMap((layer) =>
    declared
      .filter(([, s]) => s.layer === layer)
      .map(([name, s]) => ({
        name,
        layer,
        description: s.description ?? '',
        networks: Object.entries(s.networks).map(([key, n]) => ({ key, name: n.name })),
        services: Object.entries(s.services).map(([key, svc]) => serviceModel(name, key, svc, dataRoot)),
        // The one path built from a name: our own directory layout, documented in the README.
        dir: `${stacksDir}/${name}`,
      })),
  );
  const refs = [...new Set(stacks.flatMap((s) => s.services.map((x) => x.image)))];
  return {
    dataRoot,
    stacksDir,
    waitTimeoutS: doc.compose?.wait_timeout ?? 300,
    stacks,
    images: refs.map((ref) => imageSource(ref, doc.images?.[ref], baseDir)),
    ...(doc.npm ? { npm: { stack: doc.npm.stack, service: doc.npm.service, networks: doc.npm.networks } } : {}),
    ...(doc.secrets ? { secretsFile: resolvePath(baseDir, doc.secrets.file) } : {}),
  };
}

export function platformOf(inventory: PlatformInventory): PlatformModel {
  return platformModel(inventory.doc, inventoryBaseDir(inventory));
}

export const allServices = (p: PlatformModel): ServiceModel[] => p.stacks.flatMap((s) => s.services);

/** Secret names a service's environment uses (what its stack's .env carries). */
export const secretsOf = (s: ServiceModel): string[] => s.environment.flatMap((e) => ('secret' in e ? [e.secret] : []));

/** Secret names in a file's vars, at any depth. */
export function fileVarSecrets(v: FileVar): string[] {
  if (Array.isArray(v)) return v.flatMap(fileVarSecrets);
  if (v && typeof v === 'object')
    return 'secret' in v && typeof v.secret === 'string' ? [v.secret] : Object.values(v).flatMap(fileVarSecrets);
  return [];
}

/** The variable a secret is passed as in a stack's .env and referenced as in compose.yaml. */
export const secretVariable = (secret: string): string => `HOSTKIT_SECRET_${secret.toUpperCase()}`;

export function findService(p: PlatformModel, stack: string, service: string): ServiceModel | undefined {
  return p.stacks.find((s) => s.name === stack)?.services.find((s) => s.key === service);
}
