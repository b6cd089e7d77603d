#!/usr/bin/env bash
# run.sh -- build and run the libFuzzer harnesses.
#
#   tests/fuzz/run.sh short     replay regressions, then ~15 s per harness (CI)
#   tests/fuzz/run.sh long      replay regressions, then 10 min per harness
#   tests/fuzz/run.sh nightly   replay, 30 min per harness, then merge what
#                               added coverage into corpus/<target>/ (inputs
#                               up to 4 KiB), so the seed corpora grow with
#                               the long runs (review and commit the new files)
#   tests/fuzz/run.sh replay    replay seeds + regressions only
#   tests/fuzz/run.sh known     replay known/ (reported, not yet fixed; expected to fail)
#
# FUZZ_SECONDS overrides the per-harness time.  Harnesses: stream (splitter +
# xlate), chat (oai_parse_chat & co), import (import_parse), env
# (gg_env_parse), media (data: URLs + sniffing), url (media_url_check), jwt
# (jwt_sign), secretbox (open/seal), modelmap (models_set_map), tools,
# xfast, limits (stop sequences / max_tokens).  Fuzzing works on a scratch copy of the seed corpus, so the
# committed corpus stays small; new crashes land in $FUZZ_OUT (default
# build-fuzz/crashes) and fail the run.  Add each one to regressions/<target>/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mode=${1:-short}
out=${FUZZ_BUILD:-$repo/build-fuzz}
crashes=${FUZZ_OUT:-$out/crashes}
targets=(stream chat import env media url jwt secretbox modelmap tools xfast limits)
case $mode in
    short) secs=${FUZZ_SECONDS:-15} ;;
    long) secs=${FUZZ_SECONDS:-600} ;;
    nightly) secs=${FUZZ_SECONDS:-1800} ;;
    replay|known) secs=0 ;;
    *) echo "usage: $0 short|long|nightly|replay|known" >&2; exit 2 ;;
esac

if [ "$mode" = known ]; then
    out=$out-strict
    export FUZZ_STRICT=1
fi
"$here/build.sh" "$out" || { echo "fuzz: build failed" >&2; exit 1; }
mkdir -p "$crashes"
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0

replay() {   # target dir  -- run every file of dir once
    local t=$1 dir=$2 files
    [ -d "$dir" ] || return 0
    files=$(find "$dir" -maxdepth 1 -type f ! -name '.*' | sort)
    [ -n "$files" ] || return 0
    # shellcheck disable=SC2086
    if ! "$out/tests/fuzz/fuzz_$t" -runs=1 $files >"$out/replay_$t.log" 2>&1; then
        echo "fuzz: $t: replay of $dir FAILED"; tail -30 "$out/replay_$t.log"
        return 1
    fi
    echo "fuzz: $t: replayed $(echo "$files" | wc -l) inputs from ${dir#"$repo"/}"
}

if [ "$mode" = known ]; then   # passes only once every known bug is fixed
    for t in "${targets[@]}"; do replay "$t" "$here/known/$t" || rc=1; done
    exit $rc
fi

for t in "${targets[@]}"; do
    replay "$t" "$here/corpus/$t" || rc=1
    replay "$t" "$here/regressions/$t" || rc=1
done
[ "$secs" = 0 ] && exit $rc

for t in "${targets[@]}"; do
    work=$out/work/$t
    mkdir -p "$work"
    cp -n "$here/corpus/$t"/* "$work"/ 2>/dev/null
    dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    log=$out/fuzz_$t.log
    t0=$SECONDS
    "$out/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes/$t-" "${dict[@]}" \
        "$work" >"$log" 2>&1
    st=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ $st != 0 ]; then
        rc=1
        echo "fuzz: $t: CRASH after $((SECONDS - t0)) s (exit $st); artifacts in $crashes:"
        grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$log" | head -10
        grep -A25 -m1 '^==[0-9]*==ERROR\|invariant failed' "$log" | head -40
    else
        echo "fuzz: $t: ok, ${runs:-?} runs in $((SECONDS - t0)) s"
    fi
    if [ "$mode" = nightly ] && [ $st = 0 ]; then
        before=$(find "$here/corpus/$t" -type f | wc -l)
        "$out/tests/fuzz/fuzz_$t" -merge=1 -max_len=4096 "$here/corpus/$t" "$work" >"$out/merge_$t.log" 2>&1 ||
            { echo "fuzz: $t: corpus merge failed"; rc=1; }
        echo "fuzz: $t: corpus $before -> $(find "$here/corpus/$t" -type f | wc -l) files"
    fi
done
exit $rc
