#!/usr/bin/env bash
# Benchmark: Lynis hardening index of a fully provisioned sandbox server (issue 12). Provisions the
# whole platform on a sandbox target, runs Debian's `lynis audit system --quick` inside it and
# prints the index and every remaining warning and suggestion. Not a test: figures for the notes
# (test/integration/hardening.test.ts asserts the index).
#   bash bench/lynis.sh [--name N] [--keep] [--no-provision] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
bash sandbox/host-setup.sh >/dev/null
npx tsc -p tsconfig.json
exec node bench/lynis.mjs "$@"
