#!/usr/bin/env bash
# Stops the server scripts/start-test-postgres.sh started and deletes its directory:
#
#     scripts/stop-test-postgres.sh            # uses $PARLEY_TEST_POSTGRES_DIR
#     scripts/stop-test-postgres.sh /tmp/parley-test-pg.XXXXXX
#
# By hand, the same is: runuser -u postgres -- pg_ctl -D "$PARLEY_TEST_POSTGRES_DIR/data" -m fast stop
set -euo pipefail

DIR=${1:-${PARLEY_TEST_POSTGRES_DIR:-}}
[[ -n "$DIR" ]] || { echo "stop-test-postgres: give the directory or set PARLEY_TEST_POSTGRES_DIR" >&2; exit 1; }
[[ -f "$DIR/data/PG_VERSION" ]] || { echo "stop-test-postgres: $DIR is not a test server directory" >&2; exit 1; }

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n "$BIN" && -x "$BIN/pg_ctl" ]] || BIN=$(dirname "$(command -v pg_ctl)")
if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -s stop >/dev/null 2>&1 || true
else
    "$BIN/pg_ctl" -D "$DIR/data" -m fast -s stop >/dev/null 2>&1 || true
fi
rm -rf "$DIR"
