# shellcheck shell=bash
# Sourced by tools/check.sh and tools/check-debug.sh: one TAP stream, kept
# whole in $log, every result line also in $raw for the closing count.
#
#   tap_start LOG RAW   send stdout and stderr through tee into LOG
#   result LINE         print a result line and keep it
#   stream              copy stdin through, keeping the result lines
#   finish              list the failures again, then print
#                       "N passed, N failed, N skipped"; status 1 if
#                       anything failed or nothing passed

tap_start() {
	log=$1
	raw=$2
	: > "$raw"
	exec 3>&1 4>&2
	exec > >(tee "$log") 2>&1
	teepid=$!
}

result() {
	echo "$1" | tee -a "$raw"
}

stream() {
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*) echo "$line" >> "$raw" ;;
		esac
		echo "$line"
	done
}

finish() {
	echo "# full log: $log"
	# Name the failures again just above the count: CI may show only the
	# tail of the log.
	grep '^not ok ' "$raw" | sed 's/^/# failed: /'
	awk '
		/^ok / { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++ }
		/^not ok / { f++ }
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0) }' "$raw"
	local rc=$?
	exec 1>&3 2>&4
	wait "$teepid" 2>/dev/null
	return $rc
}
