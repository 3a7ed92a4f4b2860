# shellcheck shell=bash
# Sourced by tests/run/check.sh and tests/run/check-debug.sh: one TAP stream, kept
# whole in $log, every result line also in $raw for the closing count.
# Results are numbered in order across everything (nested streams' own
# version lines and plans become comments) and the plan comes last, so
# `prove -e cat LOG` reads it; $raw's directory gets results.tap, the
# results alone.
#
#   tap_start LOG RAW   send stdout and stderr through tee into LOG
#   result LINE         print a result line ("ok - ...") and keep it
#   stream              copy stdin through, renumbering and keeping the
#                       result lines
#   finish              list the failures again, print the plan, then
#                       "N passed, N failed, N skipped"; status 1 if
#                       anything failed or nothing passed

tap_start() {
	log=$1
	raw=$2
	: > "$raw"
	exec 3>&1 4>&2
	exec > >(tee "$log") 2>&1
	teepid=$!
	echo "TAP version 13"
}

# Print result line $2 (any numbering stripped) as number $1, and keep it.
tap_numbered() {
	local st=ok rest=$2
	case "$rest" in "not ok"*) st="not ok" ;; esac
	rest=${rest#"$st"}
	rest=${rest# }
	rest=$(printf '%s' "$rest" | sed -E 's/^[0-9]+ ?//; s/^- ?//')
	echo "$st $1 - $rest" | tee -a "$raw"
}

result() {
	tap_numbered $(( $(wc -l < "$raw") + 1 )) "$1"
}

stream() {
	local n line
	n=$(wc -l < "$raw")
	while IFS= read -r line; do
		case "$line" in
		"ok"|"ok "*|"not ok"*) n=$((n + 1)); tap_numbered "$n" "$line" ;;
		"TAP version "*|1..[0-9]*) echo "# $line" ;;
		*) echo "$line" ;;
		esac
	done
}

finish() {
	echo "# full log: $log"
	# Name the failures again just above the count: CI may show only the
	# tail of the log.
	grep '^not ok ' "$raw" | sed 's/^/# failed: /'
	{ echo "TAP version 13"; cat "$raw"; echo "1..$(wc -l < "$raw")"; } > "${raw%/*}/results.tap"
	echo "1..$(wc -l < "$raw")"
	awk '
		/^ok / { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++ }
		/^not ok / { f++ }
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0) }' "$raw"
	local rc=$?
	exec 1>&3 2>&4
	wait "$teepid" 2>/dev/null
	return $rc
}
