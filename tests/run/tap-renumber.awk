# Make one TAP stream of the concatenated TAP of several programs: a
# "TAP version 13" line first, every result renumbered in order, nested
# version lines and plans turned into comments, one plan at the end, so
# that `prove -e cat` reads the whole. POSIX awk (busybox's in the VM).
BEGIN { print "TAP version 13" }
/^TAP version / || /^1\.\.[0-9]+/ { print "# " $0; next }
/^(not )?ok( |$)/ {
	bad = ($0 ~ /^not ok/)
	line = $0
	sub(/^(not )?ok( [0-9]+)?( -)? ?/, "", line)
	n++
	printf "%s %d - %s\n", bad ? "not ok" : "ok", n, line
	next
}
{ print }
END { print "1.." n + 0 }
