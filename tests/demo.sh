#!/usr/bin/env bash
# demo.sh -- start the fake upstream and gemgated wired to it with the fake's
# built-in demo account, so the README's curl example works with no Google
# account.  Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
dir=$(mktemp -d /tmp/gemgate-demo.XXXXXX)
"$BUILD/tests/fake_upstream/fake_upstream" --host 127.0.0.1 --port 0 --port-file "$dir/fake.port" --quiet &
fake=$!
trap 'kill $fake 2>/dev/null; kill $gw 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
for _ in $(seq 1 100); do [ -s "$dir/fake.port" ] && break; sleep 0.05; done
fp=$(cat "$dir/fake.port")
echo "demo: fake upstream on 127.0.0.1:$fp; gemgated on ${PORT:-7860} with API_KEY=${API_KEY:-sk-demo}"
env PORT="${PORT:-7860}" HOST="${HOST:-127.0.0.1}" DATA_DIR="$dir/data" API_KEY="${API_KEY:-sk-demo}" \
    ADMIN_KEY="${ADMIN_KEY:-admin-demo}" \
    GEMINI_AUTH_URL="http://127.0.0.1:$fp" GEMINI_API_URL="http://127.0.0.1:$fp" \
    SECURE_C_SES=demo-ses CSESIDX=1000001 CONFIG_ID=demo-config \
    "$BUILD/daemon/gemgated" &
gw=$!
wait $gw
