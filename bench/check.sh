#!/usr/bin/env bash
# Benchmark: wall time of `zx roles/firewall.mjs --check` against a provisioned sandbox server,
# and the SSH connections / exec channels it used. Not a test: prints figures for the notes.
#   bash bench/check.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
bash sandbox/host-setup.sh >/dev/null
[ -d dist ] || npx tsc -p tsconfig.json
# The demo provisions (or reuses) the sandbox server "hostkit-demo" and leaves it converged.
npx zx scripts/provision.mjs --sandbox >/tmp/hostkit-bench-provision.log 2>&1 \
  || { tail -n 30 /tmp/hostkit-bench-provision.log; exit 1; }
inv=()
while read -r path; do inv+=(-i "$path"); done < .sandbox/demo-inventory.txt

stats=$(npx zx roles/firewall.mjs --check --json "${inv[@]}" \
  | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); const s=r.hosts[0].stats; console.log(`exit=${r.exitCode} connections=${s.connections} execs=${s.execs} engine_ms=${r.hosts[0].durationMs}`)')
echo "firewall --check: $stats"

times=()
for _ in $(seq "$runs"); do
  t0=$(date +%s%N)
  npx zx roles/firewall.mjs --check "${inv[@]}" >/dev/null
  t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
done
# Node + zx start-up alone, for scale (what any zx script pays before its first line).
t0=$(date +%s%N); npx zx -e 'void 0' >/dev/null 2>&1 || node -e '' ; t1=$(date +%s%N)
printf '%s\n' "${times[@]}" | sort -n | awk -v runs="$runs" -v startup=$(( (t1 - t0) / 1000000 )) '
  { v[NR]=$1; s+=$1 }
  END { printf "wall time over %d runs: min %d ms, median %d ms, mean %d ms, max %d ms (npx zx start-up alone: %d ms)\n",
        runs, v[1], v[int((NR+1)/2)], s/NR, v[NR], startup }'
