# pg.sh -- throwaway PostgreSQL 15 cluster for tests (bash library).
#
#   . tests/lib/pg.sh
#   pg_start            # initdb + start in a temp dir, create db, export URL
#   ...                 # GEMGATE_TEST_PG_URL=postgresql://gemgate:<pw>@127.0.0.1:<port>/gemgate_test
#   pg_stop             # stop and delete everything
#
# Needs the server binaries of PostgreSQL 15 (Debian 12: package
# `postgresql-15`, pulled in by `postgresql`) in $PG_BIN
# (default /usr/lib/postgresql/15/bin).  initdb refuses to run as root, so
# when we are root the cluster is created and run as the `postgres` system
# user (created by that package) through runuser.  The server listens on
# 127.0.0.1 only, on a free port, with its socket in the temp dir, fsync
# off, and scram-sha-256 password auth (so tests see a URL with a password
# and can check it never leaks into messages).
#
# Also exported: GEMGATE_TEST_PG_STOP / GEMGATE_TEST_PG_START, shell commands
# that stop and restart the same server (for "database down" tests).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_pg_as() {          # run a command as the cluster owner
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_pg_free_port() {   # print a free TCP port on 127.0.0.1
    if command -v node >/dev/null 2>&1; then
        node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
        return
    fi
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        # nothing answering on the port -> take it
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    return 1
}

pg_start() {
    local pw port opts
    if [ ! -x "$PG_BIN/initdb" ]; then
        echo "pg.sh: $PG_BIN/initdb not found (apt-get install postgresql-15)" >&2
        return 1
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "pg.sh: running as root but there is no 'postgres' user" >&2
        return 1
    fi
    PG_TMP=$(mktemp -d /tmp/gemgate-pg.XXXXXX) || return 1
    chmod 700 "$PG_TMP"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_TMP"
    pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$pw" > "$PG_TMP/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_TMP/pwfile"
    if ! _pg_as "$PG_BIN/initdb" -D "$PG_TMP/data" -U gemgate --pwfile="$PG_TMP/pwfile" \
            -A scram-sha-256 -E UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1; then
        echo "pg.sh: initdb failed:" >&2
        cat "$PG_TMP/initdb.log" >&2
        return 1
    fi
    rm -f "$PG_TMP/pwfile"
    port=$(_pg_free_port) || { echo "pg.sh: no free port" >&2; return 1; }
    opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_TMP"
    opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    PG_START_CMD="$(printf '%q ' _pg_as "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -o "$opts" -l "$PG_TMP/server.log" -w -t 30 start)"
    if ! eval "$PG_START_CMD" >/dev/null; then
        echo "pg.sh: server did not start:" >&2
        cat "$PG_TMP/server.log" >&2
        return 1
    fi
    PG_PORT=$port
    if ! PGPASSWORD=$pw "$PG_BIN/psql" -q -X -h 127.0.0.1 -p "$port" -U gemgate -d postgres \
            -c "CREATE DATABASE gemgate_test" >/dev/null; then
        echo "pg.sh: createdb failed" >&2
        return 1
    fi
    export GEMGATE_TEST_PG_URL="postgresql://gemgate:$pw@127.0.0.1:$port/gemgate_test"
    # helpers for "server down" tests; they run as a child of the test
    # program, so they must not depend on shell functions
    local as=""
    [ "$(id -u)" = 0 ] && as="runuser -u postgres --"
    export GEMGATE_TEST_PG_STOP="$as $(printf '%q ' "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -w -m fast stop) >/dev/null"
    export GEMGATE_TEST_PG_START="$as $(printf '%q ' "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -o "$opts" -l "$PG_TMP/server.log" -w -t 30 start) >/dev/null"
}

pg_stop() {
    [ -n "${PG_TMP:-}" ] || return 0
    if [ -f "$PG_TMP/data/postmaster.pid" ]; then
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -w -m immediate stop >/dev/null 2>&1
    fi
    rm -rf "$PG_TMP"
    unset PG_TMP PG_PORT GEMGATE_TEST_PG_URL GEMGATE_TEST_PG_STOP GEMGATE_TEST_PG_START
}
