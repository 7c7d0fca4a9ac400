#!/usr/bin/env bash
# Benchmark (not a test: prints figures for the notes) of the control side against the demo server:
# wall time, min / median / max over RUNS runs (default 5, at least 5), of
#   node -e ''                           Node's own start, the baseline, measured in the same run
#   zx (empty script)                    zx's own start, what `zx x.mjs` may cost over `node x.mjs`
#   node roles/firewall.mjs --check      a single-role audit (the cron line)
#   zx roles/firewall.mjs --check        the same through zx (node_modules/.bin/zx, no npx)
#   npx zx roles/firewall.mjs --check    the same through npx, for scale (npm's own start)
#   node scripts/audit.mjs               the full audit, every role in --check
#   node scripts/provision.mjs           a provision with nothing to change (apply, 0 changed)
# The commands take turns (one run of each, RUNS times) so a load change hits them alike. Then the
# time to the first SSH byte of the firewall check (bench/first-byte.mjs), and its engine time,
# connections and exec channels from --json.
#   bash bench/check.sh [RUNS]
# HOSTKIT_DEMO_INVENTORY=FILE (a demo-inventory.txt: one path a line) measures a demo server that
# another checkout provisioned and shares, read-only: it is not provisioned from here (this
# checkout's sandbox state has other secrets and app sources: its apply would change the server)
# and the no-op apply row is left out (this checkout's code may plan differently from the one
# that converged it). Only --check runs reach the server then.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[ "$runs" -ge 5 ] || { echo "RUNS must be >= 5" >&2; exit 1; }
bash sandbox/host-setup.sh >/dev/null
[ -f dist/bin/cli/main.js ] || npm run build >/dev/null
list=${HOSTKIT_DEMO_INVENTORY:-}
if [ -z "$list" ]; then
  # The demo provisions (or reuses) the sandbox server "hostkit-demo" and leaves it converged.
  node scripts/provision.mjs --sandbox >/tmp/hostkit-bench-provision.log 2>&1 \
    || { tail -n 30 /tmp/hostkit-bench-provision.log; exit 1; }
  list=${HOSTKIT_SANDBOX_DIR:-.sandbox}/demo-inventory.txt
fi
inv=()
while read -r path; do inv+=(-i "$path"); done < "$list"
empty=$(mktemp --suffix .mjs)
trap 'rm -f "$empty"' EXIT

labels=(
  "node -e ''"
  "zx (empty script)"
  "node roles/firewall.mjs --check"
  "zx roles/firewall.mjs --check"
  "npx zx roles/firewall.mjs --check"
  "node scripts/audit.mjs"
  "node scripts/provision.mjs (no-op)"
)
[ -z "${HOSTKIT_DEMO_INVENTORY:-}" ] || unset 'labels[6]'
run() {
  case $1 in
    0) node -e '' ;;
    1) node_modules/.bin/zx "$empty" ;;
    2) node roles/firewall.mjs --check "${inv[@]}" ;;
    3) node_modules/.bin/zx roles/firewall.mjs --check "${inv[@]}" ;;
    4) npx zx roles/firewall.mjs --check "${inv[@]}" ;;
    5) node scripts/audit.mjs "${inv[@]}" ;;
    6) node scripts/provision.mjs "${inv[@]}" ;;
  esac
}
declare -A times
for _ in $(seq "$runs"); do
  for i in "${!labels[@]}"; do
    t0=$(date +%s%N)
    run "$i" >/dev/null 2>&1 || { echo "failed: ${labels[$i]} (exit $?)" >&2; exit 1; }
    t1=$(date +%s%N)
    times[$i]+="$(( (t1 - t0) / 1000000 )) "
  done
done
stats() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR]=$1 } END { printf "min %5d  median %5d  max %5d ms", v[1], v[int((NR+1)/2)], v[NR] }'; }
echo "wall time over $runs runs ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)):"
for i in "${!labels[@]}"; do printf '  %-36s %s\n' "${labels[$i]}" "$(stats <<<"${times[$i]}")"; done

sent=() cpu=()
for _ in $(seq "$runs"); do
  line=$(node --import ./bench/first-byte.mjs roles/firewall.mjs --check "${inv[@]}" 2>&1 >/dev/null | grep '^first-byte:')
  sent+=("$(sed -E 's/.*first SSH byte sent ([0-9]+) ms.*/\1/' <<<"$line")")
  cpu+=("$(sed -E 's/.*\(cpu ([0-9]+) ms\).*/\1/' <<<"$line")")
done
printf '  %-36s %s\n' "firewall --check: first SSH byte" "$(stats <<<"${sent[*]}") after the process started"
printf '  %-36s %s\n' "  CPU time used by then" "$(stats <<<"${cpu[*]}")"
# hosts[] has one entry per host and role: durations add up, stats are the host's running totals.
summary='const r=JSON.parse(require("fs").readFileSync(0,"utf8")); const h=r.hosts; const ms=h.reduce((a,x)=>a+x.durationMs,0); const s=h[h.length-1].stats;
console.log(`  ${process.argv[1]}: exit ${r.exitCode}, engine ${ms} ms over ${h.length} role(s), ${s.connections} connection(s), ${s.execs} exec(s)`)'
node roles/firewall.mjs --check --json "${inv[@]}" 2>/dev/null | node -e "$summary" "firewall --check"
node scripts/audit.mjs --json "${inv[@]}" 2>/dev/null | node -e "$summary" "full audit"
