import type { Resource, Role } from '../engine/types.js';
import type { DataConfig } from './data.schema.js';
import { Directory } from '../resources/directory.js';

/** The data layout: the data root and every declared directory with owner, group and mode. */
export const dataRole: Role<DataConfig> = {
  name: 'data',
  description: 'The /mnt/data layout: every declared directory with owner, group and mode; never deletes.',
  config: (inventory) => inventory.doc.data,
  build(data) {
    const root = data.root.replace(/\/+$/, '') || '/';
    const rootDir = new Directory({ path: root, owner: data.owner, group: data.group, mode: data.mode });
    const resources: Resource[] = [rootDir];
    for (const dir of data.directories) {
      resources.push(
        new Directory(
          {
            path: `${root}/${dir.path.replace(/\/+$/, '')}`,
            owner: dir.owner ?? data.owner,
            group: dir.group ?? dir.owner ?? data.group,
            mode: dir.mode ?? data.mode,
          },
          { requires: [rootDir] },
        ),
      );
    }
    return { resources };
  },
};
