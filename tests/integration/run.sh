#!/usr/bin/env bash
# integration/run.sh -- shell integration tests of the real gemgated against
# the fake upstream (placeholder runner; suites are *.sh in this dir).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GEMGATE_BUILD_DIR=${GEMGATE_BUILD_DIR:-$here/../../${1:-build}}
[ -n "${1:-}" ] && export GEMGATE_BUILD_DIR=$here/../../$1
pass=0; fail=0
for t in "$here"/t_*.sh; do
    [ -e "$t" ] || continue
    if bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $(basename "$t")"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
