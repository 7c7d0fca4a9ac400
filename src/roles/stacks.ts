import type { Resource, Role } from '../engine/types.js';
import { Directory } from '../resources/directory.js';
import { ImageArchive, ImageBuild, ImagePull } from '../resources/stack-images.js';
import { StackComposeFile, StackEnvFile } from '../resources/stack-files.js';
import { StackUp } from '../resources/stack-up.js';
import { renderCompose } from '../platform/compose.js';
import { renderEnvFile } from '../platform/secrets.js';
import { platformOf, type PlatformModel } from '../platform/model.js';
import { preparePlatform, type PreparedPlatform } from '../platform/prepare.js';

/** Resources of the stacks role from a prepared platform (exported for unit tests). */
export function stackResources(p: PreparedPlatform): Resource[] {
  const { platform } = p;
  const resources: Resource[] = [];
  const imageIds = new Map<string, string>(); // ref -> id of the resource providing it

  const byArchive = new Map<string, { ref: string; archiveTag: string; id: string }[]>();
  for (const img of platform.images) {
    if (img.source === 'archive') {
      const id = p.archives.get(img.archive)?.find((a) => a.tags.includes(img.archiveTag))?.id ?? '';
      byArchive.set(img.archive, [...(byArchive.get(img.archive) ?? []), { ref: img.ref, archiveTag: img.archiveTag, id }]);
    }
  }
  for (const [archive, images] of byArchive) {
    const r = new ImageArchive(archive, images);
    resources.push(r);
    for (const i of images) imageIds.set(i.ref, r.id);
  }
  const archiveIds = [...new Set(imageIds.values())];
  for (const img of platform.images) {
    let r: Resource | undefined;
    // A build may start FROM an image an archive provides: builds come after the archives.
    if (img.source === 'build') r = new ImageBuild(img.ref, p.contexts.get(img.ref)!, archiveIds);
    else if (img.source === 'pull') r = new ImagePull(img.ref);
    if (r) {
      resources.push(r);
      imageIds.set(img.ref, r.id);
    }
  }

  const root = new Directory({ path: platform.stacksDir, owner: 'root', group: 'root', mode: '0755' });
  resources.push(root);
  for (const stack of platform.stacks) {
    const dir = new Directory({ path: stack.dir, owner: 'root', group: 'root', mode: '0750' }, [root.id]);
    const env = new StackEnvFile(stack.name, stack.dir, renderEnvFile(stack, p.secrets), [dir.id]);
    const compose = new StackComposeFile(stack.name, stack.dir, renderCompose(stack), [dir.id, env.id]);
    const images = [...new Set(stack.services.map((s) => imageIds.get(s.image)!))];
    const up = new StackUp(stack, platform.waitTimeoutS, { env, compose }, [dir.id, env.id, compose.id, ...images]);
    resources.push(dir, env, compose, up);
  }
  return resources;
}

export const stacksRole: Role<PlatformModel, PreparedPlatform> = {
  name: 'stacks',
  description:
    'The compose stacks: images (pull, archive or build), compose.yaml + .env (600) per stack, containers up and healthy in layer order (infrastructure, production, development), each stack gating the next.',
  config: (inventory) => (inventory.doc.stacks ? platformOf(inventory) : undefined),
  prepare: (platform, options) => preparePlatform(platform, options),
  build(_platform, _host, prepared) {
    return { resources: stackResources(prepared) };
  },
};
