import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { sandboxDir } from '../../src/sandbox/index.js';
import { busyboxImage, cachedImage, type TestImage } from './images.js';

/**
 * Base images for the application tests, built here (no registry):
 * - a real CPython with Flask from Debian (mmdebstrap from the machine's apt mirror, as the
 *   sandbox builds its other Debian images), EXTERNALLY-MANAGED removed like the official python
 *   image: `pip install -r requirements.txt` with `flask` finds it installed and needs no network.
 *   (The same recipe as the strict Python stand-in of issue 13; one of the two can go after merge.)
 * - a Drupal-like site server (busybox): 302 to /core/install.php on every path until
 *   /opt/drupal/web/sites/default/settings.php exists, then 200, as stock Drupal core behaves.
 */

const PY_RECIPE = [
  'set -euo pipefail',
  'out=$1 tag=$2',
  `mirror=$({ grep -rhoE '^(URIs:|deb) +\\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } | awk '{print $2}' | grep -E '/debian/?$' | head -n1)`,
  '[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }',
  'work=$(mktemp -d /var/tmp/hostkit-pyimg.XXXXXX); trap \'rm -rf "$work"\' EXIT',
  'mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \\',
  '  --include=python3,python-is-python3,python3-pip,python3-flask --aptopt=\'APT::Install-Recommends "false"\' \\',
  '  --customize-hook=\'chroot "$1" apt-get clean\' --customize-hook=\'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED\' \\',
  '  trixie "$work/root.tar" "${mirror%/}" >&2',
  'docker import --change "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" --change \'CMD ["python3"]\' "$work/root.tar" "$tag" >/dev/null',
  'docker save -o "$out" "$tag"',
].join('\n');

let python: Promise<TestImage> | undefined;

/** hostkit-test/python-flask:<recipe hash>, its `docker save` under .sandbox/images (built once). */
export function pythonFlaskImage(): Promise<TestImage> {
  python ??= (async () => {
    const hash = createHash('sha256').update(PY_RECIPE).digest('hex').slice(0, 12);
    const ref = `hostkit-test/python-flask:${hash}`;
    const dir = join(sandboxDir(), 'images');
    await mkdir(dir, { recursive: true });
    const tar = join(dir, `python-flask-${hash}.tar`);
    if (existsSync(tar)) return { ref, tar };
    const part = `${tar}.${randomBytes(4).toString('hex')}.part`;
    const r = await execa('bash', ['-c', PY_RECIPE, 'python-image', part, ref], { reject: false, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      await rm(part, { force: true });
      throw new Error(`building ${ref} failed (exit ${r.exitCode}): ${String(r.stderr).trim().split('\n').slice(-10).join('\n')}`);
    }
    await rename(part, tar);
    return { ref, tar };
  })();
  python.catch(() => {
    python = undefined;
  });
  return python;
}

const SITE_RESPONDER = `#!/bin/sh
# One HTTP exchange: stock Drupal core redirects every page to its installer until the site exists.
while read -r -t 2 l; do case "$l" in ''|"$(printf '\\r')") break;; esac; done
if [ -f /opt/drupal/web/sites/default/settings.php ]; then
  printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/html\\r\\nConnection: close\\r\\n\\r\\n<html>site installed</html>\\n'
else
  printf 'HTTP/1.0 302 Found\\r\\nLocation: /core/install.php\\r\\nContent-Type: text/html\\r\\nConnection: close\\r\\n\\r\\n'
fi
`;

/** hostkit-test/installer-site:<hash> on port 80; healthcheck: any HTTP answer (like curl -f on a 302). */
export async function installerSiteImage(): Promise<TestImage> {
  await busyboxImage(); // installs busybox-static when missing
  return cachedImage('installer-site', {
    Dockerfile: [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'COPY responder /responder',
      'EXPOSE 80',
      'CMD ["nc", "-ll", "-p", "80", "-e", "/responder"]',
      '',
    ].join('\n'),
    busybox: await readFile('/bin/busybox'),
    responder: SITE_RESPONDER,
  });
}
