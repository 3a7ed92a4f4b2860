#!/bin/sh
# Run test programs and print one flat TAP stream.
#
#   run-tests.sh [-t SECONDS] [-p PREFIX] PROGRAM...
#
# Each PROGRAM is a kselftest-harness binary or a script printing TAP. Its
# "ok"/"not ok" lines are renumbered and prefixed with PREFIX and the
# program's name. A program that exits non-zero without reporting a
# failure, times out, or reports nothing counts as one failure of its own;
# one that exits 4 (KSFT_SKIP) having reported nothing counts as a skip.
# Ends with "# run-tests: N passed, N failed, N skipped" and exits 1 if
# anything failed. POSIX sh: it runs under busybox in the VM too.
timeout_s=300
prefix=
while [ $# -gt 0 ]; do
	case "$1" in
	-t) timeout_s=$2; shift 2 ;;
	-p) prefix="$2 "; shift 2 ;;
	*) break ;;
	esac
done

pass=0 fail=0 skip=0 n=0
out=${TMPDIR:-/tmp}/run-tests.$$
trap 'rm -f "$out" "$out.counts"' EXIT

echo "TAP version 13"
for prog in "$@"; do
	name=$(basename "$prog")
	echo "# ---- ${prefix}$name"
	start=$(date +%s)
	timeout -s KILL "$timeout_s" "$prog" > "$out" 2>&1 < /dev/null
	rc=$?
	end=$(date +%s)
	# Show the program's diagnostics, then re-emit its results.
	sed -e '/^ok /d' -e '/^not ok /d' -e '/^TAP version/d' -e '/^1\.\./d' \
		-e 's/^/#   /' "$out"
	awk -v pre="${prefix}$name" -v n="$n" -v cf="$out.counts" '
		/^# +RUN / { run = $3 }
		/^ok / || /^not ok / {
			line = $0; bad = (line ~ /^not ok /)
			sub(/^(not )?ok [0-9]* *(- )?/, "", line)
			if (line ~ /^# [Ss][Kk][Ii][Pp]/ && run != "")
				line = run " " line
			n++
			if (bad) { st = "not ok"; f++ }
			else if (line ~ /# [Ss][Kk][Ii][Pp]/) { st = "ok"; s++ }
			else { st = "ok"; p++ }
			printf "%s %d - %s: %s\n", st, n, pre, line
		}
		END { printf "%d %d %d %d\n", n, p + 0, f + 0, s + 0 > cf }' "$out"
	read -r n p f s < "$out.counts"
	reported=$((p + f + s))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$rc" = 137 ] || [ "$rc" = 124 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - ${prefix}$name: timed out after ${timeout_s}s"
	elif [ "$rc" = 4 ] && [ "$reported" = 0 ]; then
		n=$((n + 1)); skip=$((skip + 1))
		echo "ok $n - ${prefix}$name # SKIP (program skipped)"
	elif [ "$reported" = 0 ]; then
		n=$((n + 1))
		if [ "$rc" = 0 ]; then
			fail=$((fail + 1))
			echo "not ok $n - ${prefix}$name: reported no results"
		else
			fail=$((fail + 1))
			echo "not ok $n - ${prefix}$name: exit status $rc, no results"
		fi
	elif [ "$rc" != 0 ] && [ "$f" = 0 ] && [ "$rc" != 4 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - ${prefix}$name: exit status $rc"
	fi
	echo "# ${prefix}$name: $((end - start))s"
done
echo "1..$n"
echo "# run-tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
