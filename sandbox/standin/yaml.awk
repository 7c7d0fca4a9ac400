# A YAML mapping whose top level has every key in `keys` (comma list), and with sess=session a
# cookie domain under session: (session.cookies[].domain or session.domain). A subset check of
# what Authelia's validator needs, not a YAML parser: tabs in indentation and top-level lines
# that are no `key:` are refused.
/^[ ]*\t/ { print "line " NR ": tab in indentation (not YAML)"; bad = 1; exit 1 }
/^[ ]*(#.*)?$/ || /^---/ || /^\.\.\./ { next }
/^[A-Za-z_][A-Za-z0-9_]*:/ { k = $0; sub(/:.*/, "", k); top[k] = 1; cur = k; next }
/^[^ ]/ { print "line " NR ": not a top-level key: " $0; bad = 1; exit 1 }
cur == "session" && /^[ ]+(- )?domain:[ ]*[^ ]/ { dom = 1 }
END {
  if (bad) exit 1
  n = split(keys, ks, ",")
  miss = ""
  for (i = 1; i <= n; i++) if (!(ks[i] in top)) miss = miss " " ks[i]
  if (miss != "") { print "missing top-level keys:" miss; exit 1 }
  if (sess == "session" && !dom) { print "session names no cookie domain (session.cookies[].domain)"; exit 1 }
}
