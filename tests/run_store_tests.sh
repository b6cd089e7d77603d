#!/usr/bin/env bash
# run_store_tests.sh -- the store conformance suite against SQLite, then
# against a fresh throwaway PostgreSQL 15 (tests/lib/pg.sh), which is
# stopped and removed on exit.
#
#   tests/run_store_tests.sh [path/to/test_store]    (default: build/test_store
#                                                     or build/tests/unit/test_store)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    for c in "$here/../build/tests/unit/test_store" "$here/../build/test_store"; do
        [ -x "$c" ] && bin=$c && break
    done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "run_store_tests.sh: test_store binary not found (pass its path)" >&2
    exit 2
fi
. "$here/lib/pg.sh"
trap pg_stop EXIT INT TERM

rc=0
echo "== store: sqlite"
env -u GEMGATE_TEST_PG_URL "$bin" || rc=1
echo "== store: postgresql"
if pg_start; then
    "$bin" || rc=1
else
    echo "could not start PostgreSQL" >&2
    rc=1
fi
exit $rc
