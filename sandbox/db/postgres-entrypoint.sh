#!/bin/sh
# hostkit sandbox PostgreSQL (Debian's package), started as the official image is: an empty
# $PGDATA is initialised from POSTGRES_PASSWORD / POSTGRES_USER / POSTGRES_DB, then postgres
# listens on 5432 (scram-sha-256 over TCP, trust on the container's own socket, as upstream).
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
# The marker is written last: an interrupted first start initialises again from scratch.
if [ ! -f "$PGDATA/.hostkit-initialized" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  find "$PGDATA" -mindepth 1 -delete
  pw=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
  chown postgres "$pw"
  as_pg initdb -D "$PGDATA" -U "$user" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pw"
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    as_pg psql -q -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    as_pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  touch "$PGDATA/.hostkit-initialized"
  echo "hostkit-db: initialised $PGDATA (user $user, database $db)"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*' -p 5432
