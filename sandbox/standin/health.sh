#!/bin/busybox sh
# hostkit stand-in healthcheck (installed under the names the inventory's healthcheck runs):
# healthy only when every precondition of the real image holds and every port answers.
/usr/local/lib/hostkit-check || exit 1
for p in $(cat /tmp/hostkit-standin-ports 2>/dev/null); do
  printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 "$p" >/dev/null 2>&1 || { echo "stand-in: port $p is not answering" >&2; exit 1; }
done
