# stack.sh -- start the real fake upstream and the real gemgated on port 0
# (bash library for the shell test suites).
#
#   . tests/lib/stack.sh
#   stack_start [VAR=value ...]   # extra env for gemgated
#   ... GG_URL GG_API_KEY GG_ADMIN_KEY FAKE_URL STACK_DIR GG_PID FAKE_PID
#   stack_restart_gw [VAR=value ...]   # restart gemgated on the same data dir
#   stack_stop
#
# Binaries come from $GEMGATE_BUILD_DIR (default <repo>/build).  Logs are in
# $STACK_DIR/{fake,gemgated}.log.

_STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GEMGATE_BUILD_DIR=${GEMGATE_BUILD_DIR:-$_STACK_REPO/build}

_stack_wait_file() {   # file timeout_s
    local i
    for i in $(seq 1 $(( $2 * 20 ))); do
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

stack_stop_gw() {
    if [ -n "${GG_PID:-}" ]; then
        kill -TERM "$GG_PID" 2>/dev/null
        local i
        for i in $(seq 1 100); do kill -0 "$GG_PID" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$GG_PID" 2>/dev/null
        wait "$GG_PID" 2>/dev/null
        GG_PID=
    fi
}

stack_restart_gw() {
    stack_stop_gw
    stack_start_gw "$@"
}

stack_stop() {
    stack_stop_gw
    if [ -n "${FAKE_PID:-}" ]; then
        kill -TERM "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=
    fi
    if [ -n "${STACK_DIR:-}" ] && [ -z "${KEEP_STACK:-}" ]; then
        rm -rf "$STACK_DIR"
    fi
}
