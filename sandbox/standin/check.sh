#!/bin/busybox sh
# hostkit strict stand-in: the preconditions of the real image, from its row of
# src/platform/upstream-images.ts (baked into /etc/hostkit-standin.spec). One line per failed
# precondition on stderr; exit 1 when any failed. HS_DB_WAIT: seconds to wait for a database
# server that is not accepting connections yet (at start; the healthcheck tries once).
. "${HS_SPEC:-/etc/hostkit-standin.spec}"
fail=0
bad() { echo "stand-in for $HS_IMAGE: $*" >&2; fail=1; }
envval() { eval "printf '%s' \"\${$1-}\""; }

# writes PATH: a file created in PATH by the uid the real image writes with (HS_WRITER: a root-
# started image's workers, e.g. Apache's www-data; else this process).
writes() {
  if [ -n "$HS_WRITER" ] && [ "$(id -u)" = 0 ]; then
    su -s /bin/sh "$HS_WRITER" -c ": >'$1/.hostkit-write-probe'" 2>/dev/null
  else
    (: >"$1/.hostkit-write-probe") 2>/dev/null
  fi
}
who=$(id -u ${HS_WRITER:+"$HS_WRITER"}):$(id -g ${HS_WRITER:+"$HS_WRITER"})
for p in $HS_WRITABLE; do
  if [ ! -d "$p" ]; then
    bad "$p does not exist"
  elif ! writes "$p"; then
    bad "$p is not writable for uid $who (it is $(stat -c '%u:%g %a' "$p"))"
  else
    rm -f "$p/.hostkit-write-probe"
  fi
done

for v in $HS_ENV; do [ -n "$(envval "$v")" ] || bad "required env $v is not set"; done

for f in $HS_FILES; do
  path=${f%%|*} rest=${f#*|}
  fmt=${rest%%|*} rest=${rest#*|}
  keys=${rest%%|*} sess=${rest#*|}
  if [ ! -f "$path" ]; then bad "required file $path is missing"; continue; fi
  if [ ! -r "$path" ]; then bad "required file $path is not readable for uid $(id -u)"; continue; fi
  case $fmt in
  yaml) msg=$(awk -v keys="$keys" -v sess="$sess" -f "${HS_YAML_AWK:-/usr/local/lib/hostkit-yaml.awk}" "$path") || bad "$path: $msg" ;;
  htpasswd) grep -Eq '^[^:#[:space:]]+:.+' "$path" || bad "$path has no user:hash line (every request would be 401)" ;;
  esac
done

# dbprobe: the declared database with the declared credentials; prints the client's error.
dbprobe() {
  case $engine in
  postgres) PGPASSWORD=$pw PGCONNECT_TIMEOUT=3 psql -X -w -h "$host" -p "${port:-5432}" -U "$user" -d "$db" -Atc 'select 1' 2>&1 >/dev/null ;;
  mariadb) mariadb --connect-timeout=3 -h "$host" -P "${port:-3306}" -u "$user" -p"$pw" -D "$db" -e 'select 1' 2>&1 >/dev/null ;;
  esac
}
if [ -n "$HS_DB" ]; then
  IFS='|' read -r engine wenv wval henv penv nenv uenv pwenv <<EOT
$HS_DB
EOT
  if [ -z "$wenv" ] || [ "$(envval "$wenv")" = "$wval" ]; then
    host=$(envval "$henv") port="" db=$(envval "$nenv") user=$(envval "$uenv") pw=$(envval "$pwenv")
    [ -n "$penv" ] && port=$(envval "$penv")
    case $host in *:*) port=${host##*:} host=${host%:*} ;; esac
    if [ -z "$host" ] || [ -z "$db" ] || [ -z "$user" ]; then
      bad "database env incomplete ($henv=$host $nenv=$db $uenv=$user)"
    else
      waited=0
      while ! err=$(dbprobe); do
        case $err in
        *"could not connect"* | *"Connection refused"* | *"could not translate host"* | *"starting up"* | *"timeout expired"* | *"Can't connect"* | *"Unknown server host"*)
          if [ "$waited" -lt "${HS_DB_WAIT:-0}" ]; then sleep 2; waited=$((waited + 2)); continue; fi ;;
        esac
        bad "$engine database $db as $user on $host:${port:-default}: $(echo "$err" | tr '\n' ' ')"
        break
      done
    fi
  fi
fi
exit $fail
