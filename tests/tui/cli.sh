#!/usr/bin/env bash
# tests/tui/cli.sh -- tests of gemctl-tui's non-interactive mode against the
# REAL gemgated + fake upstream (tests/lib/stack.sh): output, JSON (parsed
# with node) and exit codes 0 ok, 1 API error, 2 usage, 3 cannot connect,
# 4 auth failed.  Prints "N passed, N failed" last.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$repo/tests/tui/lib.sh"

command -v node >/dev/null || { echo "cli.sh: node is required"; echo "0 passed, 1 failed"; exit 1; }
[[ -x $TUI_BIN ]] || { echo "cli.sh: $TUI_BIN not built"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/gemcli-test.XXXXXX)
cleanup() { stack_stop >/dev/null 2>&1; [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"; }
trap cleanup EXIT
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
mkdir -p "$XDG_CONFIG_HOME/gemgate"
unset GEMGATE_URL GEMGATE_ADMIN_KEY

# run NAME EXPECTED_RC ARGS... : runs the CLI with the stack's URL and key,
# stdout in $WORK/NAME.out, stderr in $WORK/NAME.err
run() {
  local name=$1 want=$2
  shift 2
  GEMGATE_URL=$GG_URL GEMGATE_ADMIN_KEY=$GG_ADMIN_KEY "$TUI_BIN" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
  local rc=$?
  if [[ $rc -eq $want ]]; then
    pass "$name: exit $rc"
  else
    fail "$name: exit $rc, expected $want"
    sed 's/^/    out|/' "$WORK/$name.out" | head -20
    sed 's/^/    err|/' "$WORK/$name.err" | head -20
  fi
}
out() { cat "$WORK/$1.out"; }
err() { cat "$WORK/$1.err"; }

if ! stack_start; then
  echo "cli.sh: stack_start failed"
  echo "0 passed, 1 failed"
  exit 1
fi
id_a=$(create_account alpha 3001)
id_b=$(create_account beta 3002 false)

# ---- usage errors (2) -------------------------------------------------------
run usage_unknown 2 --frobnicate
run usage_extra_arg 2 --list extra
run usage_two_cmds 2 --list --overview
run usage_bad_id 2 --enable abc
run usage_json_alone 2 --json
run usage_missing_file 2 --import "$WORK/does-not-exist"
check "usage error message on stderr" grep -q "invalid account id 'abc'" "$WORK/usage_bad_id.err"
run help 0 --help
check "--help lists the exit codes" grep -q "3 cannot connect, 4 auth failed" "$WORK/help.out"

# ---- --list -------------------------------------------------------------------
run list 0 --list
check "--list shows the column titles" grep -qE "^ +ID +NAME +STATUS +UNTIL +LAST USED +REQ +ERR +FLT +SIGN-IN +RFR +COOLING$" "$WORK/list.out"
check "--list shows alpha active" grep -qE "^ +$id_a alpha +active" "$WORK/list.out"
check "--list shows beta disabled" grep -qE "^ +$id_b beta +disabled" "$WORK/list.out"
run list_json 0 --list --json
check "--list --json is JSON with every account" \
  test "$(out list_json | jget .accounts.length)" = "$(admin GET /api/admin/accounts | jget .accounts.length)"
check "--list --json masks the cookies" \
  test "$(out list_json | jget ".accounts.find(a => a.id == $id_a).secure_c_ses.includes('…')")" = true

# ---- actions ---------------------------------------------------------------
run disable 0 --disable "$id_a"
check "--disable prints the new status" grep -q "#$id_a alpha: disabled, status disabled" "$WORK/disable.out"
check "daemon: alpha disabled" test "$(admin GET "/api/admin/accounts/$id_a" | jget .status)" = disabled
run enable 0 --enable "$id_a"
check "daemon: alpha active again" test "$(admin GET "/api/admin/accounts/$id_a" | jget .status)" = active
run reset 0 --reset "$id_a"
run get_json 0 --get "$id_a" --json
check "--get --json returns the account" test "$(out get_json | jget .name)" = alpha
run enable_missing 1 --enable 999999
check "API error message names the code" grep -q "not_found" "$WORK/enable_missing.err"
run test_acct 0 --test "$id_a"
check "--test prints the result" grep -qE "#$id_a test ok: [0-9]+ ms" "$WORK/test_acct.out"

# ---- sign-in, cookie refreshes, per-kind cooldowns (issue 18) ------------------
# getoxsrf answers 302 to refreshcookies, which rotates alpha's cookies; dropping
# the issued keys makes the next test sign in again
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data-binary '{"csesidx":"3001","endpoint":"getoxsrf","mode":"redirect","rotate":true,"count":1}' "$FAKE_URL/__fake/scenario"
curl -sS -o /dev/null -X POST "$FAKE_URL/__fake/accounts/3001/revoke_keys"
run test_rotated 0 --test "$id_a"
check "daemon: alpha refreshed once" test "$(admin GET "/api/admin/accounts/$id_a" | jget .refresh_count)" = 1
run list_signin 0 --list
check "--list shows alpha's sign-in and refresh count" \
  grep -qE "^ +$id_a alpha +active .* (just now|[0-9]+s ago) +1 +-$" "$WORK/list_signin.out"
check "--list shows '-' for beta (never signed in, no cooldown)" grep -qE "^ +$id_b beta +disabled .* - +0 +-$" "$WORK/list_signin.out"
run list_signin_json 0 --list --json
check "--list --json passes last_signin_at through" \
  test "$(out list_signin_json | jget ".accounts.find(a => a.id == $id_a).last_signin_at")" = "$(admin GET "/api/admin/accounts/$id_a" | jget .last_signin_at)"
check "--list --json passes refresh_count through" \
  test "$(out list_signin_json | jget ".accounts.find(a => a.id == $id_a).refresh_count")" = 1
# an image quota 429 gives the account that takes the image request an image cooldown
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data-binary '{"endpoint":"stream","mode":"quota","count":1}' "$FAKE_URL/__fake/scenario"
img_code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GG_API_KEY" -H 'Content-Type: application/json' \
  -d '{"model":"gemini-2.5-flash-image","messages":[{"role":"user","content":"draw [[fake:image]]"}]}' "$GG_URL/v1/chat/completions")
check "image request answered by another account (got $img_code)" test "$img_code" = 200
id_c=$(admin GET /api/admin/accounts | jget '.accounts.filter(a => a.cooldowns && a.cooldowns.image && a.cooldowns.image.until).map(a => a.id).join(",")')
check "daemon: exactly one account has an image cooldown (#$id_c)" bash -c '[[ $1 =~ ^[0-9]+$ ]]' _ "$id_c"
run list_cool 0 --list
check "--list shows the image cooldown compactly (img HH:MM)" \
  grep -qE "^ +$id_c [^ ].* active .* img [0-9]{2}:[0-9]{2}$" "$WORK/list_cool.out"
run list_cool_json 0 --list --json
check "--list --json passes the cooldowns object through" \
  test "$(out list_cool_json | jget ".accounts.find(a => a.id == $id_c).cooldowns.image.until")" = "$(admin GET "/api/admin/accounts/$id_c" | jget .cooldowns.image.until)"
run reset_kinds 0 --reset "$id_c"
check "reset clears the image cooldown" test "$(admin GET "/api/admin/accounts/$id_c" | jget .cooldowns.image)" = undefined

# ---- import ------------------------------------------------------------------
cat >"$WORK/imp.txt" <<'EOF'
imp-one|CSE.i1|COS.i1|4001|cfg-4001
imp-two|CSE.i2||4002|cfg-4002
broken|CSE.x|COS.x|notdigits|cfg-x
EOF
run import_file 0 --import "$WORK/imp.txt"
check "import report summary" grep -q "created 2, updated 0, rejected 1" "$WORK/import_file.out"
check "import report rejected line" grep -qE "^line 3: rejected: .*csesidx" "$WORK/import_file.out"
GEMGATE_URL=$GG_URL GEMGATE_ADMIN_KEY=$GG_ADMIN_KEY "$TUI_BIN" --import - --json <"$WORK/imp.txt" >"$WORK/import_stdin.out" 2>&1
rc=$?
check "import from stdin (-) exits 0" test $rc -eq 0
check "import again updates (idempotent)" test "$(jget .updated <"$WORK/import_stdin.out")" = 2

# ---- overview -------------------------------------------------------------------
run overview 0 --overview --json
ov=$(admin GET /api/admin/overview)
check "--overview --json has the pool" test "$(out overview | jget .pool)" = "$(jget .pool <<<"$ov")"
check "--overview --json counts beta as disabled" test "$(out overview | jget .pool.disabled)" -ge 1
run overview_text 0 --overview
check "--overview text names the model availability" grep -qE "^models [0-9]+ of [0-9]+ available" "$WORK/overview_text.out"
check "--overview text counts requests per dialect" grep -qE "^requests by dialect \(1h\): openai [0-9]+" "$WORK/overview_text.out"
check "--overview text" grep -qE "^pool $(jget .pool.total <<<"$ov"): $(jget .pool.active <<<"$ov") active, [0-9]+ cooldown, [0-9]+ expired, $(jget .pool.disabled <<<"$ov") disabled\$" "$WORK/overview_text.out"

# ---- server-supplied text is escaped (finding 10) ------------------------------
# OSC 2 + BEL, ED, a C1 CSI (U+009B), DEL and a NEL (U+0085) in a name
evil='{"name":"evil\u001b]2;PWNED\u0007\u001b[2J\u009b7m\u007fX\u0085","secure_c_ses":"CSE.tok3009","host_c_oses":"COS.tok3009","csesidx":"3009","config_id":"cfg-3009"}'
id_e=$(admin POST /api/admin/accounts "$evil" | jget .id)
check "account with control characters in its name created (#$id_e)" bash -c '[[ $1 =~ ^[0-9]+$ ]]' _ "$id_e"
# raw control bytes: C0 other than LF, DEL, and UTF-8 encoded C1 (C2 80-9F)
no_controls() { ! LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; }
no_controls_json() { ! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; } # TAB: layout
run evil_get 0 --get "$id_e"
check "--get prints the name with visible escapes" \
  grep -qF '#'"$id_e"' evil\x1b]2;PWNED\x07\x1b[2J\u009b7m\x7fX\u0085: found, status active' "$WORK/evil_get.out"
check "--get output holds no control character" no_controls "$WORK/evil_get.out"
run evil_list 0 --list
check "--list shows the name with '?' (table cells)" grep -qE "^ +$id_e evil\?\]2;PWNED\?\?\[2J\?7m\?X\? +active" "$WORK/evil_list.out"
check "--list output holds no control character" no_controls "$WORK/evil_list.out"
run evil_json 0 --get "$id_e" --json
check "--get --json escapes ESC, BEL, C1, DEL as \\u00XX" \
  grep -qF '"evil\u001b]2;PWNED\u0007\u001b[2J\u009b7m\u007fX\u0085"' "$WORK/evil_json.out"
check "--get --json holds no control character but layout whitespace" \
  no_controls_json "$WORK/evil_json.out"
check "--get --json still decodes to the exact name" \
  test "$(out evil_json | jget '.name === "evil\u001b]2;PWNED\u0007\u001b[2J\u009b7m\u007fX\u0085"')" = true
run evil_list_json 0 --list --json
check "--list --json holds no control character but layout whitespace" \
  no_controls_json "$WORK/evil_list_json.out"
run evil_disable 0 --disable "$id_e"
check "--disable line escaped too" grep -qF 'evil\x1b]2;PWNED' "$WORK/evil_disable.out"
admin DELETE "/api/admin/accounts/$id_e" >/dev/null

# ---- delete ------------------------------------------------------------------------
run delete 0 --delete "$id_b"
check "daemon: beta gone (404)" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GG_ADMIN_KEY" "$GG_URL/api/admin/accounts/$id_b")" = 404
run delete_again 1 --delete "$id_b"

# ---- client keys -------------------------------------------------------------
kchat() { # kchat SECRET [MODEL] -> HTTP status of a chat request made with the key
  curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    --data "{\"model\":\"${2:-gemini-2.5-flash}\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
    "$GG_URL/v1/chat/completions"
}
run keys_empty 0 --keys
check "--keys with no key prints only the titles" \
  grep -qxE '  ID NAME {21}PREFIX {5}STATE {4}EXPIRES {4}LIMITS {62}REQ  TOKENS  ERR FLT' "$WORK/keys_empty.out"
run newkey 0 --new-key ci-bot --rpm 2 --day 100000 --concurrent 3 --models 'gemini-2.5-flash,gemini-3-*' --note 'CI runner' --expires 2030-01-01T00:00:00Z
check "--new-key prints the key line" grep -qE '^#[0-9]+ ci-bot \(gk-[0-9a-f]{7}\): created, state enabled, limits: rpm 2, day 100k, conc 3, models gemini-2\.5-flash,gemini-3-\*$' "$WORK/newkey.out"
check "--new-key prints the secret once" test "$(grep -cE 'gk-[0-9a-f]{40}' "$WORK/newkey.out")" = 1
check "--new-key says it is shown once" grep -q "only time the secret is shown" "$WORK/newkey.out"
sec1=$(grep -oE 'gk-[0-9a-f]{40}' "$WORK/newkey.out")
kid1=$(grep -oE '^#[0-9]+' "$WORK/newkey.out" | tr -d '#')
k1=$(admin GET "/api/admin/keys/$kid1")
check "daemon: limits as given" test "$(jget .limits <<<"$k1")" = '{"models":"gemini-2.5-flash,gemini-3-*","rpm":2,"tpm":0,"tokens_day":100000,"tokens_month":0,"max_concurrent":3,"group":""}'
check "daemon: note and expiry as given" test "$(jget .note <<<"$k1") $(jget .expires_at <<<"$k1")" = "CI runner 2030-01-01T00:00:00.000Z"
check "the new key works (chat 200)" test "$(kchat "$sec1")" = 200
check "its model allow-list holds (403)" test "$(kchat "$sec1" gemini-2.5-pro)" = 403
run newkey_quiet 0 --new-key quiet-one --quiet --group team-q
check "--quiet prints only the secret" grep -qxE 'gk-[0-9a-f]{40}' "$WORK/newkey_quiet.out"
check "--quiet prints one line" test "$(wc -l <"$WORK/newkey_quiet.out")" = 1
kidq=$(admin GET /api/admin/keys | jget '.keys.find(k => k.name === "quiet-one").id')
run keys_list 0 --keys
check "--keys shows ci-bot with its limits" \
  grep -qE "^ +$kid1 ci-bot +${sec1:0:10} enabled +2030-01-01 +rpm 2, day 100k, conc 3, models gemini-2\.5-flash,gemini-3-\* +2 +[0-9.k]+ +1 +0$" "$WORK/keys_list.out"
check "--keys shows quiet-one with its group" grep -qE "^ +$kidq quiet-one +gk-[0-9a-f]{7} enabled +never +group team-q +0 +0 +0 +0$" "$WORK/keys_list.out"
check "--keys never prints a secret" bash -c '! grep -qE "gk-[0-9a-f]{11}" "$1"' _ "$WORK/keys_list.out"
run keys_json 0 --keys --json
check "--keys --json lists both keys" test "$(out keys_json | jget '.keys.map(k => k.name).join(",")')" = "ci-bot,quiet-one"
check "--keys --json holds no secret" bash -c '! grep -q "${1:10}" "$2"' _ "$sec1" "$WORK/keys_json.out"
run key_usage 0 --key-usage "$kid1" --days 3
check "--key-usage: today's row for the model" grep -qE "^$(date -u +%F) gemini-2\.5-flash +1 +0 +[1-9][0-9]* +[1-9][0-9]*$" "$WORK/key_usage.out"
# a 403 (model not allowed) is booked as an error under the model the client asked for
check "--key-usage: the 403 counts as an error" grep -qE "^$(date -u +%F) gemini-2\.5-pro +1 +1 +0 +0$" "$WORK/key_usage.out"
check "--key-usage: total line" grep -qE "^total +2 +1 " "$WORK/key_usage.out"
run key_usage_json 0 --key-usage "$kid1" --json
check "--key-usage --json is the API reply" test "$(out key_usage_json | jget '.days.length')" = 2
run key_edit 0 --key-edit "$kid1" --rpm 0 --models '' --tpm 5000
check "--key-edit prints the new limits" grep -qE "^#$kid1 ci-bot \(gk-[0-9a-f]{7}\): updated, state enabled, limits: tpm 5000, day 100k, conc 3$" "$WORK/key_edit.out"
check "daemon: the edit kept the other limits" test "$(admin GET "/api/admin/keys/$kid1" | jget .limits)" = '{"models":"","rpm":0,"tpm":5000,"tokens_day":100000,"tokens_month":0,"max_concurrent":3,"group":""}'
run key_disable 0 --key-disable "$kid1"
check "--key-disable line" grep -qE "^#$kid1 ci-bot \(gk-[0-9a-f]{7}\): disabled, state disabled" "$WORK/key_disable.out"
check "a disabled key gets 401" test "$(kchat "$sec1")" = 401
run key_enable 0 --key-enable "$kid1"
check "an enabled key works again" test "$(kchat "$sec1")" = 200
run key_delete 0 --key-delete "$kid1"
check "--key-delete line" grep -qx "key #$kid1 deleted" "$WORK/key_delete.out"
check "a deleted key gets 401" test "$(kchat "$sec1")" = 401
run key_delete_again 1 --key-delete "$kid1"
check "deleting again: not_found" grep -q "not_found" "$WORK/key_delete_again.err"
# usage and API errors
run newkey_bad_num 2 --new-key x --rpm ten
check "a bad number is a usage error naming it" grep -q -- "--rpm: 'ten' is not a whole number" "$WORK/newkey_bad_num.err"
run newkey_bad_group 1 --new-key x --group 'bad tag!'
check "the API's field message is shown" grep -q "validation_failed: limits.group: " "$WORK/newkey_bad_group.err"
run newkey_bad_expiry 1 --new-key x --expires tomorrow
check "a bad expiry: the API names expires_at" grep -q "expires_at: must be an RFC 3339 time" "$WORK/newkey_bad_expiry.err"
run key_bad_id 2 --key-enable abc
check "a bad key id is a usage error" grep -q "invalid key id 'abc'" "$WORK/key_bad_id.err"
run key_opt_alone 2 --rpm 5 --list
run key_days_range 2 --key-usage "$kidq" --days 0
run key_quiet_alone 2 --keys --quiet
run key_missing 1 --key-usage 999999
# (names: the API refuses every control character, C1 and DEL included,
# so there is no evil key name to print; kf_row fits every cell with tx_fit)
run bindings 0 --bindings
check "--bindings lists the keys view binding" grep -qE "client keys view" "$WORK/bindings.out"

# ---- config file: used when 0600, refused otherwise ---------------------
conf=$XDG_CONFIG_HOME/gemgate/tui.conf
printf 'GEMGATE_URL=%s\nGEMGATE_ADMIN_KEY=%s\n' "$GG_URL" "$GG_ADMIN_KEY" >"$conf"
chmod 600 "$conf"
env -u GEMGATE_URL -u GEMGATE_ADMIN_KEY "$TUI_BIN" --overview --json >"$WORK/conf_ok.out" 2>"$WORK/conf_ok.err"
check "tui.conf (0600) supplies URL and key" test $? -eq 0
chmod 644 "$conf"
env -u GEMGATE_URL -u GEMGATE_ADMIN_KEY "$TUI_BIN" --overview --json >"$WORK/conf_bad.out" 2>"$WORK/conf_bad.err"
rc=$?
check "tui.conf readable by others is refused (exit $rc)" test $rc -ne 0
check "refusal says why" grep -q "mode 0644 lets other users read the admin key" "$WORK/conf_bad.err"
env -u GEMGATE_URL -u GEMGATE_ADMIN_KEY "$TUI_BIN" --config "$conf" --list >/dev/null 2>"$WORK/conf_bad2.err"
check "explicit --config with bad mode: usage error (2)" test $? -eq 2
rm -f "$conf"

# ---- auth failed (4) and cannot connect (3) ---------------------------------
GEMGATE_URL=$GG_URL GEMGATE_ADMIN_KEY=wrong-key "$TUI_BIN" --list >/dev/null 2>"$WORK/auth.err"
check "wrong key exits 4" test $? -eq 4
check "wrong key message" grep -q "admin key rejected (401)" "$WORK/auth.err"
# a port nothing listens on: bind a socket, note its port, close it
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')
GEMGATE_URL=http://127.0.0.1:$port GEMGATE_ADMIN_KEY=x "$TUI_BIN" --list >/dev/null 2>"$WORK/conn.err"
check "unreachable daemon exits 3" test $? -eq 3
check "unreachable message" grep -q "cannot reach http://127.0.0.1:$port" "$WORK/conn.err"
"$TUI_BIN" --url "http://127.0.0.1:$port" --key x --overview --json >/dev/null 2>&1
check "--url/--key options (unreachable) exit 3" test $? -eq 3

# ---- interactive mode refuses a non-terminal -------------------------------------
GEMGATE_URL=$GG_URL "$TUI_BIN" </dev/null >/dev/null 2>"$WORK/notty.err"
check "no terminal: usage error (2)" test $? -eq 2

report
