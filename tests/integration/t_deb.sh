#!/usr/bin/env bash
# t_deb.sh -- build the gemgate .deb with CPack from the build dir and check
# it: file list, control fields (Depends from dpkg-shlibdeps, satisfiable on
# this Debian), conffile, maintainer scripts; then install it with dpkg into
# a private root (--root, scripts run chrootless), run the installed binary,
# reinstall over a locally edited conffile (kept), and purge it.
#
#   GEMGATE_BUILD_DIR=build bash tests/integration/t_deb.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
B=${GEMGATE_BUILD_DIR:-$repo/build}
B=$(cd "$B" 2>/dev/null && pwd) || { echo "t_deb: FAIL: no build dir ${GEMGATE_BUILD_DIR:-}"; exit 1; }
name=t_deb

# no silent skip: a missing tool fails (packaging/install-deps.sh --test installs them)
for tool in dpkg-deb cpack dpkg-shlibdeps; do
    command -v $tool >/dev/null || { echo "$name: FAIL: $tool missing (install cmake / dpkg-dev)"; exit 1; }
done

fails=0
ok()   { echo "  ok   $*"; }
bad()  { echo "  FAIL $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

sanitized=0
grep -q '^GEM_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null && sanitized=1
echo "$name: build dir $B$([ $sanitized = 1 ] && echo ' (ASan+UBSan build: packaged for the test only, not a release artifact)')"
[ -f "$B/CPackConfig.cmake" ] || cmake "$B" >/dev/null
[ -f "$B/CPackConfig.cmake" ] || { echo "$name: FAIL: no CPackConfig.cmake in $B"; exit 1; }

T=$(mktemp -d /tmp/gemgate-deb.XXXXXX)
trap '[ -z "${KEEP_STACK:-}" ] && rm -rf "$T"' EXIT

# ---- 1. build the package ---------------------------------------------------------
if ! (cd "$B" && cpack -G DEB --config "$B/CPackConfig.cmake" -B "$T/out") >"$T/cpack.log" 2>&1; then
    tail -30 "$T/cpack.log"
    for l in "$T"/out/_CPack_Packages/*/DEB/*.log; do [ -f "$l" ] && { echo "--- $l"; tail -20 "$l"; }; done
    echo "$name: FAIL: cpack -G DEB"; exit 1
fi
deb=$(ls "$T"/out/gemgate_*.deb 2>/dev/null | head -1)
check "cpack -G DEB produced $(basename "${deb:-none}")" test -f "$deb"
[ -f "$deb" ] || exit 1

# ---- 2. contents ---------------------------------------------------------------------
dpkg-deb -c "$deb" >"$T/contents.txt"
awk '{print $6}' "$T/contents.txt" | sed 's|^\./|/|' >"$T/paths.txt"
expect=(/usr/bin/gemgated /usr/bin/gemctl-tui /usr/share/man/man8/gemgated.8 /usr/share/man/man1/gemctl-tui.1
        /usr/share/gemgate/sql/sqlite/001_accounts.sql /usr/share/gemgate/sql/postgres/001_accounts.sql
        /etc/gemgate/gemgate.env /lib/systemd/system/gemgated.service /usr/share/doc/gemgate/README.md)
web_built=0
[ -f "$repo/web/dist/index.html" ] && web_built=1 && expect+=(/usr/share/gemgate/web/index.html /usr/share/gemgate/web/assets/)
[ $web_built = 0 ] && echo "  note: web/dist is not built, so the package has no web console (make web)"
missing=()
for p in "${expect[@]}"; do grep -qx -- "$p" "$T/paths.txt" || missing+=("$p"); done
check "package holds the expected paths (${#expect[@]})" test ${#missing[@]} -eq 0
[ ${#missing[@]} -gt 0 ] && printf '       missing: %s\n' "${missing[@]}"
check "no build-tree or symlinked paths leak into the package" \
    bash -c "! grep -E ' -> |/work/|/tmp/|/build|/usr/local/|/usr/etc/' '$T/contents.txt'"
check "everything under /etc, /lib/systemd, /usr" bash -c "! grep -vE '^/(etc|lib|usr)(/|\$)|^/\$' '$T/paths.txt'"
check "gemgate.env is root:root 0640 in the package" grep -qE '^-rw-r----- root/root .* \./etc/gemgate/gemgate.env$' "$T/contents.txt"
check "binaries are executable" bash -c "grep -qE '^-rwxr-xr-x .* \./usr/bin/gemgated$' '$T/contents.txt'"

# ---- 3. control fields -------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: gemgate, Version $(field Version)" \
    bash -c "[ '$(field Package)' = gemgate ] && [ '$(field Version)' = '$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")' ]"
check "Architecture matches dpkg ($(field Architecture))" test "$(field Architecture)" = "$(dpkg --print-architecture)"
check "Maintainer and Description set" bash -c "[ -n '$(field Maintainer)' ] && [ -n \"\$(dpkg-deb -f '$deb' Description)\" ]"
deps=$(field Depends)
echo "       Depends: $deps"
for lib in libc6 libmicrohttpd12 libcurl4 libcjson1 libsqlite3-0 libpq5 libssl3 libncursesw6 ca-certificates; do
    check "Depends has $lib" bash -c "grep -qE '(^|, )$lib( |,|\$)' <<<'$deps'"
done
check "Depends has no -dev package" bash -c "! grep -q -- '-dev' <<<'$deps'"
# every dependency is satisfied by what is installed here (a Debian 12 system)
unsat=()
IFS=',' read -ra items <<<"$deps"
for it in "${items[@]}"; do
    it=$(sed 's/^ *//; s/ *$//' <<<"$it")
    alt_ok=0
    IFS='|' read -ra alts <<<"$it"
    for a in "${alts[@]}"; do
        pkg=$(awk '{print $1}' <<<"$a"); rel=$(sed -n 's/.*(\([<>=]*\) *\([^)]*\)).*/\1 \2/p' <<<"$a")
        have=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null | sed -n 's/^install ok installed //p')
        [ -n "$have" ] || continue
        if [ -z "$rel" ]; then alt_ok=1; break; fi
        op=${rel%% *}; ver=${rel#* }
        case $op in '>=') op=ge ;; '<=') op=le ;; '>>') op=gt ;; '<<') op=lt ;; '=') op=eq ;; esac
        dpkg --compare-versions "$have" "$op" "$ver" && { alt_ok=1; break; }
    done
    [ $alt_ok = 1 ] || unsat+=("$it")
done
check "every Depends entry is satisfied on this system" test ${#unsat[@]} -eq 0
[ ${#unsat[@]} -gt 0 ] && printf '       unsatisfied: %s\n' "${unsat[@]}"

mkdir -p "$T/ctrl" && dpkg-deb -e "$deb" "$T/ctrl"
check "conffiles lists /etc/gemgate/gemgate.env" grep -qx /etc/gemgate/gemgate.env "$T/ctrl/conffiles"
for s in postinst prerm postrm; do
    check "$s is executable and valid sh" bash -c "[ -x '$T/ctrl/$s' ] && sh -n '$T/ctrl/$s'"
done

# ---- 4. install into a private dpkg root, run, reinstall, purge ----------------------
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
dpkgr=(dpkg --root="$R" --log=/dev/null --force-depends --force-script-chrootless --force-confold)
[ "$(id -u)" = 0 ] || dpkgr+=(--force-not-root)
if "${dpkgr[@]}" -i "$deb" >"$T/dpkg.log" 2>&1; then
    ok "dpkg --root -i (maintainer scripts run)"
    check "dpkg status: install ok installed" \
        bash -c "dpkg-query --admindir='$R/var/lib/dpkg' -W -f='\${Status}' gemgate | grep -qx 'install ok installed'"
    check "conffile registered" \
        bash -c "dpkg-query --admindir='$R/var/lib/dpkg' -W -f='\${Conffiles}' gemgate | grep -q '/etc/gemgate/gemgate.env [0-9a-f]\{32\}'"
    check "installed gemgated --version" bash -c "'$R/usr/bin/gemgated' --version | grep -qx 'gemgated [0-9.]*'"
    check "installed gemctl-tui runs (--help)" bash -c "'$R/usr/bin/gemctl-tui' --help >/dev/null 2>&1"
    check "installed web root next to the binary" test $web_built = 0 -o -f "$R/usr/bin/../share/gemgate/web/index.html"
    echo 'API_KEY=sk-local-edit' >>"$R/etc/gemgate/gemgate.env"
    if "${dpkgr[@]}" -i "$deb" >>"$T/dpkg.log" 2>&1; then
        check "reinstall keeps a locally edited conffile" grep -qx 'API_KEY=sk-local-edit' "$R/etc/gemgate/gemgate.env"
    else
        bad "dpkg --root reinstall"; tail -5 "$T/dpkg.log"
    fi
    if "${dpkgr[@]}" --purge gemgate >>"$T/dpkg.log" 2>&1; then
        check "purge removes binaries and the conffile" \
            bash -c "[ ! -e '$R/usr/bin/gemgated' ] && [ ! -e '$R/etc/gemgate/gemgate.env' ]"
    else
        bad "dpkg --root --purge"; tail -5 "$T/dpkg.log"
    fi
else
    bad "dpkg --root -i"; tail -20 "$T/dpkg.log"
fi

if [ $fails -gt 0 ] || [ -n "${VERBOSE:-}" ]; then
    echo "$name: package listing (dpkg-deb -c):"
    sed 's/^/    /' "$T/contents.txt"
fi
if [ $fails -gt 0 ]; then
    echo "$name: $fails check(s) FAILED (files kept in $T)"; KEEP_STACK=1; exit 1
fi
echo "$name: all checks passed"
