#!/usr/bin/env bash
# t_secrets.sh -- with SECRET_KEY the cookies are stored AES-256-GCM
# encrypted (never in clear in the SQLite file), the API only shows masks,
# and `gemgated --reencrypt` rotates to a new key (old one in SECRET_KEY_OLD).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/stack.sh"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi; }
command -v sqlite3 >/dev/null || { echo "t_secrets: sqlite3 CLI missing"; exit 1; }

stack_start SECRET_KEY=first-secret-key
curl -s -X POST "$FAKE_URL/__fake/accounts" -H 'Content-Type: application/json' \
  -d '{"csesidx":"9001","secure_c_ses":"CSE.very-secret-cookie-123","host_c_oses":"COS.host-secret-456","config_id":"cfg-enc"}' >/dev/null
resp=$(curl -s -X POST "$GG_URL/api/admin/accounts" -H "Authorization: Bearer $GG_ADMIN_KEY" \
  -H 'Content-Type: application/json' \
  -d '{"name":"enc","secure_c_ses":"CSE.very-secret-cookie-123","host_c_oses":"COS.host-secret-456","csesidx":"9001","config_id":"cfg-enc"}')
check "created" 'echo "$resp" | grep -q "\"id\":"'
check "API shows only a mask" '! echo "$resp" | grep -q "very-secret-cookie"'
db="$STACK_DIR/data/gemgate.db"
raw=$(sqlite3 "$db" "select secure_c_ses || '|' || host_c_oses from gemini_accounts where csesidx='9001'")
check "stored encrypted" 'echo "$raw" | grep -q "^enc:v2:" && ! echo "$raw" | grep -q "secret-cookie\|host-secret"'
check "file has no clear cookie" '! grep -a -q "very-secret-cookie" "$db" "$db-wal" 2>/dev/null'
check "gemgated stops cleanly (exit 0 in the grace period)" 'stack_stop_gw'
# rotate: new key current, old key for decryption
out=$(cd "$STACK_DIR" && env DATA_DIR="$STACK_DIR/data" SECRET_KEY=second-secret-key SECRET_KEY_OLD=first-secret-key \
      "$GEMGATE_BUILD_DIR/daemon/gemgated" --reencrypt 2>&1)
check "reencrypt reports the rows" 'echo "$out" | grep -q "re-encrypted 1 account"'
raw2=$(sqlite3 "$db" "select secure_c_ses from gemini_accounts where csesidx='9001'")
check "ciphertext changed (new key id)" '[ "$raw2" != "${raw%%|*}" ] && echo "$raw2" | grep -q "^enc:v2:"'
stack_start_gw SECRET_KEY=second-secret-key
t=$(curl -s -X POST "$GG_URL/api/admin/accounts/1/test" -H "Authorization: Bearer $GG_ADMIN_KEY")
check "account still works after rotation (cookies decrypt)" 'echo "$t" | grep -q "\"ok\":true"'
check "no secret in the log" '! grep -q "very-secret-cookie\|host-secret\|first-secret-key\|second-secret-key" "$STACK_DIR/gemgated.log"'
check "stack stops cleanly (exit 0 in the grace period)" 'stack_stop'
exit $fail
