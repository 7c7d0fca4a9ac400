#!/usr/bin/env bash
# Benchmark: firewall + data --check on N real sandbox targets (default 20) vs on 1, min / median
# / max over RUNS (default 5), with `node -e ''` measured in the same run. Starts bare targets
# from the cached target image and removes them at the end. Not a test: prints figures.
#   bash bench/fleet.sh [--targets 20] [--runs 5] [--forks 5,20,50]
set -euo pipefail
cd "$(dirname "$0")/.."
bash sandbox/host-setup.sh >/dev/null
# Every target runs systemd, which needs a few inotify instances: the kernel's default of 128
# per user ends at ~15 targets (later ones die while booting, `docker exec` exits 137).
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 1024 ]; then
  echo "raising fs.inotify.max_user_instances to 1024 for the targets' systemd" >&2
  sysctl -qw fs.inotify.max_user_instances=1024
fi
[ -d dist ] || npx tsc -p tsconfig.json
exec node bench/fleet.mjs "$@"
