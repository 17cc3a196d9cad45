#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests: a fresh cluster in a temporary directory, trust
# authentication, listening on a free loopback port only. Prints the lines to export, so that
#
#     eval "$(scripts/start-test-postgres.sh)"
#
# sets PARLEY_TEST_POSTGRES_URL (and PARLEY_TEST_POSTGRES_DIR, which scripts/stop-test-postgres.sh removes).
# Quiet on success; on failure it says why on stderr and exits non-zero. Installs the `postgresql` package with
# apt-get when no server binaries are present (Debian/Ubuntu, as root).
set -euo pipefail

fail() { echo "start-test-postgres: $*" >&2; exit 1; }

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$found" && -x "$found/initdb" ]]; then echo "$found"; return 0; fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

if ! BIN=$(find_bin); then
    [[ $(id -u) -eq 0 ]] || fail "no PostgreSQL server binaries found and not root: install the postgresql package"
    command -v apt-get >/dev/null 2>&1 || fail "no PostgreSQL server binaries found and no apt-get to install them"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
    apt-get install -y -qq postgresql >/dev/null 2>&1 || fail "apt-get install postgresql failed"
    BIN=$(find_bin) || fail "postgresql installed but initdb is still missing"
fi

# PostgreSQL refuses to run as root: as root, run it as the postgres system user.
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-test-pg.XXXXXX")
chmod 755 "$DIR"
[[ $(id -u) -eq 0 ]] && chown postgres: "$DIR"
cleanup_on_failure() { as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap 'cleanup_on_failure' ERR

locale_args=(--locale=C.UTF-8)
if ! as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 "${locale_args[@]}" --no-sync \
        >"$DIR/initdb.log" 2>&1; then
    rm -rf "$DIR/data"
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; trap - ERR; cleanup_on_failure; fail "initdb failed"; }
fi

# A free port: one nothing answers on; pg_ctl fails if another process grabs it first, and then we try again.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for _ in 1 2 3 4 5 6 7 8; do
    PORT=$(( 20000 + RANDOM % 40000 ))
    port_is_free "$PORT" || continue
    if as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -s start \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories='$DIR' -c max_connections=200 -c fsync=off" \
            >/dev/null 2>&1; then
        started=yes
        break
    fi
done
if [[ -z "$started" ]]; then
    tail -n 20 "$DIR/server.log" >&2 2>/dev/null || true
    trap - ERR
    cleanup_on_failure
    fail "the server did not start"
fi
trap - ERR

# pg_ctl -w returns once the server accepts connections; make sure it does over TCP too.
for _ in $(seq 1 50); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; then break; fi
    sleep 0.1
done
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres || fail "the server at 127.0.0.1:$PORT is not ready (log: $DIR/server.log)"

echo "export PARLEY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
echo "export PARLEY_TEST_POSTGRES_DIR=$DIR"
