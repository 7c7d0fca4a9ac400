import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseManifest, readArchiveManifest } from '../../src/platform/image-archive.js';

const HEX = 'a'.repeat(64);

describe('docker save archives: image ids and tags from manifest.json', () => {
  it('reads both manifest layouts (Docker < 25 "<id>.json", OCI "blobs/sha256/<id>")', () => {
    expect(parseManifest(JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ['x:1'], Layers: [] }]))).toEqual([
      { id: `sha256:${HEX}`, tags: ['x:1'] },
    ]);
    expect(parseManifest(JSON.stringify([{ Config: `blobs/sha256/${HEX}`, RepoTags: null }]))).toEqual([{ id: `sha256:${HEX}`, tags: [] }]);
  });

  it('finds manifest.json after large bodies and long names without reading them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-tar-'));
    const src = join(dir, 'src');
    await mkdir(join(src, `${'l'.repeat(120)}`), { recursive: true });
    await writeFile(join(src, `${'l'.repeat(120)}`, 'layer.tar'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    await writeFile(join(src, 'manifest.json'), JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ['hostkit-standin/x:1', 'x:1'] }]));
    const tar = join(dir, 'images.tar');
    await execa('tar', ['--format=gnu', '-C', src, '-cf', tar, `${'l'.repeat(120)}`, 'manifest.json']);
    expect(await readArchiveManifest(tar)).toEqual([{ id: `sha256:${HEX}`, tags: ['hostkit-standin/x:1', 'x:1'] }]);
  });

  it('a tarball without manifest.json is not an image archive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostkit-tar-'));
    await writeFile(join(dir, 'a.txt'), 'x');
    await execa('tar', ['-C', dir, '-cf', join(dir, 'x.tar'), 'a.txt']);
    await expect(readArchiveManifest(join(dir, 'x.tar'))).rejects.toThrow(/no manifest.json: not a docker save archive/);
  });
});
