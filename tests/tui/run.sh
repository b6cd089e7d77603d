#!/usr/bin/env bash
# tests/tui/run.sh -- headless tests of the REAL gemctl-tui, driven inside
# tmux (send-keys / capture-pane, polling waits) against the REAL gemgated
# and the fake upstream started by tests/lib/stack.sh.
#
#   tests/tui/run.sh                          binaries from build/
#   GEMGATE_BUILD_DIR=build-asan tests/tui/run.sh
#
# Prints "N passed, N failed" last; exits non-zero on any failure.  With an
# ASan build, sanitizer reports of gemctl-tui go to files that are checked
# at the end (they would otherwise be drawn over the screen).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$repo/tests/tui/lib.sh"

for tool in tmux curl node; do
  command -v $tool >/dev/null || { echo "run.sh: $tool is required"; echo "0 passed, 1 failed"; exit 1; }
done
[[ -x $TUI_BIN ]] || { echo "run.sh: $TUI_BIN not built"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/gemtui-test.XXXXXX)
SOCK=gemtui-$$
export LANG=C.UTF-8 LC_ALL=C.UTF-8
T() { tmux -u -L "$SOCK" -f /dev/null "$@"; }

cleanup() {
  T kill-server 2>/dev/null
  stack_stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# tui_start SESSION KEY [extra args...]: run gemctl-tui in a 120x40 window;
# when it exits the pane shows "TUI-EXITED rc=N" (and stays open)
tui_start() {
  local s=$1 key=$2
  shift 2
  cat >"$WORK/$s.sh" <<EOF
cd "$WORK"
env -u GEMGATE_URL -u GEMGATE_ADMIN_KEY -u NO_COLOR HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" \
  TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 \
  ASAN_OPTIONS="log_path=$WORK/asan.$s:detect_leaks=1:abort_on_error=0" \
  UBSAN_OPTIONS="log_path=$WORK/ubsan.$s:print_stacktrace=1" \
  GEMGATE_URL="$GG_URL" GEMGATE_ADMIN_KEY="$key" "$TUI_BIN" $*
echo "TUI-EXITED rc=\$?"
exec sleep 600
EOF
  T new-session -d -s "$s" -x 120 -y 40 "bash $WORK/$s.sh"
}
screen() { T capture-pane -p -t "$1"; }
keys() { local s=$1; shift; T send-keys -t "$s" "$@"; }
on_screen() { screen "$1" | grep -qE -- "$2"; }
# wait_screen SESSION REGEX [TIMEOUT]
wait_screen() {
  if wait_until "${3:-10}" on_screen "$1" "$2"; then return 0; fi
  echo "---- screen of $1 (waited for /$2/):"
  screen "$1" | sed 's/^/    |/'
  return 1
}
line_of() { screen "$1" | sed -n "$2p"; }

acct_status() { admin GET "/api/admin/accounts/$1" | jget .status; }
acct_name() { admin GET "/api/admin/accounts/$1" | jget .name; }

mkdir -p "$WORK/home/.config"
if ! stack_start; then
  echo "run.sh: stack_start failed"
  echo "0 passed, 1 failed"
  exit 1
fi

id_alpha=$(create_account alpha 1001)
id_beta=$(create_account beta 1002 false)
id_gamma=$(create_account gamma 1003)
id_jp=$(create_account "日本語の名前" 1004)

# ---- 1. the list shows the accounts and their states ----------------------
tui_start main "$GG_ADMIN_KEY"
if wait_screen main 'gamma' 10; then
  pass "accounts listed"
  s=$(screen main)
  check "alpha shown active" grep -qE "^ +$id_alpha alpha +active" <<<"$s"
  check "beta shown disabled" grep -qE "^ +$id_beta beta +disabled" <<<"$s"
  l_a=$(grep -E " alpha " <<<"$s" | head -1); l_j=$(grep "日本語の名前" <<<"$s" | head -1)
  check "UTF-8 name: status column lines up ($(dcol "$l_a" active) vs $(dcol "$l_j" active))" \
    test "$(dcol "$l_a" active)" = "$(dcol "$l_j" active)"
  ov=$(admin GET /api/admin/overview)
  want="pool $(jget .pool.total <<<"$ov") +$(jget .pool.active <<<"$ov") active +$(jget .pool.cooldown <<<"$ov") cooldown +$(jget .pool.expired <<<"$ov") expired +$(jget .pool.disabled <<<"$ov") disabled"
  check "header shows the pool counts ($want)" grep -qE "$want" <<<"$s"
  check "column titles shown" grep -qE "ID.*NAME +STATUS +UNTIL +LAST USED +REQ +ERR +FLT +SIGN-IN +RFR +COOLING" <<<"$s"
  check "header shows the model availability" grep -qE "models ([0-9]+)/\1( |$)" <<<"$s"
  check "hints bar at the bottom" bash -c '[[ $1 == F1Help*F10Quit* ]]' _ "$(line_of main 40)"
else
  fail "accounts listed"
fi

# ---- 2. detail pane and help --------------------------------------------
keys main '/' ; keys main -l 'alpha'; keys main Enter
check "filter narrows the list" wait_screen main 'filter: alpha' 5
check "detail pane shows the selected account" wait_screen main "#$id_alpha alpha +\[db\] +csesidx 1001" 5
check "detail pane: never signed in, no refresh" on_screen main "last sign-in never +cookie refreshes 0"
check "detail pane: no kind cooldown" on_screen main "kind cooldowns: none"

# ---- 2b. sign-in, cookie refresh and per-kind cooldowns (issue 18) -------
# getoxsrf answers 302 to refreshcookies, which rotates alpha's cookies;
# dropping the issued keys makes the test sign in again
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data-binary '{"csesidx":"1001","endpoint":"getoxsrf","mode":"redirect","rotate":true,"count":1}' "$FAKE_URL/__fake/scenario"
curl -sS -o /dev/null -X POST "$FAKE_URL/__fake/accounts/1001/revoke_keys"
keys main F8
check "test after a cookie rotation succeeds" wait_screen main "test #$id_alpha alpha: test ok" 10
check "detail pane: last sign-in and one cookie refresh" \
  wait_screen main "last sign-in (just now|[0-9]+s ago) \([0-9]{2}:[0-9]{2}:[0-9]{2}\) +cookie refreshes 1" 10
check "table: sign-in and refresh count columns" wait_screen main "^ +$id_alpha alpha +active .* (just now|[0-9]+s ago) +1 +- *$" 10
# an image quota 429: the account that takes the image request gets an image cooldown
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data-binary '{"endpoint":"stream","mode":"quota","count":1}' "$FAKE_URL/__fake/scenario"
curl -sS -o /dev/null -H "Authorization: Bearer $GG_API_KEY" -H 'Content-Type: application/json' \
  -d '{"model":"gemini-2.5-flash-image","messages":[{"role":"user","content":"draw [[fake:image]]"}]}' "$GG_URL/v1/chat/completions"
id_cool=$(admin GET /api/admin/accounts | jget '.accounts.filter(a => a.cooldowns && a.cooldowns.image && a.cooldowns.image.until).map(a => a.id).join(",")')
if [[ $id_cool =~ ^[0-9]+$ ]]; then
  pass "one account has an image cooldown (#$id_cool)"
  keys main '/'; keys main C-u; keys main -l "#$id_cool"; keys main Enter
  check "table: COOLING shows img HH:MM" wait_screen main "^ +$id_cool [^ ].* img [0-9]{2}:[0-9]{2} *$" 10
  check "detail pane: image cooldown with its end and reason" \
    wait_screen main "kind cooldowns: image until [0-9]{2}:[0-9]{2}:[0-9]{2} \(429" 5
  keys main F5
  check "reset clears the kind cooldown" wait_screen main "kind cooldowns: none" 10
else
  fail "one account has an image cooldown (got '$id_cool')"
fi
keys main '/'; keys main C-u; keys main -l 'alpha'; keys main Enter
wait_screen main "#$id_alpha alpha" 5 >/dev/null

keys main '?'
check "help screen generated from the key table" wait_screen main 'F2 e +enable the selected account' 5
keys main Escape
check "back from help" wait_screen main 'F2Enable' 5

# ---- 3. disabling from the TUI changes the daemon's state ------------------
keys main '/'; keys main C-u; keys main -l 'gamma'; keys main Enter
wait_screen main "#$id_gamma gamma" 5 >/dev/null
keys main F3
if wait_screen main "disable #$id_gamma gamma: done \(now disabled\)" 10; then
  pass "disable reported in the status line"
else
  fail "disable reported in the status line"
fi
check "daemon says gamma is disabled" wait_until 5 bash -c "[[ \$(curl -s -H 'Authorization: Bearer $GG_ADMIN_KEY' $GG_URL/api/admin/accounts/$id_gamma | node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>console.log(JSON.parse(s).status))') == disabled ]]"
check "table shows gamma disabled" wait_screen main "^ +$id_gamma gamma +disabled" 5
keys main e
check "enable from the TUI" wait_until 5 bash -c "[[ \$(curl -s -H 'Authorization: Bearer $GG_ADMIN_KEY' $GG_URL/api/admin/accounts/$id_gamma | node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>console.log(JSON.parse(s).status))') == active ]]"

# ---- 4. edit the name through a prompt ----------------------------------
keys main n
if wait_screen main "name of #$id_gamma:" 5; then
  keys main C-u; keys main -l 'gamma-renamed'; keys main Enter
  check "rename applied in the daemon" wait_until 5 bash -c "[[ \$(curl -s -H 'Authorization: Bearer $GG_ADMIN_KEY' $GG_URL/api/admin/accounts/$id_gamma | node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>console.log(JSON.parse(s).name))') == gamma-renamed ]]"
else
  fail "rename prompt opened"
fi
keys main '/'; keys main Escape   # Esc in the filter prompt clears the filter
check "filter cleared" wait_screen main "^ +$id_beta beta" 5

# ---- 5. import a file, see the report ----------------------------------
cat >"$WORK/import.txt" <<'EOF'
# name|secure_c_ses|host_c_oses|csesidx|config_id
imp-one|CSE.imp1|COS.imp1|2001|cfg-2001
imp-two|CSE.imp2||2002|cfg-2002
broken|CSE.x|COS.x|not-digits|cfg-x
EOF
n_before=$(admin GET /api/admin/accounts | jget .accounts.length)
keys main 3
wait_screen main "import accounts: type or paste" 5 >/dev/null
keys main F2
if wait_screen main 'import file:' 5; then
  keys main -l "$WORK/import.txt"; keys main Enter
  check "import report shown" wait_screen main 'import report: 2 created, 0 updated, 1 rejected' 10
  check "report lists the created entries" wait_screen main 'line 2 +created +#[0-9]+ +imp-one' 2
  check "report lists the rejected entry" wait_screen main 'line 4 +rejected' 2
  check "daemon has the 2 imported accounts" test "$(admin GET /api/admin/accounts | jget .accounts.length)" = $((n_before + 2))
else
  fail "import file prompt opened"
fi
# pasted text in the multi-line area
keys main Escape                       # close the report (back to the editor)
keys main -l 'imp-three|CSE.imp3|COS.imp3|2003|cfg-2003'; keys main Enter
keys main -l 'imp-four|CSE.imp4|COS.imp4|2004|cfg-2004'
keys main F5
check "pasted text imported" wait_screen main 'import report: 2 created, 0 updated, 0 rejected' 10
keys main Escape; keys main Escape    # report -> editor -> accounts view
check "back to the accounts view" wait_screen main 'F2Enable' 5

# ---- 6. the live log shows a chat request made now ----------------------
keys main 2
check "log view open and stream connected" wait_screen main 'connected to the live log stream' 10
chat_code=$(curl -s -o "$WORK/chat.out" -w '%{http_code}' -H "Authorization: Bearer $GG_API_KEY" \
  -H 'Content-Type: application/json' \
  -d '{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}' \
  "$GG_URL/v1/chat/completions")
check "chat request answered 200 (got $chat_code)" test "$chat_code" = 200
check "chat request logged in the live log with status 200 and its dialect" \
  wait_screen main "[0-9:]{8} +200 openai +gemini-2.5-flash" 10
check "log column titles name the dialect" on_screen main "TIME +ST DIALECT +MODEL +ACCOUNT +LATENCY"
msg_code=$(curl -s -o "$WORK/msg.out" -w '%{http_code}' -H "x-api-key: $GG_API_KEY" -H 'anthropic-version: 2023-06-01' \
  -H 'Content-Type: application/json' \
  -d '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi claude"}]}' \
  "$GG_URL/v1/messages")
check "Anthropic /v1/messages answered 200 (got $msg_code)" test "$msg_code" = 200
check "Anthropic request logged with dialect anthropic" wait_screen main "[0-9:]{8} +200 anthropic gemini-" 10
keys main '/'; keys main -l 'anthropic'; keys main Enter
check "log filter by dialect keeps the Anthropic line" wait_screen main "filter: anthropic" 5
check "... and hides the OpenAI ones" bash -c '! tmux -u -L '"$SOCK"' capture-pane -p -t main | grep -qE "[0-9:]{8} +200 openai "'
keys main '/'; keys main Escape
check "header counts requests per dialect" wait_screen main "1h .*anthropic 1" 10
keys main ' '
check "pause shown" wait_screen main 'PAUSED' 5
keys main ' '

# ---- 7. resize 120x40 -> 80x24 keeps a usable layout --------------------
keys main 1
wait_screen main 'F2Enable' 5 >/dev/null
T resize-window -t main -x 80 -y 24
wait_until 5 bash -c "[[ \$(tmux -u -L $SOCK capture-pane -p -t main | wc -l) -eq 24 ]]"
resize_ok() {
  local s; s=$(screen main)
  [[ $(wc -l <<<"$s") -eq 24 ]] || return 1
  [[ $(sed -n 1p <<<"$s") == gemgate* ]] || return 1
  [[ $(sed -n 2p <<<"$s") == pool* ]] || return 1
  [[ $(sed -n 3p <<<"$s") == " 1 Accounts"* ]] || return 1
  sed -n 4p <<<"$s" | grep -qE 'ID.*NAME +STATUS +UNTIL +LAST USED +REQ +ERR +FLT' || return 1
  [[ $(sed -n 24p <<<"$s") == "F1Help F2Enable F3Disable F4Filter F5Reset F6Sort F7Edit F8Test F9Delete F10Quit" ]] || return 1
  # every account row starts with its id: nothing wrapped onto the next line
  sed -n 5,10p <<<"$s" | grep -vqE '^ +[0-9]+ [^ ]' && return 1
  return 0
}
if wait_until 5 resize_ok; then pass "80x24 layout: header, column titles and hints bar intact"; else
  fail "80x24 layout: header, column titles and hints bar intact"; screen main | sed 's/^/    |/'; fi
w80=$(screen main | max_dwidth)
check "80x24: no line wider than 80 columns (widest $w80)" test "$w80" -le 80
T resize-window -t main -x 120 -y 40
check "back to 120x40" wait_screen main 'F1Help F2Enable.*F10Quit' 5

# ---- 8. a wrong key gives a clear message -------------------------------
tui_start badkey "wrong-key-$$"
check "wrong key: clear message" wait_screen badkey 'admin key rejected \(401\)' 10
check "wrong key: retry countdown" wait_screen badkey 'retrying in [0-9]+s' 3
keys badkey q
check "wrong key: quits cleanly" wait_screen badkey 'TUI-EXITED rc=0' 5

# ---- 9. delete with confirmation -----------------------------------------
keys main '/'; keys main -l 'imp-four'; keys main Enter
wait_screen main 'imp-four' 5 >/dev/null
keys main F9
if wait_screen main 'delete account #[0-9]+ imp-four\? \(y/N\)' 5; then
  keys main n
  check "delete cancelled with n" wait_screen main 'delete cancelled' 5
  keys main F9; wait_screen main '\(y/N\)' 5 >/dev/null; keys main y
  check "delete confirmed with y" wait_screen main 'imp-four: deleted' 5
else
  fail "delete asks for confirmation"
fi
keys main '/'; keys main Escape

# ---- 9b. server-supplied text cannot drive the terminal (finding 10) -----
# A name holding OSC 2 (set the window title), BEL, ED (clear screen), a C1
# CSI (U+009B) and DEL: each must be drawn as a harmless '?'.
evil='{"name":"evil\u001b]2;PWNED\u0007\u001b[2J\u009b7m\u007fX","secure_c_ses":"CSE.tok1009","host_c_oses":"COS.tok1009","csesidx":"1009","config_id":"cfg-1009"}'
id_evil=$(admin POST /api/admin/accounts "$evil" | jget .id)
if [[ $id_evil =~ ^[0-9]+$ ]]; then
  pass "account with escape sequences in its name created (#$id_evil)"
  keys main '/'; keys main -l 'PWNED'; keys main Enter
  check "escape sequences drawn as '?' in the table" \
    wait_screen main "^ +$id_evil evil\?\]2;PWNED\?\?\[2J\?7m\?X +active" 10
  check "... and in the detail pane" on_screen main "#$id_evil evil\?\]2;PWNED\?\?\[2J\?7m\?X +\[db\]"
  check "the pane title was not set by the name (OSC 2)" \
    bash -c '! tmux -u -L '"$SOCK"' display -p -t main "#{pane_title}" | grep -q PWNED'
  check "the screen was not cleared by the name (ED): header intact" \
    bash -c '[[ $1 == gemgate* && $2 == pool* ]]' _ "$(line_of main 1)" "$(line_of main 2)"
  keys main '/'; keys main Escape
else
  fail "account with escape sequences in its name created (got '$id_evil')"
fi

# ---- 9c. client keys: create (secret shown once), use, limits, disable, delete
kchat() { # kchat SECRET -> "STATUS CODE" of a chat request made with the key
  local out
  out=$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    --data '{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi from the tui test"}]}' \
    "$GG_URL/v1/chat/completions")
  echo "$(tail -1 <<<"$out") $(head -n -1 <<<"$out" | jget '.error?.code ?? "ok"' 2>/dev/null)"
}
keys main 4
check "keys view: empty list says how to create one" wait_screen main 'no client keys yet: press n' 10
check "keys view: the hints bar shows its actions" wait_screen main 'F2Enable F3Disable F4New F7Limits F8Usage F9Delete F10Quit' 5
keys main n
check "new key: asks for the name" wait_screen main 'name of the new key:' 5
keys main -l 'tui-key'
keys main Enter
check "new key: then the limits, prefilled" wait_screen main 'limits \(0 = unlimited\): rpm=0 tpm=0 day=0 month=0 concurrent=0 models= group=' 5
keys main C-u
keys main -l 'day=1000000 concurrent=2 models=gemini-*'
keys main Enter
check "new key: the secret dialog" wait_screen main 'secret: gk-[0-9a-f]{40}' 10
check "new key: the dialog says it is shown once" on_screen main 'you will not see it again'
secret=$(screen main | grep -oE 'gk-[0-9a-f]{40}' | head -1)
kjson=$(admin GET /api/admin/keys)
kid=$(jget '.keys.find(k => k.name === "tui-key").id' <<<"$kjson")
check "daemon: the key exists with the limits typed" \
  test "$(jget '.keys.find(k => k.name === "tui-key").limits' <<<"$kjson")" = '{"models":"gemini-*","rpm":0,"tpm":0,"tokens_day":1000000,"tokens_month":0,"max_concurrent":2,"group":""}'
check "daemon: its prefix is the secret's start" test "$(jget ".keys.find(k => k.id == $kid).prefix" <<<"$kjson")" = "${secret:0:10}"
check "daemon: the list never holds the secret" bash -c '! grep -q "$1" <<<"$2"' _ "${secret:10}" "$kjson"
check "the secret works against the daemon (chat 200)" test "$(kchat "$secret")" = "200 ok"
keys main Enter
check "Enter closes the dialog" wait_screen main 'secret is not shown again' 5
check "the secret is gone from the screen" bash -c '! tmux -u -L "$1" capture-pane -p -t main | grep -q "${2:10}"' _ "$SOCK" "$secret"
check "keys view: the row with limits and today's request" \
  wait_screen main "^ +$kid tui-key +${secret:0:10} +enabled +never +day 1\.0M, conc 2, models gemini-\* +1 " 10
keys main u
check "usage pane: per day and model" wait_screen main "usage of #$kid tui-key, last 7 days" 5
check "usage pane: one request of gemini-2.5-flash today" wait_screen main "^ $(date -u +%F) gemini-2\.5-flash +1 +0 +[1-9][0-9]* +[1-9][0-9]*" 10
keys main E
check "edit limits: prompt prefilled with the current limits" \
  wait_screen main "limits of #$kid: rpm=0 tpm=0 day=1000000 month=0 concurrent=2 models=gemini-\* group=" 5
keys main C-u
keys main -l 'rpm=7 tpm=bad'
keys main Enter
check "edit limits: a bad number is refused before sending" wait_screen main "tpm: 'bad' is not a whole number" 5
check "daemon: limits unchanged after the refused edit" test "$(admin GET "/api/admin/keys/$kid" | jget .limits.rpm)" = 0
keys main E
keys main C-u
keys main -l 'rpm=7 models='
keys main Enter
check "edit limits: the status line confirms" wait_screen main "limits of key #$kid: done \(now enabled\)" 5
check "daemon: rpm 7, models cleared, day kept" \
  test "$(admin GET "/api/admin/keys/$kid" | jget .limits)" = '{"models":"","rpm":7,"tpm":0,"tokens_day":1000000,"tokens_month":0,"max_concurrent":2,"group":""}'
keys main d
check "disable: the row shows disabled" wait_screen main "^ +$kid tui-key +gk-[0-9a-f]+ +disabled " 5
check "a disabled key gets 401 api_key_disabled" test "$(kchat "$secret")" = "401 api_key_disabled"
keys main e
check "enable: the row shows enabled again" wait_screen main "^ +$kid tui-key +gk-[0-9a-f]+ +enabled " 5
check "the enabled key works again" test "$(kchat "$secret")" = "200 ok"
keys main D
check "delete asks first" wait_screen main "delete key #$kid tui-key\? clients using it get 401" 5
keys main n
check "daemon: not deleted on n" test "$(admin GET /api/admin/keys | jget .keys.length)" = 1
keys main D
keys main y
check "delete: the list is empty again" wait_screen main 'no client keys yet' 10
check "a deleted key gets 401" test "$(kchat "$secret" | cut -d' ' -f1)" = 401
keys main 1
check "back to the accounts view" wait_screen main 'ID.*NAME +STATUS' 5

# ---- 10. a stopped daemon gives a clear message, no crash ----------------
url=$GG_URL
stack_stop >/dev/null 2>&1
check "daemon down: clear message" wait_screen main "cannot reach ${url//./\\.} — retrying in [0-9]+s" 15
check "daemon down: table still drawn" on_screen main 'ID.*NAME +STATUS'
keys main q
check "q quits and restores the terminal" wait_screen main 'TUI-EXITED rc=0' 5
check "terminal left in normal mode (no alternate screen)" bash -c '! tmux -u -L '"$SOCK"' display -p -t main "#{alternate_on}" | grep -q 1'

# ---- 11. locked out (fresh daemon: the lock-out is per client IP) -------
if stack_start >/dev/null 2>&1; then
  for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -H "Authorization: Bearer wrong-$i" "$GG_URL/api/admin/overview"
  done
  tui_start locked "$GG_ADMIN_KEY"
  check "locked out: clear message with the wait" wait_screen locked "locked out, retry in [0-9]+s" 10
  # SIGTERM: the handler ends the loop and the terminal is restored
  tui_pid=$(pgrep -P "$(T display -p -t locked "#{pane_pid}")" | head -1)
  [[ -n $tui_pid ]] && kill -TERM "$tui_pid"
  check "SIGTERM: exits with 143 and restores the terminal" wait_screen locked "TUI-EXITED rc=143" 5
  stack_stop >/dev/null 2>&1
else
  fail "second stack_start"
fi

# ---- sanitizer reports ----------------------------------------------------
reports=$(ls "$WORK"/asan.* "$WORK"/ubsan.* 2>/dev/null)
if [[ -n $reports ]]; then
  fail "sanitizer reports from gemctl-tui"
  for f in $reports; do sed 's/^/    |/' "$f" | head -40; done
else
  pass "no sanitizer reports"
fi

report
