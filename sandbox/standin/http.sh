#!/bin/busybox sh
# One HTTP exchange per connection (nc -ll -e). With HS_MARKER (stock Drupal core): every path
# answers 302 to /core/install.php, which serves the installer, until the marker file exists.
. "${HS_SPEC:-/etc/hostkit-standin.spec}"
cr=$(printf '\r')
read -r -t 2 method path proto || true
while read -r -t 2 l; do case "$l" in '' | "$cr") break ;; esac; done
reply() { printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nConnection: close\r\n%s\r\n%s\n' "$1" "$2" "$3"; }
if [ -n "$HS_MARKER" ] && [ ! -e "$HS_MARKER" ]; then
  case ${path%%\?*} in
  /core/install.php) reply '200 OK' '' "installer (not installed): hostkit stand-in for $HS_IMAGE on $(hostname)" ;;
  *) reply '302 Found' "Location: /core/install.php$cr
" "redirect to the installer" ;;
  esac
else
  reply '200 OK' '' "hostkit stand-in for $HS_IMAGE on $(hostname)"
fi
