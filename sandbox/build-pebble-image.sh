#!/usr/bin/env bash
# Build the sandbox's local Let's Encrypt: hostkit-pebble:<hash>, Debian 13's `pebble` (Let's
# Encrypt's ACME test server) and `pebble-challtestsrv` (from the same package) as the small DNS
# server pebble asks (-dnsserver): every A query is answered with $PEBBLE_TARGET_IP (default:
# the container's gateway, i.e. the Docker host where NPM publishes port 80), so HTTP-01
# validation really fetches http://<domain>/.well-known/acme-challenge/... from NPM.
# At start the entrypoint makes a CA and the ACME server's TLS certificate (names "pebble",
# "localhost") in /var/lib/pebble; /var/lib/pebble/ca.pem is what certbot must trust. The CA of
# the ISSUED certificates is pebble's own, served at https://pebble:15000/roots/0.
# Pebble rejects 5% of nonces by default (to exercise clients); off here: 20 certificates per run.
# Tag by content hash; an unchanged recipe is reused. Usage: build-pebble-image.sh -> prints the tag.
set -euo pipefail
suite=trixie
hash=$( { cat "$0"; echo "$suite"; } | sha256sum | cut -c1-12)
image="hostkit-pebble:$hash"
if docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi

mirror=$({ grep -rhoE '^(URIs:|deb) +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
         | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
mirror=${mirror%/}
root=$(mktemp -d /var/tmp/hostkit-pebble.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "[build-pebble-image] mmdebstrap $suite +pebble -> $image" >&2
mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=pebble,openssl,iproute2,ca-certificates --aptopt='APT::Install-Recommends "false"' \
  --customize-hook='chroot "$1" apt-get clean' \
  "$suite" "$root" "$mirror" >&2

mkdir -p "$root/etc/pebble"
cat >"$root/etc/pebble/pebble-config.json" <<'JSON'
{
  "pebble": {
    "listenAddress": "0.0.0.0:14000",
    "managementListenAddress": "0.0.0.0:15000",
    "certificate": "/var/lib/pebble/cert.pem",
    "privateKey": "/var/lib/pebble/key.pem",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "retryAfter": { "authz": 1, "order": 1 },
    "certificateValidityPeriod": 7776000
  }
}
JSON
cat >"$root/usr/local/bin/hostkit-pebble" <<'ENTRY'
#!/bin/sh
# hostkit sandbox: pebble + its DNS answer. PEBBLE_TARGET_IP: the address every name resolves to.
set -eu
d=/var/lib/pebble
mkdir -p "$d"
if [ ! -s "$d/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj '/CN=hostkit sandbox pebble CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=pebble' -keyout "$d/key.pem" -out "$d/cert.csr" 2>/dev/null
  printf 'subjectAltName=DNS:pebble,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/cert.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
fi
ip=${PEBBLE_TARGET_IP:-$(ip route | awk '/^default/ {print $3; exit}')}
echo "pebble: every name resolves to $ip"
pebble-challtestsrv -defaultIPv4 "$ip" -defaultIPv6 '' -dns01 127.0.0.1:8053 -http01 '' -https01 '' -tlsalpn01 '' -doh '' -management 127.0.0.1:8055 &
exec pebble -config /etc/pebble/pebble-config.json -dnsserver 127.0.0.1:8053
ENTRY
chmod 0755 "$root/usr/local/bin/hostkit-pebble"

tar --numeric-owner --xattrs -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/hostkit-pebble"]' \
  --change 'ENV PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 14000 15000' \
  --change "LABEL hostkit.pebble.recipe=$hash" \
  - "$image" >/dev/null
echo "$image"
