# stack.sh -- start the real fake upstream and the real gemgated on port 0
# (bash library for the shell test suites).
#
#   . tests/lib/stack.sh
#   stack_start [VAR=value ...]   # extra env for gemgated
#   ... GG_URL GG_API_KEY GG_ADMIN_KEY FAKE_URL STACK_DIR GG_PID FAKE_PID
#   stack_restart_gw [VAR=value ...]   # restart gemgated on the same data dir
#   stack_stop                    # fails (returns 1) unless gemgated and the
#                                 # fake exit 0 within the grace period
#   stack_poll SECONDS CMD...     # retry CMD every 50 ms until it succeeds;
#                                 # 1 after SECONDS x TIME_SCALE
#
# TIME_SCALE (from TEST_TIME_SCALE, 3 in the sanitizer stages) scales every
# deadline here.
# Binaries come from $GEMGATE_BUILD_DIR (default <repo>/build).  Logs are in
# $STACK_DIR/{fake,gemgated}.log.

_STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GEMGATE_BUILD_DIR=${GEMGATE_BUILD_DIR:-$_STACK_REPO/build}
TIME_SCALE=${TEST_TIME_SCALE:-1}

stack_poll() {   # seconds cmd...
    local n=$(( $1 * 20 * TIME_SCALE )) i
    shift
    for i in $(seq 1 "$n"); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

_stack_wait_file() {   # file timeout_s
    local i
    for i in $(seq 1 $(( $2 * 20 * TIME_SCALE ))); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

stack_start_gw() {
    rm -f "$STACK_DIR/gw.port"
    env HOST=127.0.0.1 PORT=0 PORT_FILE="$STACK_DIR/gw.port" DATA_DIR="$STACK_DIR/data" \
        API_KEY="$GG_API_KEY" ADMIN_KEY="$GG_ADMIN_KEY" \
        GEMINI_AUTH_URL="$FAKE_URL" GEMINI_API_URL="$FAKE_URL" \
        SECURE_C_SES=demo-ses CSESIDX=1000001 CONFIG_ID=demo-config LOG_LEVEL=${GG_LOG_LEVEL:-info} \
        "$@" "$GEMGATE_BUILD_DIR/daemon/gemgated" >>"$STACK_DIR/gemgated.log" 2>&1 &
    GG_PID=$!
    if ! _stack_wait_file "$STACK_DIR/gw.port" 20; then
        echo "stack: gemgated did not start; log:" >&2
        tail -20 "$STACK_DIR/gemgated.log" >&2
        return 1
    fi
    GG_URL="http://127.0.0.1:$(cat "$STACK_DIR/gw.port")"
    export GG_URL GG_PID
}

stack_start() {
    STACK_DIR=$(mktemp -d /tmp/gemgate-stack.XXXXXX)
    GG_API_KEY=sk-test-$RANDOM$RANDOM
    GG_ADMIN_KEY=adm-test-$RANDOM$RANDOM
    "$GEMGATE_BUILD_DIR/tests/fake_upstream/fake_upstream" --host 127.0.0.1 --port 0 \
        --port-file "$STACK_DIR/fake.port" >"$STACK_DIR/fake.log" 2>&1 &
    FAKE_PID=$!
    _stack_wait_file "$STACK_DIR/fake.port" 10 || { echo "stack: fake upstream did not start" >&2; return 1; }
    FAKE_URL="http://127.0.0.1:$(cat "$STACK_DIR/fake.port")"
    export STACK_DIR GG_API_KEY GG_ADMIN_KEY FAKE_URL FAKE_PID
    stack_start_gw "$@"
}

# SIGTERM, then a clean exit (status 0) within 15 s x TIME_SCALE; a daemon
# that must be SIGKILLed or exits non-zero fails (returns 1).
_stack_stop_pid() {   # pid what
    local rc=0 st
    kill -TERM "$1" 2>/dev/null
    if ! stack_poll 15 bash -c "! kill -0 $1 2>/dev/null"; then
        echo "stack: $2 (pid $1) still running after the grace period: SIGKILL" >&2
        kill -KILL "$1" 2>/dev/null
        rc=1
    fi
    wait "$1" 2>/dev/null; st=$?
    if [ $rc = 0 ] && [ $st != 0 ]; then
        echo "stack: $2 exited with status $st" >&2
        rc=1
    fi
    return $rc
}

stack_stop_gw() {
    local rc=0
    if [ -n "${GG_PID:-}" ]; then
        _stack_stop_pid "$GG_PID" gemgated || rc=1
        GG_PID=
    fi
    return $rc
}

stack_restart_gw() {
    stack_stop_gw
    stack_start_gw "$@"
}

stack_stop() {
    local rc=0
    stack_stop_gw || rc=1
    if [ -n "${FAKE_PID:-}" ]; then
        _stack_stop_pid "$FAKE_PID" fake_upstream || rc=1
        FAKE_PID=
    fi
    if [ $rc != 0 ]; then
        echo "stack: logs kept in $STACK_DIR" >&2
    elif [ -n "${STACK_DIR:-}" ] && [ -z "${KEEP_STACK:-}" ]; then
        rm -rf "$STACK_DIR"
    fi
    return $rc
}
