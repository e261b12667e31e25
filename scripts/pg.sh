#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback for tests, benches and .ci/run (no system service, no root
# needed; as root the server runs as the `postgres` user, since PostgreSQL refuses to run as root).
#
#   scripts/pg.sh start   → initdb (first time) + start; prints the URL, e.g. postgresql://govaudit@127.0.0.1:55432/govaudit
#   scripts/pg.sh url     → print the URL only
#   scripts/pg.sh stop    → stop the server (the data folder stays for the next start)
#   scripts/pg.sh destroy → stop and delete the data folder
#
# GOVAUDIT_PG_DIR (default /tmp/govaudit-pg-$UID) and GOVAUDIT_PG_PORT (default 55432) choose where.
set -euo pipefail
dir="${GOVAUDIT_PG_DIR:-/tmp/govaudit-pg-$(id -u)}"
port="${GOVAUDIT_PG_PORT:-55432}"
url="postgresql://govaudit@127.0.0.1:${port}/govaudit"

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir="$(pg_config --bindir)"
fi
for d in /usr/lib/postgresql/*/bin; do
  [ -z "$bindir" ] && [ -x "$d/initdb" ] && bindir="$d"
done
if [ -z "$bindir" ]; then
  echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 3
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$dir/data" -U govaudit --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "$url"
    return
  fi
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
  "$bindir/psql" -h 127.0.0.1 -p "$port" -U govaudit -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='govaudit'" \
    | grep -q 1 || "$bindir/createdb" -h 127.0.0.1 -p "$port" -U govaudit govaudit
  echo "$url"
}

stop() {
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  destroy) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|url|destroy" >&2; exit 2 ;;
esac
