# Start and stop a throw-away PostgreSQL cluster on 127.0.0.1 for the tests (sourced by .ci/run).
# Exports STEWARD_TEST_POSTGRES_URI; the postgres-marked tests use it.
PG_PORT=${PG_PORT:-54329}
PG_DIR=${PG_DIR:-/tmp/steward-ci-pg}

_pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] || { echo "PostgreSQL binaries not found under /usr/lib/postgresql" >&2; return 1; }
  echo "$bin"
}

start_postgres() {
  local bin; bin=$(_pg_bin)
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
  chown -R postgres:postgres "$PG_DIR" 2>/dev/null || true
  local as_pg=""; [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
  $as_pg "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  $as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200" start >/dev/null
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE steward" >/dev/null
  export STEWARD_TEST_POSTGRES_URI="postgresql://postgres@127.0.0.1:$PG_PORT/steward"
  echo "PostgreSQL ready at $STEWARD_TEST_POSTGRES_URI"
}

stop_postgres() {
  local bin; bin=$(_pg_bin) || return 0
  local as_pg=""; [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
  $as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
}
