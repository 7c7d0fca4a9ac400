import { open } from 'node:fs/promises';

/** One image in a `docker save` tarball: its tags and its image id (the digest of its config). */
export interface ArchivedImage {
  id: string;
  tags: string[];
}

const BLOCK = 512;

/**
 * Reads the image ids and tags of a `docker save` tarball from its manifest.json, walking the tar
 * headers and skipping the layer bodies, so a multi-gigabyte archive costs a few reads. The id is
 * what `docker image inspect` shows after `docker load`: the sha256 of the image config.
 */
export async function readArchiveManifest(file: string): Promise<ArchivedImage[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    while (offset + BLOCK <= size) {
      await fh.read(header, 0, BLOCK, offset);
      if (header.every((b) => b === 0)) break; // end-of-archive blocks
      const field = (start: number, len: number) =>
        header
          .subarray(start, start + len)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      const bodySize = parseInt(field(124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156]!);
      const prefix = field(345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      longName = undefined;
      const body = offset + BLOCK;
      if (type === 'L') {
        // GNU long name: the next entry's name is this body.
        const buf = Buffer.alloc(bodySize);
        await fh.read(buf, 0, bodySize, body);
        longName = buf.toString('utf8').replace(/\0.*$/s, '');
      } else if (name.replace(/^\.\//, '') === 'manifest.json') {
        const buf = Buffer.alloc(bodySize);
        await fh.read(buf, 0, bodySize, body);
        return parseManifest(buf.toString('utf8'), file);
      }
      offset = body + Math.ceil(bodySize / BLOCK) * BLOCK;
    }
    throw new Error(`${file}: no manifest.json: not a docker save archive`);
  } finally {
    await fh.close();
  }
}

export function parseManifest(text: string, file = 'manifest.json'): ArchivedImage[] {
  const entries = JSON.parse(text) as { Config: string; RepoTags?: string[] | null }[];
  return entries.map((e) => {
    // "<hex>.json" (Docker < 25) or "blobs/sha256/<hex>" (OCI layout, Docker 25+).
    const hex = /([0-9a-f]{64})(\.json)?$/.exec(e.Config)?.[1];
    if (!hex) throw new Error(`${file}: unexpected Config entry ${e.Config}`);
    return { id: `sha256:${hex}`, tags: e.RepoTags ?? [] };
  });
}
