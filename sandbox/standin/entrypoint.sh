#!/bin/busybox sh
# hostkit strict stand-in for $HS_IMAGE: checks the real image's preconditions (hostkit-check),
# exits with the reason in its log when one fails (as the real image would), then answers HTTP on
# the ports the real image listens on. The real image's command is only read for its ports.
. "${HS_SPEC:-/etc/hostkit-standin.spec}"
echo "stand-in for $HS_IMAGE as uid $(id -u):$(id -g)"
ports=$(/usr/local/lib/hostkit-ports "$@")
echo "$ports" >/tmp/hostkit-standin-ports
if ! HS_DB_WAIT=90 /usr/local/lib/hostkit-check; then
  echo "stand-in for $HS_IMAGE: a precondition of the real image failed; exiting as it would" >&2
  exit 1
fi
pids=""
for p in $ports; do nc -ll -p "$p" -e /usr/local/lib/hostkit-http & pids="$pids $!"; done
echo "stand-in for $HS_IMAGE listening on: ${ports:-no port}"
trap 'kill $pids 2>/dev/null; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
