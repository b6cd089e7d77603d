#!/usr/bin/env bash
# t_outoftree.sh -- a plain out-of-tree CMake build (`cmake -S <repo> -B /tmp/x
# && cmake --build /tmp/x`) builds the web console into the build tree when
# node >= 20 and npm are present, and its gemgated (started from an unrelated
# working directory, WEB_DIR unset) serves it: GET /admin/ answers 200 HTML.
# Without node/npm: gemgated must say at start-up what to do.
#
#   bash tests/integration/t_outoftree.sh      (OUTOFTREE_DIR=... keeps a build)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
name=t_outoftree
fails=0
ok()  { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; fails=$((fails + 1)); }

T=$(mktemp -d /tmp/gemgate-oot.XXXXXX)
X=${OUTOFTREE_DIR:-$T/build}
GW_PID=
cleanup() {
    [ -n "$GW_PID" ] && { kill -TERM "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; }
    [ -z "${KEEP_STACK:-}" ] && rm -rf "$T"
}
trap cleanup EXIT
wait_file() { local i; for i in $(seq 1 $(($2 * 20))); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

have_node=0
if command -v npm >/dev/null && command -v node >/dev/null &&
   [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]; then
    have_node=1
fi
echo "$name: build dir $X (node+npm: $have_node)"
if ! cmake -S "$repo" -B "$X" >"$T/cmake.log" 2>&1; then
    cat "$T/cmake.log"; echo "$name: FAIL: configure"; exit 1
fi
if ! nice cmake --build "$X" -j"${JOBS:-2}" >"$T/build.log" 2>&1; then
    grep -E 'error|Error' "$T/build.log" | head -20; echo "$name: FAIL: build"; exit 1
fi
ok "cmake -S <repo> -B <tmp> && cmake --build <tmp>"
if [ $have_node = 1 ]; then
    if [ -f "$X/web/dist/index.html" ]; then ok "web console built into the build tree"; else bad "no $X/web/dist/index.html"; fi
fi

mkdir -p "$T/run"
KEY=sk-oot-$RANDOM$RANDOM
(cd "$T/run" && exec env -u WEB_DIR HOST=127.0.0.1 PORT=0 PORT_FILE="$T/gw.port" DATA_DIR="$T/run/data" \
    API_KEY="$KEY" GEMINI_AUTH_URL=http://127.0.0.1:9 GEMINI_API_URL=http://127.0.0.1:9 \
    SHUTDOWN_GRACE=1 "$X/daemon/gemgated" >"$T/gemgated.log" 2>&1) &
GW_PID=$!
if ! wait_file "$T/gw.port" 20; then
    tail -20 "$T/gemgated.log"; echo "$name: FAIL: gemgated did not start"; exit 1
fi
URL="http://127.0.0.1:$(cat "$T/gw.port")"
if [ $have_node = 1 ]; then
    code=$(curl -s -o "$T/admin.html" -w '%{http_code} %{content_type}' "$URL/admin/")
    case "$code" in
        "200 text/html"*) ok "GET /admin/ -> $code" ;;
        *) bad "GET /admin/ -> $code" ;;
    esac
    if grep -qi '<html' "$T/admin.html" && grep -q '/admin/assets/' "$T/admin.html"; then
        ok "the page is the built console"
    else
        bad "GET /admin/ is not the built console"
    fi
    if grep -q "web console served from $(cd "$X" && pwd -P)/web/dist" "$T/gemgated.log"; then
        ok "served from the build tree"
    else
        bad "not served from the build tree: $(grep 'web console' "$T/gemgated.log")"
    fi
else
    if grep -q 'web console not found.*install node >= 20 and npm' "$T/gemgated.log"; then
        ok "start-up says how to get the console"
    else
        bad "no clear start-up message about the missing console"
    fi
fi

[ "$fails" = 0 ] && echo "$name: ok" || echo "$name: $fails check(s) FAILED"
[ "$fails" = 0 ]
