#!/usr/bin/env bash
# Build the sandbox's REAL database images from Debian's packages (no registry here):
#   hostkit-db/postgres:<hash>  Debian 13 postgresql, entrypoint db/postgres-entrypoint.sh
#   hostkit-db/mariadb:<hash>   Debian 13 mariadb-server, entrypoint db/mariadb-entrypoint.sh
# and save both into ONE `docker save` archive (for the inventory's `archive` image source).
# Tags and archive carry a hash of this script and db/*, so an unchanged recipe is reused.
# Usage: build-db-images.sh OUT_DIR   -> prints "postgres TAG", "mariadb TAG", "archive PATH".
set -euo pipefail
out=${1:?usage: build-db-images.sh OUT_DIR}
suite=trixie
here=$(cd "$(dirname "$0")" && pwd)
hash=$( { cat "$0" "$here"/db/*; echo "$suite"; } | sha256sum | cut -c1-12)
pg="hostkit-db/postgres:$hash"
maria="hostkit-db/mariadb:$hash"
archive="$out/db-images-$hash.tar"

mirror=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
         | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
mirror=${mirror%/}

work=$(mktemp -d /var/tmp/hostkit-dbimg.XXXXXX)
trap 'rm -rf "$work"' EXIT

# build NAME TAG PACKAGES ENTRYPOINT CHANGES...: rootfs by mmdebstrap, imported with docker import.
build() {
  local name=$1 tag=$2 pkgs=$3 entry=$4; shift 4
  if docker image inspect "$tag" >/dev/null 2>&1; then return 0; fi
  local root="$work/$name"
  echo "[build-db-images] mmdebstrap $suite +$pkgs -> $tag" >&2
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$pkgs" --aptopt='APT::Install-Recommends "false"' \
    --customize-hook='chroot "$1" apt-get clean' \
    "$suite" "$root" "$mirror" >&2
  install -m 0755 "$here/db/$entry" "$root/usr/local/bin/docker-entrypoint.sh"
  "$@" "$root"
  tar --numeric-owner --xattrs -C "$root" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change "LABEL hostkit.db.recipe=$hash" \
    "${CHANGES[@]}" - "$tag" >/dev/null
}

pg_fix() {
  local root=$1 ver
  ver=$(ls "$root/usr/lib/postgresql" | sort -n | tail -n1)
  # The package's own cluster (main) is not used: the entrypoint initialises $PGDATA.
  rm -rf "$root/var/lib/postgresql/$ver" "$root/etc/postgresql/$ver"
  CHANGES=(--change "ENV PATH=/usr/lib/postgresql/$ver/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
           --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'EXPOSE 5432')
}
maria_fix() {
  local root=$1
  rm -rf "$root"/var/lib/mysql/* 
  install -m 0755 "$here/db/mariadb-healthcheck.sh" "$root/usr/local/bin/healthcheck.sh"
  CHANGES=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'EXPOSE 3306')
}

CHANGES=()
build postgres "$pg" postgresql,util-linux postgres-entrypoint.sh pg_fix
CHANGES=()
build mariadb "$maria" mariadb-server,mariadb-client,util-linux mariadb-entrypoint.sh maria_fix

mkdir -p "$out"
if [ ! -s "$archive" ]; then
  docker save -o "$archive.$$.partial" "$pg" "$maria"
  mv "$archive.$$.partial" "$archive"  # atomic: a concurrent run never loads half an archive
fi
echo "postgres $pg"
echo "mariadb $maria"
echo "archive $archive"
