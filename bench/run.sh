#!/usr/bin/env bash
# bench/run.sh -- gemgate benchmarks in one command (also `make bench`).
#
#   bench/run.sh            full run (~7 minutes), writes docs/BENCHMARKS.md
#   bench/run.sh --quick    1-2 minute version (shorter phases, fewer rates)
#
# Besides the shared-core runs, phases 1-2 (and the one-connection relay) are
# repeated with the gateway pinned to its own core and the load generator +
# fake on the others
# (taskset), a 1,000-stream burst measures RSS before / at peak / 10 s after,
# streams are opened up to the descriptor limit (raised to the hard limit;
# as root, to 70,000 with prlimit, for 20,000 streams), and a soak runs at
# 1,000 req/s with one line per minute (BENCH_SOAK_MIN, default 10; 0 in
# --quick).  Phase 8 reruns the short and relay scenarios with
# UPSTREAM_LOOPS=1..cores to show how the upstream event loops scale, and
# where `perf record` works the gateway is profiled during the relay and the
# pinned 1,000 req/s run (bench/results/<stamp>/*.perf.txt, in the report).  docs/benchmarks-summary.json keeps the key figures so the next
# run prints them beside its own.
#
# Starts the fake upstream and gemgated on 127.0.0.1 port 0, drives them with
# bench/loadgen.c (open-loop, epoll, C) and times daemon/splitter.c +
# daemon/xlate.c with bench/splitbench.c.  Raw results: bench/results/<stamp>/
# (gitignored; bench/results/latest points at the newest).
# Env: GEMGATE_BUILD_DIR (default build), BENCH_OUT (default docs/BENCHMARKS.md).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
BUILD=${GEMGATE_BUILD_DIR:-$REPO/build}
OUT=${BENCH_OUT:-$REPO/docs/BENCHMARKS.md}
if [ "$(id -u)" = 0 ] && command -v prlimit >/dev/null && [ "$(ulimit -Hn)" -lt 70000 ]; then
    prlimit --pid $$ --nofile=70000:70000 2>/dev/null || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NCPU=$(nproc)
PIN_GW=   PIN_REST=
if [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_GW="taskset -c $((NCPU - 1))"; PIN_REST="taskset -c 0-$((NCPU - 2))"
fi

# ---------------------------------------------------------------- build
if [ ! -x "$BUILD/daemon/gemgated" ] || [ ! -x "$BUILD/tests/fake_upstream/fake_upstream" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target gemgated fake_upstream >/dev/null
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$REPO/bench/results/$STAMP
mkdir -p "$RES/bin"
ln -sfn "$STAMP" "$REPO/bench/results/latest"
CFLAGS_B="-O2 -g -DNDEBUG -std=gnu11 -Wall -Wextra -Idaemon -Icommon -Ibench"
cc $CFLAGS_B bench/loadgen.c bench/lg_req.c bench/lg_stats.c daemon/jwt.c common/gg_b64.c common/gg_buf.c -lcrypto -lz -o "$RES/bin/loadgen"
cc $CFLAGS_B bench/splitbench.c daemon/splitter.c daemon/xlate.c daemon/xfast.c common/gg_buf.c -lcjson -o "$RES/bin/splitbench"
LG=$RES/bin/loadgen

# ---------------------------------------------------------------- processes
FAKE_PID= GG_PID= STK=
FAKE_PIN= GW_PIN= LG_PIN=
KEY=sk-bench-$RANDOM$RANDOM
cleanup() {
    [ -n "$GG_PID" ] && kill -TERM "$GG_PID" 2>/dev/null && wait "$GG_PID" 2>/dev/null
    [ -n "$FAKE_PID" ] && kill -TERM "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    [ -n "$STK" ] && rm -rf "$STK"
    return 0
}
trap cleanup EXIT
STK=$(mktemp -d /tmp/gemgate-bench.XXXXXX)

wait_file() { local i; for i in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

start_fake() {
    rm -f "$STK/fake.port"
    $FAKE_PIN "$BUILD/tests/fake_upstream/fake_upstream" --host 127.0.0.1 --port 0 --port-file "$STK/fake.port" --quiet \
        >>"$RES/fake.log" 2>&1 &
    FAKE_PID=$!
    wait_file "$STK/fake.port" || { echo "bench: fake upstream did not start" >&2; exit 1; }
    FAKE_PORT=$(cat "$STK/fake.port")
}

start_gw() {   # fresh data dir every time
    rm -rf "$STK/data" "$STK/gw.port"
    env HOST=127.0.0.1 PORT=0 PORT_FILE="$STK/gw.port" DATA_DIR="$STK/data" API_KEY="$KEY" \
        GEMINI_AUTH_URL="http://127.0.0.1:$FAKE_PORT" GEMINI_API_URL="http://127.0.0.1:$FAKE_PORT" \
        SECURE_C_SES=demo-ses CSESIDX=1000001 CONFIG_ID=demo-config \
        LOG_LEVEL=warn PING_INTERVAL=0 ACCOUNT_MAX_CONCURRENCY=0 PER_IP_CONNECTIONS=0 THREADS="${GW_THREADS:-0}" \
        UPSTREAM_LOOPS="${GW_LOOPS:-0}" \
        $GW_PIN "$BUILD/daemon/gemgated" >>"$RES/gemgated.log" 2>&1 &
    GG_PID=$!
    wait_file "$STK/gw.port" || { echo "bench: gemgated did not start" >&2; tail "$RES/gemgated.log" >&2; exit 1; }
    GW_PORT=$(cat "$STK/gw.port")
}

stop_gw() {
    kill -TERM "$GG_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 200); do kill -0 "$GG_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$GG_PID" 2>/dev/null || true
    wait "$GG_PID" 2>/dev/null || true
    GG_PID=
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# sockets of gemgated, and of those the client (to its port) and upstream (to the fake) connections
sock_counts() {
    local socks clients=? upstream=?
    socks=$(find /proc/"$GG_PID"/fd -lname 'socket:*' 2>/dev/null | wc -l)
    if command -v ss >/dev/null 2>&1; then
        clients=$(ss -Htn state established "( sport = :$GW_PORT )" 2>/dev/null | wc -l)
        upstream=$(ss -Htn state established "( dport = :$FAKE_PORT )" 2>/dev/null | wc -l)
    fi
    echo "socks=$socks clients=$clients upstream=$upstream"
}

# profile NAME SECONDS: perf record of gemgated in the background (no-op without perf)
PERF_OK=0 PROF_PIDS=
if command -v perf >/dev/null && perf stat -e instructions true >/dev/null 2>&1; then PERF_OK=1; fi
profile() {
    [ "$PERF_OK" = 1 ] || return 0
    ( perf record -F 499 -g -p "$GG_PID" -o "$RES/$1.perf.data" -- sleep "$2" >/dev/null 2>&1
      perf report -i "$RES/$1.perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1.5 -g none 2>/dev/null \
          | grep -E '^ +[0-9]' | head -25 >"$RES/$1.perf.txt"
      rm -f "$RES/$1.perf.data" ) &
    PROF_PIDS="$PROF_PIDS $!"
}

# lg FILE LABEL TARGET [args...]: one loadgen run appended to FILE
lg() {
    local file=$1 label=$2 target=$3
    shift 3
    local port=$FAKE_PORT
    case $target in gw|gw-cont) port=$GW_PORT ;; esac
    echo "  $label" >&2
    $LG_PIN "$LG" --label "$label" --target "$target" --port "$port" --key "$KEY" \
        --pid "$GG_PID" gw --pid "$FAKE_PID" fake "$@" >>"$RES/$file" 2>>"$RES/loadgen.log"
}

if [ $QUICK = 1 ]; then
    D=3; RATES="100 1000"; TD=3; STREAMS_BIG=9500; SFRAG=8; RD=3; SMB=30; SOAK_MIN=${BENCH_SOAK_MIN:-0}; DIALECT_N=40
else
    D=10; RATES="100 500 1000"; TD=10; STREAMS_BIG=9500; SFRAG=15; RD=10; SMB=100; SOAK_MIN=${BENCH_SOAK_MIN:-10}; DIALECT_N=150
fi
# streams at the descriptor limit: 2 descriptors per stream in the gateway, ~300 spare
NOFILE=$(ulimit -n)
FIT=$(( (NOFILE - 400) / 2 ))
[ "$FIT" -gt 20000 ] && FIT=20000
STREAMS_BIG=$FIT

# ---------------------------------------------------------------- machine
{
    echo "stamp=$STAMP"
    echo "quick=$QUICK"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "compiler=$(cc --version | head -1)"
    echo "build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$BUILD/CMakeCache.txt")"
    echo "mhd=$(pkg-config --modversion libmicrohttpd)"
    echo "curl=$(pkg-config --modversion libcurl)"
    echo "cjson=$(pkg-config --modversion libcjson)"
    echo "openssl=$(pkg-config --modversion openssl)"
    echo "nofile=$(ulimit -Hn)"
    echo "pinned=${PIN_GW:+gateway on cpu $((NCPU - 1)), load generator and fake on 0-$((NCPU - 2))}"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "others=$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 5 {printf "%s(%s%%) ", $2, $1}')"
    echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet -- daemon common || echo +dirty)"
} >"$RES/machine.env"

start_fake

# ---------------------------------------------------------------- 1. added latency (open loop)
echo "bench: 1. added latency, open loop ${D}s per point" >&2
start_gw
MSG='hi'
"$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1   # warm-up
for r in $RATES; do
    for t in direct gw direct-sa gw-cont; do
        lg latency.jsonl "$t@$r" "$t" --rate "$r" --duration "$D" --conns 2048 --msg "$MSG" --timeout 30 --drain 30
    done
done

# ---------------------------------------------------------------- 2. throughput (closed loop)
echo "bench: 2. throughput, closed loop 64 connections ${TD}s" >&2
# a fresh gateway: after phase 1 its store writer is still writing ~40,000 request-log rows and
# conversation-map entries to SQLite, which would compete for the cores (as in phase 8)
stop_gw
start_gw
"$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1
for t in direct gw; do
    lg throughput.jsonl "$t" "$t" --closed --conns 64 --duration "$TD" --stream 0 --msg "$MSG" --timeout 30
done

# the relay scenario (phase 4, and pinned in 1b): 5 MB answers of 1,000-byte fragments
ANSWER='Lorem%20ipsum%20dolor%20sit%20amet%2C%20consectetur%20adipiscing%20elit%2C%20sed%20do%20eiusmod%20tempor.%20'
RFRAG=5000; RBYTES=1000
RMSG="relay [[fake:nothoughts,fragments=$RFRAG,fragment_bytes=$RBYTES,answer=$ANSWER]]"
# ---------------------------------------------------------------- 1b/2b. the same, pinned
if [ -n "$PIN_GW" ]; then
    echo "bench: 1b/2b. latency and throughput with the gateway on its own core" >&2
    stop_gw
    kill -TERM "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PIN=$PIN_REST GW_PIN=$PIN_GW LG_PIN=$PIN_REST
    start_fake
    GW_THREADS=1 start_gw   # one core: one MHD worker; the loops follow the CPU affinity (1)
    $LG_PIN "$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1
    for r in $RATES; do
        for t in direct gw; do
            [ "$t@$r" = "gw@1000" ] && profile pinned-1000 "$D"
            lg latency-pinned.jsonl "$t@$r" "$t" --rate "$r" --duration "$D" --conns 2048 --msg "$MSG" --timeout 30 --drain 30
        done
    done
    stop_gw
    GW_THREADS=1 start_gw   # fresh, as in phase 2
    $LG_PIN "$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1
    for t in direct gw; do
        lg throughput-pinned.jsonl "$t" "$t" --closed --conns 64 --duration "$TD" --stream 0 --msg "$MSG" --timeout 30
    done
    for t in direct gw; do    # relay: the gateway's own core against the fake + load generator on theirs
        lg relay-pinned.jsonl "$t c=1" "$t" --closed --conns 1 --duration "$RD" --msg "$RMSG" \
            --marker Lorem --answer-bytes $((RFRAG * RBYTES)) --timeout 60 --drain 60
    done
    stop_gw
    kill -TERM "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PIN= GW_PIN= LG_PIN=
    start_fake
    start_gw
fi

# ---------------------------------------------------------------- 4. relay throughput
echo "bench: 4. relay of long answers" >&2
for c in 1 4; do
    for t in direct gw; do
        [ "$t $c" = "gw 1" ] && profile relay "$RD"
        lg relay.jsonl "$t c=$c" "$t" --closed --conns "$c" --duration "$RD" --msg "$RMSG" \
            --marker Lorem --answer-bytes $((RFRAG * RBYTES)) --timeout 60 --drain 60
    done
done
stop_gw

# ---------------------------------------------------------------- 3. concurrent long streams
echo "bench: 3. idle RSS and concurrent slow streams" >&2
start_gw
sleep 3
echo "idle_rss_kb=$(rss_kb "$GG_PID")" >"$RES/idle.env"
echo "fake_idle_rss_kb=$(rss_kb "$FAKE_PID")" >>"$RES/idle.env"
SMSG="stream [[fake:fragments=$SFRAG,delay_ms=1000]]"
lg streams.jsonl "1000 streams" gw --rate 1000 --count 1000 --conns 1000 --msg "$SMSG" --timeout 120 --drain 120
stop_gw
start_gw   # the same without upstream gzip: isolates zlib's per-stream inflate state
sleep 2
lg streams.jsonl "1000 streams nogzip" gw --rate 1000 --count 1000 --conns 1000 \
    --msg "stream [[fake:fragments=$SFRAG,delay_ms=1000,nogzip]]" --timeout 120 --drain 120
stop_gw
start_gw
sleep 2
lg streams.jsonl "$STREAMS_BIG streams" gw --rate 2000 --count "$STREAMS_BIG" --conns "$STREAMS_BIG" \
    --msg "$SMSG" --timeout 120 --drain 120
grep -c 'Too many open files\|EMFILE' "$RES/gemgated.log" >"$RES/emfile.count" || true
lg streams.jsonl "$STREAMS_BIG streams direct" direct --rate 2000 --count "$STREAMS_BIG" --conns "$STREAMS_BIG" \
    --msg "$SMSG" --timeout 120 --drain 120
stop_gw

# ---------------------------------------------------------------- 6. burst: RSS before, peak, 10 s after
echo "bench: 6. RSS around a 1,000-stream burst" >&2
start_gw
sleep 2
"$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1
sleep 1
echo "before_kb=$(rss_kb "$GG_PID")" >"$RES/burst.env"
lg burst.jsonl "burst" gw --rate 1000 --count 1000 --conns 1000 \
    --msg "burst [[fake:fragments=4,delay_ms=500]]" --timeout 60 --drain 60
echo "end_kb=$(rss_kb "$GG_PID")" >>"$RES/burst.env"
sleep 10
echo "after10_kb=$(rss_kb "$GG_PID")" >>"$RES/burst.env"
stop_gw

# ---------------------------------------------------------------- 7. soak
if [ "$SOAK_MIN" -gt 0 ]; then
    echo "bench: 7. soak, 1,000 req/s for $SOAK_MIN minute(s)" >&2
    start_gw
    "$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 2 >/dev/null 2>&1   # warm-up, as the other phases
    : >"$RES/soak.env"
    for i in $(seq 1 "$SOAK_MIN"); do
        lg soak.jsonl "minute $i" gw --rate 1000 --duration 60 --conns 2048 --msg "$MSG" --timeout 30 --drain 30
        echo "minute$i rss_kb=$(rss_kb "$GG_PID") fds=$(ls /proc/"$GG_PID"/fd | wc -l) $(sock_counts)" >>"$RES/soak.env"
    done
    stop_gw
fi

# ---------------------------------------------------------------- 8. scaling with the upstream loops
echo "bench: 8. scaling, UPSTREAM_LOOPS=1..$NCPU" >&2
for n in $(seq 1 "$NCPU"); do
    GW_LOOPS=$n start_gw
    "$LG" --target gw --port "$GW_PORT" --key "$KEY" --rate 200 --duration 1 >/dev/null 2>&1
    lg scaling.jsonl "loops=$n short" gw --closed --conns 64 --duration "$TD" --stream 0 --msg "$MSG" --timeout 30
    lg scaling.jsonl "loops=$n relay" gw --closed --conns 4 --duration "$RD" --msg "$RMSG" \
        --marker Lorem --answer-bytes $((RFRAG * RBYTES)) --timeout 60 --drain 60
    lg scaling.jsonl "loops=$n latency" gw --rate 1000 --duration "$D" --conns 2048 --msg "$MSG" --timeout 30 --drain 30
    stop_gw
done
for p in $PROF_PIDS; do wait "$p" 2>/dev/null || true; done   # profiles still being written

# ---------------------------------------------------------------- 10. dialects (added TTFT per client dialect)
if command -v node >/dev/null 2>&1; then
    echo "bench: 10. dialects, $DIALECT_N rounds" >&2
    GEMGATE_BUILD_DIR="$BUILD" "$REPO/bench/dialects.sh" "$DIALECT_N" >"$RES/dialects.md" 2>"$RES/dialects.err" ||
        echo "bench: dialects phase failed (see $RES/dialects.err)" >&2
fi

# ---------------------------------------------------------------- 5. splitter microbenchmark
echo "bench: 5. splitter/translator microbenchmark (${SMB} MB)" >&2
"$RES/bin/splitbench" --mb "$SMB" --reps 3 >"$RES/splitbench.json"

# ---------------------------------------------------------------- report
python3 "$REPO/bench/report.py" "$RES" "$OUT" "$(dirname "$OUT")/benchmarks-summary.json"
echo "bench: wrote $OUT (raw results in $RES)" >&2
