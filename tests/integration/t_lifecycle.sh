#!/usr/bin/env bash
# t_lifecycle.sh -- SIGHUP reloads keys from .env and logs what changed;
# SIGTERM drains and exits 0; --help and --check-config work; a bad setting
# fails start-up with a message naming it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/stack.sh"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi; }

bin="$GEMGATE_BUILD_DIR/daemon/gemgated"
help=$("$bin" --help)
check "--help lists settings" 'echo "$help" | grep -q "ACCOUNT_MAX_CONCURRENCY"'
out=$(env -i PATH="$PATH" PORT=99999 "$bin" --check-config 2>&1); rc=$?
check "bad PORT refused with a clear message" '[ $rc = 2 ] && echo "$out" | grep -q "PORT: invalid value .99999."'
out=$(env -i PATH="$PATH" POOL_STRATEGY=random "$bin" --check-config 2>&1); rc=$?
check "bad enum names the allowed values" '[ $rc = 2 ] && echo "$out" | grep -q "failover|round_robin|least_used"'

stack_start
cd "$STACK_DIR"
# the working directory of gemgated is where stack_start ran it: use a .env there
wd=$(readlink /proc/$GG_PID/cwd)
printf 'API_KEY=sk-reloaded-key\nPING_INTERVAL=7\n' > "$wd/.env"
# API_KEY in the environment wins over .env, so restart without it in env
stack_stop_gw || fail=1
rm -f "$STACK_DIR/gw.port"
( cd "$wd" || exit 1; env HOST=127.0.0.1 PORT=0 PORT_FILE="$STACK_DIR/gw.port" DATA_DIR="$STACK_DIR/data" \
    ADMIN_KEY="$GG_ADMIN_KEY" GEMINI_AUTH_URL="$FAKE_URL" GEMINI_API_URL="$FAKE_URL" \
    SECURE_C_SES=demo-ses CSESIDX=1000001 CONFIG_ID=demo-config \
    "$bin" >>"$STACK_DIR/gemgated.log" 2>&1 & echo $! > "$STACK_DIR/gw.pid" )
GG_PID=$(cat "$STACK_DIR/gw.pid")
stack_poll 10 test -s "$STACK_DIR/gw.port" || { echo "not ok - gemgated did not start"; fail=1; }
GG_URL="http://127.0.0.1:$(cat "$STACK_DIR/gw.port")"
code() { curl -s -o /dev/null -w '%{http_code}' "$GG_URL/v1/models" -H "Authorization: Bearer $1"; }
check "key from .env accepted" '[ "$(code sk-reloaded-key)" = 200 ]'
printf 'API_KEY=sk-second-key\nPING_INTERVAL=9\n' > "$wd/.env"
kill -HUP "$GG_PID"
new_key_ok() { [ "$(code sk-second-key)" = 200 ]; }
check "after SIGHUP the new key works (polled, 5 s)" 'stack_poll 5 new_key_ok'
check "after SIGHUP the old key is refused" '[ "$(code sk-reloaded-key)" = 401 ]'
check "SIGHUP logs what changed" 'grep -q "SIGHUP: PING_INTERVAL 7 -> 9" "$STACK_DIR/gemgated.log" && grep -q "SIGHUP: API_KEY changed" "$STACK_DIR/gemgated.log"'
check "no key value in the log" '! grep -q "sk-second-key\|sk-reloaded-key" "$STACK_DIR/gemgated.log"'
# SIGTERM while a stream runs: it gets an error frame or finishes; exit 0
curl -s -N "$GG_URL/v1/chat/completions" -H "Authorization: Bearer sk-second-key" -H 'Content-Type: application/json' \
  -d '{"model":"gemini-auto","stream":true,"messages":[{"role":"user","content":"x [[fake:delay_ms=200,fragments=10]]"}]}' > "$STACK_DIR/stream.out" &
cpid=$!
# SIGTERM once the stream is running (its first frame arrived)
stack_poll 10 grep -q '^data: ' "$STACK_DIR/stream.out" || echo "not ok - the stream never started"
kill -TERM "$GG_PID"
stack_poll 15 bash -c "! kill -0 $GG_PID 2>/dev/null"
wait $cpid
rc=1; grep -q "bye (exit 0)" "$STACK_DIR/gemgated.log" && ! kill -0 "$GG_PID" 2>/dev/null && rc=0
check "SIGTERM drains and exits cleanly" '[ $rc = 0 ]'
check "the running stream completed (grace period)" 'grep -q "data: \[DONE\]" "$STACK_DIR/stream.out"'
GG_PID=
stack_stop || { echo "not ok - stack did not stop cleanly"; fail=1; }
exit $fail
