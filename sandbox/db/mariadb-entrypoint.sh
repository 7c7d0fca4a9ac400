#!/bin/sh
# hostkit sandbox MariaDB (Debian's mariadb-server), started as the official image is: an empty
# datadir is initialised from MARIADB_ROOT_PASSWORD [/ MARIADB_DATABASE / MARIADB_USER /
# MARIADB_PASSWORD], then mariadbd listens on 3306. root@localhost also authenticates by unix
# socket, so `docker exec <db> mariadb-dump ...` needs no password on a command line.
set -eu
datadir=/var/lib/mysql
init_sock=/run/mysqld/init.sock
mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld
# SQL string literal: backslashes and quotes escaped (values arrive on stdin, never in argv).
lit() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")"; }
if [ ! -f "$datadir/.hostkit-initialized" ]; then
  : "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD must be set}"
  find "$datadir" -mindepth 1 -delete
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=socket >/dev/null
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$init_sock" >/dev/null 2>&1 &
  pid=$!
  i=0
  until mariadb-admin --socket="$init_sock" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 120 ] || { echo "hostkit-db: mariadbd did not start" >&2; exit 1; }
    sleep 0.5
  done
  {
    echo "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(lit "$MARIADB_ROOT_PASSWORD"));"
    echo "CREATE USER root@'%' IDENTIFIED BY $(lit "$MARIADB_ROOT_PASSWORD");"
    echo "GRANT ALL ON *.* TO root@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"; fi
    if [ -n "${MARIADB_USER:-}" ] && [ -n "${MARIADB_PASSWORD:-}" ]; then
      echo "CREATE USER $(lit "$MARIADB_USER")@'%' IDENTIFIED BY $(lit "$MARIADB_PASSWORD");"
      if [ -n "${MARIADB_DATABASE:-}" ]; then echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO $(lit "$MARIADB_USER")@'%';"; fi
    fi
  } | mariadb --socket="$init_sock"
  mariadb-admin --socket="$init_sock" shutdown
  wait "$pid" || true
  touch "$datadir/.hostkit-initialized"
  echo "hostkit-db: initialised $datadir"
fi
exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 --port=3306 --socket=/run/mysqld/mysqld.sock
