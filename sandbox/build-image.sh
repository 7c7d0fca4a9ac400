#!/usr/bin/env bash
# Build the sandbox target image: a bare Debian (default 13/trixie) with systemd as PID 1 and
# sshd, looking like a fresh cloud server (admin user with passwordless sudo, host keys made at
# first boot, empty machine-id). No registry: the rootfs comes from mmdebstrap and Debian's mirror.
# The tag carries a hash of this script and the suite, so a changed recipe builds a new image and
# an unchanged one is reused (CI cache by content hash).
set -euo pipefail
suite=${1:-trixie}
here=$(cd "$(dirname "$0")" && pwd)
hash=$( { cat "$0"; echo "$suite"; } | sha256sum | cut -c1-12)
image="hostkit-target:${suite}-${hash}"
if docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi

mirror=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
         | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
mirror=${mirror%/}
security=${mirror%/debian}/debian-security

root=$(mktemp -d /var/tmp/hostkit-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "[build-image] mmdebstrap $suite -> $image" >&2
mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=systemd,systemd-sysv,dbus,openssh-server,openssh-client,sudo,ca-certificates,python3,iproute2,procps,netcat-openbsd,less \
  "$suite" "$root" "$mirror" >&2

# apt sources as on a cloud image: suite, updates and security.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

: >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
cat >"$root/etc/systemd/system/ssh.service.d/hostkeys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
# sshd as on a cloud image: keys only for root, passwords allowed for users (the ssh role hardens it).
cat >"$root/etc/ssh/sshd_config.d/00-cloud.conf" <<'CONF'
PermitRootLogin prohibit-password
CONF
chroot "$root" useradd -m -s /bin/bash -G sudo admin
echo 'admin ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/90-cloud-admin"
chmod 440 "$root/etc/sudoers.d/90-cloud-admin"
# Units that make no sense in a container and slow boot.
for u in systemd-networkd-wait-online.service getty@tty1.service serial-getty@.service systemd-modules-load.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo "hostkit-target" >"$root/etc/hostname"

tar --numeric-owner --xattrs -C "$root" -c . \
  | docker import --change 'CMD ["/sbin/init"]' --change 'ENV container=docker' - "$image" >/dev/null
echo "$image"
