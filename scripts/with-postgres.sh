#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on 127.0.0.1 and DATABASE_URL exported.
#   scripts/with-postgres.sh pytest tests/web
# The data directory is a fresh temp dir; the server is stopped and removed on exit.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$pg_bin/initdb" ] || { echo "error: PostgreSQL server not installed (run scripts/install-system-deps.sh)" >&2; exit 2; }
datadir=$(mktemp -d /tmp/npctrial-pg.XXXXXX)
port=${PGTEST_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$datadir"
cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap cleanup EXIT
as_pg "$pg_bin/initdb" -D "$datadir/data" -U npctrial --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" start >/dev/null
export DATABASE_URL="postgresql://npctrial@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (DATABASE_URL exported)"
"$@"
