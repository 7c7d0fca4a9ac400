import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { sandboxDir, type Target } from '../../src/sandbox/index.js';

/**
 * Test images without a registry: built on the control machine, cached by content hash (a
 * changed recipe or binary gives a new tag; an unchanged one is never rebuilt), saved once as a
 * tar under .sandbox/images/, and loaded into a target's own Docker with `docker load`.
 *
 *   const img = await busyboxImage();          // hostkit-test/busybox:<hash>
 *   await loadImage(target, img);              // the target's dockerd now has it
 *   await target.exec(`docker run -d -p 5432:5432 ${img.ref} nc -ll -p 5432 -e /bin/echo pg`);
 *
 * busybox (Debian's busybox-static, statically linked): `httpd -f -p PORT` and
 * `nc -ll -p PORT -e /bin/echo TEXT` serve TCP, `nc -w 2 HOST PORT` connects; its wget segfaults.
 */

export interface TestImage {
  /** Tag to run: "hostkit-test/busybox:<12 hex>". */
  ref: string;
  /** `docker save` of it on the control machine. */
  tar: string;
}

const BUSYBOX = '/bin/busybox';
const DOCKERFILE = [
  'FROM scratch',
  'COPY busybox /bin/busybox',
  'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
  'CMD ["/bin/sh"]',
  '',
].join('\n');

const building = new Map<string, Promise<TestImage>>();

async function ensureBusyboxStatic(): Promise<void> {
  if (existsSync(BUSYBOX)) return;
  const r = await execa('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static'], { reject: false });
  if (r.exitCode !== 0 || !existsSync(BUSYBOX)) throw new Error(`busybox-static is needed for test images: ${r.stderr}`);
}

/** Build (once per content) and save a docker image from a context of files. */
export async function cachedImage(name: string, files: Record<string, Buffer | string>): Promise<TestImage> {
  const hash = createHash('sha256');
  for (const key of Object.keys(files).sort()) hash.update(key).update('\0').update(files[key]!).update('\0');
  const digest = hash.digest('hex').slice(0, 12);
  const ref = `hostkit-test/${name}:${digest}`;
  const existing = building.get(ref);
  if (existing) return existing;
  const promise = (async () => {
    const dir = join(sandboxDir(), 'images');
    await mkdir(dir, { recursive: true });
    const tar = join(dir, `${name}-${digest}.tar`);
    if (existsSync(tar)) return { ref, tar };
    const inspect = await execa('docker', ['image', 'inspect', ref], { reject: false });
    if (inspect.exitCode !== 0) {
      const ctx = await mkdtemp(join(tmpdir(), 'hostkit-image-'));
      try {
        for (const [file, content] of Object.entries(files)) await writeFile(join(ctx, file), content, { mode: 0o755 });
        await execa('docker', ['build', '-q', '-t', ref, ctx]);
      } finally {
        await rm(ctx, { recursive: true, force: true });
      }
    }
    // Another test file may save the same image at once: write aside, rename into place.
    const part = `${tar}.${randomBytes(4).toString('hex')}.part`;
    await execa('docker', ['save', '-o', part, ref]);
    await rename(part, tar);
    return { ref, tar };
  })();
  building.set(ref, promise);
  promise.catch(() => building.delete(ref));
  return promise;
}

/** FROM scratch + Debian's static busybox: ~2 MB, starts in milliseconds. */
export async function busyboxImage(): Promise<TestImage> {
  await ensureBusyboxStatic();
  return cachedImage('busybox', { Dockerfile: DOCKERFILE, busybox: await readFile(BUSYBOX) });
}

/** `docker load` the image into the target's own Docker (it must be installed and running). */
export async function loadImage(t: Target, image: TestImage): Promise<void> {
  // Streamed through `docker exec -i`: `docker cp` into a target's /tmp lands under its tmpfs.
  const r = await execa('docker', ['exec', '-i', t.name, 'docker', 'load', '-q'], { inputFile: image.tar, reject: false });
  if (r.exitCode !== 0) throw new Error(`docker load into ${t.name} failed: ${r.stderr}`);
}
