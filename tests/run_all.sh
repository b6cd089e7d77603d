#!/usr/bin/env bash
# run_all.sh -- the whole test suite, as `make test` and CI run it.
#
# 1. normal build: unit tests (ctest), store conformance on SQLite and on a
#    throwaway PostgreSQL, fake-upstream protocol smoke, openai-SDK
#    real-client tests, real-client tests per dialect (tests/dialects:
#    @anthropic-ai/sdk, openai Responses, @google/genai), pool/admin
#    integration tests, gemctl-tui in tmux and
#    its CLI mode, web console unit tests (vitest) and browser end-to-end
#    tests (playwright-core + Debian chromium);
# 2. ASan+UBSan build: unit tests, store, openai-SDK, dialects, integration and TUI
#    suites again, with every sanitizer report collected and failing the run;
# 3. short fuzzing runs (clang libFuzzer, about a minute in total);
# 4. ThreadSanitizer build: the node suites (openai SDK and dialects) again,
#    any TSan report fails.
# The normal stage also runs a one-minute soak under injected faults
# (tests/soak/soak.mjs; SOAK_LONG=1 makes it 15 minutes).
# ctest holds the C unit tests (label `unit`, the store suite also `store`)
# and the fake upstream's own protocol test (label `fake`):
# `ctest -L unit`, `ctest -L fake`.  The node, shell, TUI, soak and browser
# suites are the stages below, not ctest tests.  No suite skips silently: a
# missing tool, script or `npm ci` failure is a failed suite.  The sanitizer
# stages set TEST_TIME_SCALE=3 (every polling deadline in tests/lib x3).
# Set QUICK=1 to skip the sanitizer, fuzz and TSan stages.  Prints
# "N passed, N failed" (suites) as its last line; exits non-zero on failure.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
JOBS=$(nproc 2>/dev/null || echo 2)
pass=0; fail=0; failed=()
log_dir=$(mktemp -d /tmp/gemgate-tests.XXXXXX)

suite() {   # name command...
    local name=$1; shift
    echo
    echo "=================== $name"
    local t0=$SECONDS
    if "$@"; then
        pass=$((pass + 1)); echo "--- $name: ok ($((SECONDS - t0)) s)"
    else
        fail=$((fail + 1)); failed+=("$name"); echo "--- $name: FAILED ($((SECONDS - t0)) s)"
    fi
}

build() {   # dir extra-cmake-args...
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null && cmake --build "$dir" -j"$JOBS" 2>&1 | grep -Ev '^\[|^-- ' ; return "${PIPESTATUS[0]}"
}

# npm ci is a counted suite: a failed install fails the run (no silent skip).
npm_ci() { suite "npm ci $1" bash -c "cd '$1' && npm ci --no-audit --no-fund --loglevel=error >/dev/null"; }

# ctest: an empty selection is an error, never a pass.
ctest_all() { ctest --test-dir "$1" --output-on-failure --no-tests=error; }

node_suite() {   # build-dir dir
    (cd "$2" && GEMGATE_BUILD_DIR="$repo/$1" node --test --test-concurrency=1 ./*.test.mjs)
}

# The dialect suites have no skip probes: every test runs (tool-calling
# tests are node:test `todo`s until the core emulates tools).
dialects_suite() {   # build-dir
    node_suite "$1" tests/dialects
}

stage_normal() {
    suite "module layering (.ci/depgraph: no include cycles)" .ci/depgraph
    suite "house rules (.ci/checksrc: banned calls, unchecked strdup, 800 lines)" .ci/checksrc
    suite "build" build build
    suite "unit + fake smoke (ctest)" ctest_all build
    suite "store: sqlite + postgresql" tests/run_store_tests.sh build/tests/unit/test_store
    # (the fake upstream's own protocol smoke test runs inside ctest: fake_upstream_smoke)
    npm_ci tests/node
    suite "openai SDK + pool + admin (node; SQLite and PostgreSQL)" tests/node/run.sh build
    npm_ci tests/dialects
    suite "dialects: Anthropic, Responses, Gemini SDKs (node)" dialects_suite build
    suite "integration (shell)" tests/integration/run.sh build
    suite "soak under faults (RSS, fds, no silent truncation)" env GEMGATE_BUILD_DIR="$repo/build" node tests/soak/soak.mjs
    suite "gemctl-tui in tmux" env GEMGATE_BUILD_DIR="$repo/build" tests/tui/run.sh
    suite "gemctl-tui CLI mode" env GEMGATE_BUILD_DIR="$repo/build" tests/tui/cli.sh
    npm_ci web
    suite "web console unit tests (vitest)" bash -c 'cd web && npx vitest run'
    npm_ci tests/e2e
    suite "web console in chromium (playwright)" node_suite build tests/e2e
}

# Sanitizer builds are several times slower: every polling deadline in the
# suites is multiplied by TEST_TIME_SCALE (tests/lib/stack.mjs timeScale,
# tests/lib/stack.sh TIME_SCALE).
stage_asan() {
    export TEST_TIME_SCALE=3
    export ASAN_OPTIONS="log_path=$log_dir/asan:detect_leaks=1:abort_on_error=0:halt_on_error=1"
    export UBSAN_OPTIONS="log_path=$log_dir/ubsan:print_stacktrace=1:halt_on_error=1"
    suite "build (ASan+UBSan)" build build-asan -DGEM_SANITIZE=ON -DGEM_BUILD_WEB=OFF
    suite "unit + fake smoke (ASan+UBSan)" ctest_all build-asan
    suite "store (ASan+UBSan)" tests/run_store_tests.sh build-asan/tests/unit/test_store
    suite "openai SDK + pool + admin (ASan+UBSan)" tests/node/run.sh build-asan
    suite "dialects (ASan+UBSan)" dialects_suite build-asan
    suite "integration shell (ASan+UBSan)" tests/integration/run.sh build-asan
    suite "gemctl-tui (ASan+UBSan)" env GEMGATE_BUILD_DIR="$repo/build-asan" tests/tui/run.sh
    suite "gemctl-tui CLI (ASan+UBSan)" env GEMGATE_BUILD_DIR="$repo/build-asan" tests/tui/cli.sh
    unset ASAN_OPTIONS UBSAN_OPTIONS TEST_TIME_SCALE
    suite "no sanitizer reports" check_sanitizer_logs
}

check_sanitizer_logs() {
    local f found=0
    for f in "$log_dir"/asan* "$log_dir"/ubsan*; do
        [ -e "$f" ] || continue
        found=1
        echo "sanitizer report $f:"; head -40 "$f"
    done
    [ $found = 0 ]
}

# A missing or non-executable fuzz script is a failed suite, not a skip.
fuzz_short() {
    [ -x tests/fuzz/run.sh ] || { echo "tests/fuzz/run.sh is missing or not executable"; return 1; }
    tests/fuzz/run.sh short
}
stage_fuzz() {
    suite "fuzz (libFuzzer, short)" fuzz_short
}

# TSan: reports go to files (exitcode=0 so exit statuses stay meaningful);
# tests/tsan.supp may only name third-party frames.
stage_tsan() {
    export TEST_TIME_SCALE=3
    mkdir -p "$log_dir/tsan"
    suite "build (TSan)" build build-tsan -DGEM_TSAN=ON -DGEM_BUILD_WEB=OFF
    export TSAN_OPTIONS="log_path=$log_dir/tsan/tsan:halt_on_error=0:exitcode=0:second_deadlock_stack=1:suppressions=$repo/tests/tsan.supp"
    suite "openai SDK + pool + admin (TSan)" tests/node/run.sh build-tsan
    suite "dialects (TSan)" dialects_suite build-tsan
    unset TSAN_OPTIONS TEST_TIME_SCALE
    suite "no TSan reports" check_tsan_logs
}

check_tsan_logs() {
    local f found=0
    for f in "$log_dir"/tsan/tsan*; do
        [ -e "$f" ] || continue
        found=1
        echo "TSan report $f:"; grep -E '^(WARNING|SUMMARY)' "$f"; head -40 "$f"
    done
    [ $found = 0 ]
}

stage_normal
if [ -z "${QUICK:-}" ]; then
    stage_asan
    stage_fuzz
    stage_tsan
fi
rm -rf "$log_dir"
echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed suites:"; printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
