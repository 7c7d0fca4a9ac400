import type { Resource, Role } from '../engine/types.js';
import { Directory } from '../resources/directory.js';
import { ImageArchive, ImageBuild, ImagePull } from '../resources/stack-images.js';
import { AppImage } from '../resources/app-image.js';
import { InstallerCheck } from '../resources/installer-check.js';
import { StackComposeFile, StackEnvFile } from '../resources/stack-files.js';
import { StackUp } from '../resources/stack-up.js';
import { restartHandler, ServiceFile } from '../resources/service-file.js';
import { Databases } from '../resources/databases.js';
import { renderCompose } from '../platform/compose.js';
import { renderEnvFile } from '../platform/secrets.js';
import { platformOf, runImage, type PlatformModel } from '../platform/model.js';
import { preparePlatform, type PreparedPlatform } from '../platform/prepare.js';

/** Resources of the stacks role from a prepared platform (exported for unit tests). */
export function stackResources(p: PreparedPlatform): Resource[] {
  const { platform } = p;
  const resources: Resource[] = [];
  const providers = new Map<string, Resource>(); // ref -> the resource providing it

  const byArchive = new Map<string, { ref: string; archiveTag: string; id: string }[]>();
  for (const img of platform.images) {
    if (img.source === 'archive') {
      const id = p.archives.get(img.archive)?.find((a) => a.tags.includes(img.archiveTag))?.id ?? '';
      byArchive.set(img.archive, [...(byArchive.get(img.archive) ?? []), { ref: img.ref, archiveTag: img.archiveTag, id }]);
    }
  }
  for (const [archive, images] of byArchive) {
    const r = new ImageArchive({ archive, images });
    resources.push(r);
    for (const i of images) providers.set(i.ref, r);
  }
  const archives = [...new Set(providers.values())];
  for (const img of platform.images) {
    let r: Resource | undefined;
    // A build may start FROM an image an archive provides: builds come after the archives.
    if (img.source === 'build') r = new ImageBuild({ ref: img.ref, context: p.contexts.get(img.ref)! }, { requires: archives });
    else if (img.source === 'pull') r = new ImagePull({ ref: img.ref });
    if (r) {
      resources.push(r);
      providers.set(img.ref, r);
    }
  }

  // Application images: built FROM the service's image, so after whatever provides that image.
  for (const svc of platform.stacks.flatMap((s) => s.services)) {
    if (!svc.build) continue;
    const name = `${svc.stack}/${svc.key}`;
    const src = p.apps.get(name);
    if (!src) throw new Error(`stacks: no prepared source for ${name}`);
    const base = providers.get(svc.image);
    const r = new AppImage(
      { tag: svc.build.tag, service: name, git: src.git, ref: src.ref, commit: src.commit, tar: src.tar, dockerfile: src.dockerfile },
      { requires: [...new Set([...archives, ...(base ? [base] : [])])] },
    );
    resources.push(r);
    providers.set(svc.build.tag, r);
  }

  const root = new Directory({ path: platform.stacksDir, owner: 'root', group: 'root', mode: '0755' });
  resources.push(root);
  const hostStackDirs = platform.stacks.map((s) => s.dir);
  for (const stack of platform.stacks) {
    const dir = new Directory({ path: stack.dir, owner: 'root', group: 'root', mode: '0750' }, { requires: [root] });
    const env = new StackEnvFile({ stack: stack.name, dir: stack.dir, content: renderEnvFile(stack, p.secrets) }, { requires: [dir] });
    const compose = new StackComposeFile({ stack: stack.name, dir: stack.dir, content: renderCompose(stack) }, { requires: [dir, env] });
    const images = [...new Set(stack.services.flatMap((s) => providers.get(runImage(s)) ?? []))];
    resources.push(dir, env, compose);
    // Each service's configuration files; a change restarts that container only (its handler).
    const files: Resource[] = [];
    for (const svc of stack.services) {
      const own = p.files.filter((f) => f.stack === stack.name && f.service === svc.key);
      if (!own.length) continue;
      const restart = restartHandler(
        svc.containerName,
        own.map((f) => f.path),
        platform.waitTimeoutS,
      );
      for (const f of own)
        files.push(
          new ServiceFile({ path: f.path, content: f.content, mode: f.mode, owner: f.owner, group: f.group }, { notify: [restart] }),
        );
    }
    // Databases and roles: each server up and healthy first, then its objects, then the consumers.
    const dbs = stack.services.flatMap((svc) =>
      svc.database
        ? [
            new Databases(
              {
                stack: stack.name,
                dir: stack.dir,
                service: svc.key,
                container: svc.containerName,
                engine: svc.database.engine,
                adminUser: svc.database.adminUser,
                roles: svc.database.roles.map((r) => ({ ...r, password: p.secrets.get(r.secret) ?? '' })),
                databases: svc.database.databases,
                waitTimeoutS: platform.waitTimeoutS,
              },
              { requires: [dir, env, compose, ...images, ...files] },
            ),
          ]
        : [],
    );
    const up = new StackUp(
      { stack, waitTimeoutS: platform.waitTimeoutS, files: { env, compose }, hostStackDirs },
      { requires: [dir, env, compose, ...images, ...files, ...dbs] },
    );
    resources.push(...files, ...dbs, up);
    for (const svc of stack.services) {
      if (!svc.installer) continue;
      const { port, path, redirect } = svc.installer;
      resources.push(
        new InstallerCheck({
          service: `${stack.name}/${svc.key}`,
          container: svc.containerName,
          port,
          path,
          redirect,
          host: svc.domains[0] ?? svc.containerName,
        }),
      );
    }
  }
  return resources;
}

export const stacksRole: Role<PlatformModel, PreparedPlatform> = {
  name: 'stacks',
  description:
    'The compose stacks: images (pull, archive or build), application images built from their git repositories at a pinned commit, compose.yaml + .env (600) per stack, containers up and healthy in layer order (infrastructure, production, development), each stack gating the next; an application still at its web installer is drift.',
  config: (inventory) => (inventory.doc.stacks ? platformOf(inventory) : undefined),
  prepare: (platform, options) => preparePlatform(platform, options),
  build(_platform, _host, prepared) {
    return { resources: stackResources(prepared) };
  },
};
