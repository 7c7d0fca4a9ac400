#!/usr/bin/env bash
# The sandbox's stand-in for python:3.12.8-slim is a REAL CPython (no registry here): Debian 13's
# python3 + pip + Flask (pip then finds Flask installed and needs no network), with Debian's
# EXTERNALLY-MANAGED marker removed (the official image has none), so the inventory's own command
# (`pip install -r requirements.txt && flask --app app run`) runs for real and fails, as the real
# image does, when the app code or requirements.txt are missing.
# Tag carries a hash of this script: an unchanged recipe is reused.
# Usage: build-python-image.sh   -> prints "python TAG".
set -euo pipefail
suite=trixie
hash=$( { cat "$0"; echo "$suite"; } | sha256sum | cut -c1-12)
tag="hostkit-python:$hash"
if ! docker image inspect "$tag" >/dev/null 2>&1; then
  mirror=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
           | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
  [ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
  work=$(mktemp -d /var/tmp/hostkit-pyimg.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  echo "[build-python-image] mmdebstrap $suite +python3-flask -> $tag" >&2
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include=python3,python-is-python3,python3-pip,python3-flask \
    --aptopt='APT::Install-Recommends "false"' \
    --customize-hook='chroot "$1" apt-get clean' \
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
    "$suite" "$work/root" "${mirror%/}" >&2
  tar --numeric-owner --xattrs -C "$work/root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL hostkit.python.recipe=$hash" - "$tag" >/dev/null
fi
echo "python $tag"
