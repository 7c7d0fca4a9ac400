#!/usr/bin/env bash
# Benchmark: the control side at fleet scale. One sandbox target's answers are recorded once
# (through bench/sim/server.mjs, an ssh2 server forwarding to it), then replayed by the same
# server for 1 / 10 / 100 / 1,000 simulated hosts while the real CLI (engine, ssh transport,
# reporters) audits them: wall time, control-process CPU and peak RSS, min / median / max over
# RUNS, `node -e ''` as the baseline. --services 7,70 adds the stacks role at that many services.
#   bash bench/scale.sh [--runs 5] [--sizes 1,10,100,1000] [--forks 5,20,50] [--delay-ms D] [--services 7,70]
set -euo pipefail
cd "$(dirname "$0")/.."
bash sandbox/host-setup.sh >/dev/null
[ -d dist/bin ] || npm run build --silent
exec node bench/sim/scale.mjs "$@"
