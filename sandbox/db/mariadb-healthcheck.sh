#!/bin/sh
# Stand-in for the official image's healthcheck.sh (its flags, e.g. --connect
# --innodb_initialized, are accepted): healthy when a query answers over the local socket.
exec mariadb --socket=/run/mysqld/mysqld.sock -N -e 'SELECT 1' >/dev/null
