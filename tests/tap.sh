# shellcheck shell=sh
# Sourced by the test scripts that print TAP (POSIX sh, busybox's too):
#
#   TAP_WHAT="what the script tests"
#   . "$here/../tap.sh"
#
#   skip_all REASON      the whole script is skipped: a plan of 1, one
#                        skipped result named TAP_WHAT, exit 0
#   tap_tmpdir [DIR]     $tmp: a new directory (under DIR if given),
#                        removed at exit
#   check DESC CMD...    run CMD: "ok", or "not ok" with the last
#                        TAP_TAIL (default 20) lines of its output
#   tap_done             the plan; status 1 if any check failed
n=0 fails=0

skip_all() {
	echo "1..1"
	echo "ok 1 - ${TAP_WHAT:-$(basename "$0")} # SKIP $1"
	exit 0
}

tap_tmpdir() {
	if [ -n "${1:-}" ]; then
		tmp=$(mktemp -d "$1/tap.XXXXXX")
	else
		tmp=$(mktemp -d)
	fi
	trap 'rm -rf "$tmp"' EXIT
}

check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@" > "$tmp/out" 2>&1; then
		echo "ok $n - $desc"
	else
		fails=$((fails + 1))
		echo "not ok $n - $desc"
		sed 's/^/#   /' "$tmp/out" | tail -n "${TAP_TAIL:-20}"
	fi
}

tap_done() {
	echo "1..$n"
	[ "$fails" = 0 ]
}
