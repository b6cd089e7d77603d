#!/usr/bin/env bash
# dialects.sh -- added time to first token of each client dialect against
# the OpenAI Chat path, on one gemgated + fake upstream (tests/lib/stack.sh).
#   bench/dialects.sh [N]     (N requests per path, default 200)
# Prints a markdown table (bench/dialects.mjs); bench/run.sh runs it as its
# phase 10 and docs/BENCHMARKS.md shows the table (section 10).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GEMGATE_BUILD_DIR=${GEMGATE_BUILD_DIR:-$here/../build}
. "$here/../tests/lib/stack.sh"
stack_start THREADS=2 LOG_LEVEL=warn PING_INTERVAL=0 ACCOUNT_MAX_CONCURRENCY=0 || exit 1
trap 'stack_stop >/dev/null' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
node "$here/dialects.mjs" "$GG_URL" "$GG_API_KEY" "${1:-200}"
