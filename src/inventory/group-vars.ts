import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Problem } from './errors.js';

/**
 * Ansible's group_vars/ and host_vars/ next to an inventory file: `group_vars/web.yml` (also
 * .yaml, .json or no extension) or a folder `group_vars/web/` whose files are read in name
 * order, later files overriding earlier ones. Hidden files and other extensions are skipped,
 * as Ansible does.
 */
export type VarsKind = 'group_vars' | 'host_vars';

export interface VarsFile {
  file: string;
  text: string;
  kind: VarsKind;
  /** The group or host the file is for. */
  name: string;
}

/** Not hidden, and .yml/.yaml/.json or no extension at all. */
const isVarsFileName = (n: string) => !n.startsWith('.') && (/\.(ya?ml|json)$/.test(n) || !n.includes('.'));

export async function readVarsFiles(inventoryPaths: string[]): Promise<{ files: VarsFile[]; problems: Problem[] }> {
  const dirs = [...new Set(inventoryPaths.map((p) => resolve(dirname(p))))];
  const files: VarsFile[] = [];
  const problems: Problem[] = [];
  for (const dir of dirs) {
    for (const kind of ['group_vars', 'host_vars'] as const) {
      const root = join(dir, kind);
      const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (entry.name.startsWith('.') || (!entry.isDirectory() && !isVarsFileName(entry.name))) continue;
        const path = join(root, entry.name);
        const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory());
        const paths = isDir ? await filesUnder(path) : [path];
        const name = isDir ? entry.name : basename(entry.name).replace(/\.(ya?ml|json)$/, '');
        for (const file of paths) {
          try {
            files.push({ file, text: await readFile(file, 'utf8'), kind, name });
          } catch (err) {
            problems.push({ file, line: 0, col: 0, path: '', message: `cannot read: ${(err as Error).message}` });
          }
        }
      }
    }
  }
  return { files, problems };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(path)));
    else if (isVarsFileName(e.name)) out.push(path);
  }
  return out;
}
