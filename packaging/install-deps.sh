#!/usr/bin/env bash
# install-deps.sh -- install exactly the Debian packages gemgate needs to
# build, run and test.  Idempotent: installs only what is missing, and runs
# apt-get update only when something is missing.
#
#   packaging/install-deps.sh            build + run
#   packaging/install-deps.sh --test     also what the test suite needs
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libmicrohttpd-dev libcurl4-openssl-dev libcjson-dev
            libsqlite3-dev libpq-dev libssl-dev libncurses-dev zlib1g-dev ca-certificates)
TEST_PKGS=(clang libclang-rt-14-dev postgresql-15 tmux chromium curl procps util-linux sqlite3 bc
           dpkg-dev man-db systemd)   # dpkg-dev: dpkg-deb + dpkg-shlibdeps (t_deb.sh); systemd: systemd-analyze (t_install.sh)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_PKGS[@]}")
command -v node >/dev/null 2>&1 || want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
