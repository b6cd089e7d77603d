#!/usr/bin/env bash
# t_release.sh -- `cmake -DCMAKE_BUILD_TYPE=Release` (what packagers run)
# builds from a clean copy of the tree (tracked + untracked-not-ignored files,
# no build directories): warnings are not fatal there by default, and
# GEM_WERROR stays on for developer builds (RelWithDebInfo, no build type).
# RELEASE_WERROR=1 also builds Release with -DGEM_WERROR=ON (every warning
# fixed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
name=t_release
fails=0
ok()  { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; fails=$((fails + 1)); }
T=$(mktemp -d /tmp/gemgate-release.XXXXXX)
trap '[ -z "${KEEP_STACK:-}" ] && rm -rf "$T"' EXIT

mkdir -p "$T/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$T/src"
[ -f "$T/src/CMakeLists.txt" ] || { echo "$name: FAIL: cannot copy the tree"; exit 1; }

werror_of() { grep '^GEM_WERROR:' "$1/CMakeCache.txt" | cut -d= -f2; }
cmake -S "$T/src" -B "$T/dev" >/dev/null 2>&1 && [ "$(werror_of "$T/dev")" = ON ] &&
    ok "GEM_WERROR defaults ON without a build type" || bad "GEM_WERROR not ON by default for developer builds"
cmake -S "$T/src" -B "$T/rwdi" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null 2>&1 && [ "$(werror_of "$T/rwdi")" = ON ] &&
    ok "GEM_WERROR defaults ON for RelWithDebInfo" || bad "GEM_WERROR not ON for RelWithDebInfo"
cmake -S "$T/src" -B "$T/dev2" -DCMAKE_BUILD_TYPE=Release -DGEM_DEV=ON >/dev/null 2>&1 && [ "$(werror_of "$T/dev2")" = ON ] &&
    ok "GEM_DEV=ON keeps GEM_WERROR for Release" || bad "GEM_DEV=ON did not turn GEM_WERROR on"

build_release() {   # dir extra-args...
    local d=$1; shift
    cmake -S "$T/src" -B "$d" -DCMAKE_BUILD_TYPE=Release -DGEM_BUILD_WEB=OFF "$@" >"$d.cmake.log" 2>&1 &&
        nice cmake --build "$d" -j"${JOBS:-2}" >"$d.build.log" 2>&1
}
if build_release "$T/rel"; then
    ok "Release build from a clean tree (GEM_WERROR=$(werror_of "$T/rel"))"
    [ "$(werror_of "$T/rel")" = OFF ] && ok "Release: warnings not fatal by default" || bad "Release defaults to -Werror"
    "$T/rel/daemon/gemgated" --version | grep -q '^gemgated [0-9]' && ok "Release gemgated --version" || bad "Release gemgated does not run"
    n=$(grep -c 'warning:' "$T/rel.build.log")
    echo "  info Release build warnings: $n"
    grep 'warning:' "$T/rel.build.log" | sort -u | head -5 | sed 's/^/       /'
else
    grep -E 'error' "$T/rel.build.log" | head -20
    bad "Release build from a clean tree"
fi
if [ "${RELEASE_WERROR:-0}" = 1 ]; then
    build_release "$T/relw" -DGEM_WERROR=ON && ok "Release build with -DGEM_WERROR=ON" ||
        { grep -E 'error' "$T/relw.build.log" | head -20; bad "Release build with -DGEM_WERROR=ON"; }
fi
[ "$fails" = 0 ] && echo "$name: ok" || echo "$name: $fails check(s) FAILED"
[ "$fails" = 0 ]
