#!/bin/busybox sh
# The ports the real image listens on, given its command line ("$@") and env: per HS_PORTS entry
# default|env|option, the env value, else the option's value (--bind=:9002, --console-address :9001;
# the port after the last ':'), else the default.
. "${HS_SPEC:-/etc/hostkit-standin.spec}"
out=""
for spec in $HS_PORTS; do
  def=${spec%%|*} rest=${spec#*|}
  env=${rest%%|*} arg=${rest#*|}
  p=""
  [ -n "$env" ] && p=$(eval "printf '%s' \"\${$env-}\"")
  if [ -z "$p" ] && [ -n "$arg" ]; then
    prev=""
    for a in "$@"; do
      case $a in "$arg="*) p=${a#*=} ;; esac
      [ "$prev" = "$arg" ] && p=$a
      prev=$a
    done
    p=${p##*:}
  fi
  [ -n "$p" ] || p=$def
  [ -n "$p" ] && out="$out $p"
done
echo $out
