#!/usr/bin/env bash
# Prepare the control machine to run sandbox targets: Docker engine (Debian's docker.io),
# compose v2 (Debian 13's docker-compose, pinned to that one package), mmdebstrap and
# busybox-static for locally built images, ansible-core as the inventory test oracle, xmllint for the JUnit report
# test. Idempotent; safe to run on every CI start.
set -euo pipefail
log() { printf '[host-setup] %s\n' "$*" >&2; }

# The mirror is read from this machine's own apt sources; the project names none.
mirror_uri() {
  local uri
  uri=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
        | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
  [ -n "$uri" ] || { echo "no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }
  printf '%s\n' "${uri%/}"
}

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
[ -x /bin/busybox ] && /bin/busybox --help 2>&1 | grep -q 'static' || dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v ssh >/dev/null || need_pkgs+=(openssh-client)
# The inventory oracle (test/integration/ansible-oracle.test.ts): Debian's ansible-core ships ansible-inventory.
command -v ansible-inventory >/dev/null || need_pkgs+=(ansible-core)
# xmllint: the unit tests validate the --junit output against the JUnit XSD (test/fixtures/junit).
command -v xmllint >/dev/null || need_pkgs+=(libxml2-utils)
command -v uidmap >/dev/null 2>&1 || true

trixie_list=/etc/apt/sources.list.d/sandbox-trixie.sources
trixie_pref=/etc/apt/preferences.d/sandbox-trixie
if [ ! -f "$trixie_list" ]; then
  log "adding Debian 13 suite, pinned to docker-compose only"
  cat >"$trixie_list" <<SRC
Types: deb
URIs: $(mirror_uri)
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  cat >"$trixie_pref" <<PREF
Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: docker-compose
Pin: release n=trixie
Pin-Priority: 990
PREF
  apt_updated=0
fi

if [ ${#need_pkgs[@]} -gt 0 ] || ! docker compose version >/dev/null 2>&1; then
  log "apt-get update"
  apt-get update -qq -o Acquire::Retries=3
  if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  fi
  if ! docker compose version >/dev/null 2>&1; then
    log "installing docker-compose (compose v2) from Debian 13"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t trixie docker-compose >/dev/null
  fi
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
log "docker $(docker version --format '{{.Server.Version}}'), $(docker compose version --short)"
