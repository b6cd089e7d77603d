# tests/tui/lib.sh -- helpers shared by tests/tui/run.sh and cli.sh.
# Sourced, not run.  Expects `repo` to be set by the caller.

GEMGATE_BUILD_DIR=${GEMGATE_BUILD_DIR:-$repo/build}
case $GEMGATE_BUILD_DIR in /*) ;; *) GEMGATE_BUILD_DIR=$repo/$GEMGATE_BUILD_DIR ;; esac
export GEMGATE_BUILD_DIR
TUI_BIN=${TUI_BIN:-$GEMGATE_BUILD_DIR/tui/gemctl-tui}
# the lead's stack helpers; GEMGATE_STACK_SH only for trying another stack
source "${GEMGATE_STACK_SH:-$repo/tests/lib/stack.sh}"

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "ok   - $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then pass "$d"; else fail "$d"; fi
}
report() {
  echo "$npass passed, $nfail failed"
  [[ $nfail -eq 0 ]]
}

# JSON field of stdin: jget '.accounts.length'
jget() {
  node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      let j; try { j = JSON.parse(s); } catch (e) { console.log("<not json>"); process.exit(3); }
      const v = eval("j" + process.argv[1]);
      console.log(typeof v === "object" ? JSON.stringify(v) : String(v));
    });' "$1"
}

admin() { # admin METHOD PATH [BODY]
  local m=$1 p=$2
  shift 2
  curl -sS -X "$m" -H "Authorization: Bearer $GG_ADMIN_KEY" -H 'Content-Type: application/json' \
    ${1:+--data-binary "$1"} "$GG_URL$p"
}

# create_account NAME CSESIDX [is_active] -> prints the id; also registers
# the account with the fake upstream so that requests through it succeed
create_account() {
  local name=$1 cs=$2 act=${3:-true}
  local body="{\"name\":\"$name\",\"secure_c_ses\":\"CSE.tok$cs\",\"host_c_oses\":\"COS.tok$cs\",\"csesidx\":\"$cs\",\"config_id\":\"cfg-$cs\",\"is_active\":$act}"
  curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data-binary "[{\"csesidx\":\"$cs\",\"secure_c_ses\":\"CSE.tok$cs\",\"host_c_oses\":\"COS.tok$cs\",\"config_id\":\"cfg-$cs\"}]" \
    "$FAKE_URL/__fake/accounts" || true
  admin POST /api/admin/accounts "$body" | jget .id
}

# wait_until TIMEOUT_S COMMAND... : poll every 0.1 s
wait_until() {
  local t=$1; shift
  local end=$((SECONDS + t))
  while ((SECONDS <= end)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# dcol TEXT WORD: display column (0-based) where WORD first starts in TEXT,
# counting East Asian wide characters as two columns
dcol() {
  node -e '
    const [s, w] = process.argv.slice(1);
    const i = s.indexOf(w);
    if (i < 0) { console.log(-1); process.exit(0); }
    const wide = c => (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || c >= 0x20000;
    let n = 0;
    for (const ch of s.slice(0, i)) n += wide(ch.codePointAt(0)) ? 2 : 1;
    console.log(n);' "$1" "$2"
}

# max_dwidth: the widest line of stdin in display columns
max_dwidth() {
  node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const wide = c => (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
        (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) ||
        (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || c >= 0x20000;
      let m = 0;
      for (const l of s.split("\n")) { let n = 0; for (const ch of l) n += wide(ch.codePointAt(0)) ? 2 : 1; if (n > m) m = n; }
      console.log(m);
    });'
}
