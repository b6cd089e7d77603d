#!/usr/bin/env bash
# node/run.sh -- the node test suites (openai SDK, pool, admin) against the
# binaries in $1 (default build), with a throwaway PostgreSQL so the pool
# suite also runs on the PostgreSQL backend.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export GEMGATE_BUILD_DIR=$repo/${1:-build}
. "$repo/tests/lib/pg.sh"
trap pg_stop EXIT INT TERM
if ! pg_start; then
    echo "node/run.sh: PostgreSQL did not start" >&2
    exit 1
fi
export GEMGATE_REQUIRE_PG=1   # the cluster suite may not skip here
cd "$here" && node --test --test-concurrency=1 ./*.test.mjs
