#!/usr/bin/env bash
# Build a REAL Nginx Proxy Manager image for the sandbox from NPM's own source (no registry here):
#   hostkit-npm:<version>-<hash>
# - backend/ at /app (global/ at /app/global for 2.12), its npm dependencies installed on the
#   control machine with install scripts off, then the native modules (bcrypt, sqlite3,
#   better-sqlite3 where declared) approved and rebuilt with node-gyp;
# - Debian 13's nodejs, nginx + libnginx-mod-stream (standing in for OpenResty), certbot (and
#   curl/wget: check-health and the platform tests' in-container probes use them);
# - NPM's docker/rootfs (nginx config, prepare scripts, check-health), started by a small init
#   that runs the prepare scripts, nginx and the backend (the official image uses s6-overlay).
# The tag carries a hash of this script, the source tarball and the suite: an unchanged recipe is
# reused. NPM's code is not part of the project; it comes from the vendor folder:
#   $HOSTKIT_NPM_VENDOR, else ../shared/vendor/nginx-proxy-manager next to the repository (or
#   next to its main worktree). Without it, the pinned upstream image is used when
#   `docker image inspect jc21/nginx-proxy-manager:<version>` finds it; else a clear failure.
# Usage: build-npm-image.sh VERSION   -> prints the image tag on stdout.
set -euo pipefail
version=${1:?usage: build-npm-image.sh VERSION (e.g. 2.12.3)}
suite=trixie
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
upstream="jc21/nginx-proxy-manager:$version"

vendor=${HOSTKIT_NPM_VENDOR:-}
if [ -z "$vendor" ]; then
  common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  for cand in "$repo/../shared/vendor/nginx-proxy-manager" "${common:+$(dirname "$common")/../shared/vendor/nginx-proxy-manager}"; do
    if [ -n "$cand" ] && [ -d "$cand" ]; then vendor=$(cd "$cand" && pwd); break; fi
  done
fi
tarball=${vendor:+$vendor/nginx-proxy-manager-v$version.tar.gz}
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
  if docker image inspect "$upstream" >/dev/null 2>&1; then echo "$upstream"; exit 0; fi
  echo "[build-npm-image] no NPM source for v$version (looked for ${tarball:-nginx-proxy-manager-v$version.tar.gz in \$HOSTKIT_NPM_VENDOR or ../shared/vendor/nginx-proxy-manager})" >&2
  echo "[build-npm-image] and no upstream image $upstream (docker image inspect found none): provide one of the two" >&2
  exit 1
fi

hash=$( { cat "$0"; sha256sum <"$tarball"; echo "$suite"; } | sha256sum | cut -c1-12)
image="hostkit-npm:${version}-${hash}"
if docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi

mirror=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
         | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
mirror=${mirror%/}

work=$(mktemp -d /var/tmp/hostkit-npmimg.XXXXXX)
trap 'rm -rf "$work"' EXIT
log() { echo "[build-npm-image] $*" >&2; }

# 1. The backend and its dependencies, on the control machine (its npm client and configuration).
tar -xzf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'nginx-proxy-manager-*' | head -n1)
[ -d "$src/backend" ] || { echo "$tarball has no backend/" >&2; exit 1; }
app="$work/app"
cp -a "$src/backend" "$app"
[ -d "$src/global" ] && cp -a "$src/global" "$app/global"
# GET / reports the version from package.json (the upstream build stamps it the same way).
(cd "$app" && npm pkg set "version=$version" >/dev/null)
log "npm install (backend of v$version, install scripts off)"
(cd "$app" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
natives=()
for m in bcrypt sqlite3 better-sqlite3; do [ -d "$app/node_modules/$m" ] && natives+=("$m"); done
log "approve and rebuild native modules: ${natives[*]}"
(cd "$app" && npm install-scripts approve "${natives[@]}" >&2 && npm rebuild "${natives[@]}" --foreground-scripts >&2)
for m in "${natives[@]}"; do
  find "$app/node_modules/$m" -name '*.node' | grep -q . || { echo "native module $m was not built" >&2; exit 1; }
done

# 2. The root filesystem: Debian 13 with nodejs, nginx + stream module, certbot.
root="$work/root"
log "mmdebstrap $suite -> $image"
mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=nodejs,nginx,libnginx-mod-stream,certbot,ca-certificates,curl,wget,jq,openssl,logrotate,apache2-utils,procps,iproute2,passwd \
  --aptopt='APT::Install-Recommends "false"' \
  --customize-hook='chroot "$1" apt-get clean' \
  "$suite" "$root" "$mirror" >&2

# 3. NPM's rootfs and the backend, as the official Dockerfile lays them out.
cp -a "$src/docker/rootfs/." "$root/"
rm -rf "$root/etc/s6-overlay/s6-rc.d/user/contents.d/frontend" "$root/etc/nginx/conf.d/dev.conf"
chmod 644 "$root/etc/logrotate.d/nginx-proxy-manager"
cp -a "$app" "$root/app"
# nginx.conf includes /etc/nginx/modules/*.conf: load Debian's stream module from there.
mkdir -p "$root/etc/nginx/modules"
cp "$root/usr/share/nginx/modules-available/mod-stream.conf" "$root/etc/nginx/modules/50-mod-stream.conf"
# The prepare scripts chown certbot's venv (official image: /opt/certbot); Debian's certbot has none.
# /etc/nginx/nginx is OpenResty's; the prepare scripts chown it.
mkdir -p "$root/etc/nginx/nginx" "$root/opt/certbot/bin" "$root/opt/certbot/lib/python3/site-packages" "$root/etc/letsencrypt" \
  "$root/data" "$root/var/run/s6/container_environment" "$root/var/lib/logrotate"
cat >"$root/usr/local/bin/hostkit-npm-init" <<'INIT'
#!/bin/bash
# Stand-in for s6-overlay: NPM's prepare scripts, then nginx and the backend (restarted like
# NPM's s6 run script does); the container stops when nginx stops.
set -euo pipefail
bash /etc/s6-overlay/s6-rc.d/prepare/00-all.sh
. /usr/bin/common.sh
nginx &
nginx_pid=$!
( cd /app && while :; do HOME=$NPMHOME node --abort_on_uncaught_exception --max_old_space_size=250 index.js || true; sleep 1; done ) &
backend_pid=$!
trap 'kill "$nginx_pid" "$backend_pid" 2>/dev/null; exit 0' TERM INT
wait "$nginx_pid"
INIT
chmod 0755 "$root/usr/local/bin/hostkit-npm-init"

tar --numeric-owner --xattrs -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/hostkit-npm-init"]' \
  --change 'WORKDIR /app' \
  --change 'ENV NODE_ENV=production SUPPRESS_NO_CONFIG_WARNING=1 NODE_OPTIONS=--openssl-legacy-provider PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 80 81 443' \
  --change 'VOLUME ["/data"]' \
  --change "LABEL hostkit.npm.version=$version hostkit.npm.recipe=$hash" \
  - "$image" >/dev/null
echo "$image"
