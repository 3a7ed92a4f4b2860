#!/bin/bash
# lock-counts.sh: what one uncontended lock+unlock pair executes, counted
# (make bench runs it on the host after bench_locks; docs/bench.md).
#
#   bench/lock-counts.sh [--csv FILE] [--notes FILE]
#
# - instructions per pair: valgrind's callgrind, collecting only inside
#   build/bench/lock_count's loop of N pairs, for N = 100000 and 200000;
#   per pair = the difference / 100000 (what runs once cancels out). The
#   loop's own instructions are included; the "none" implementation (the
#   same loop calling an empty function instead) says how many.
# - locked instructions and system calls per pair: lock_count trace
#   single-steps 100 and 200 pairs under ptrace and decodes every
#   executed instruction (LOCK prefix, XCHG with memory, SYSCALL).
#
# CSV rows: mutex_pair_instr (unit instr), mutex_pair_locked and
# mutex_pair_syscalls (unit count), for shmr, pthread_robust and
# pthread_normal. Exit status 1 when a count could not be taken.
set -uo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
lc=$top/build/bench/lock_count
csv= notes=
while [ $# -gt 0 ]; do
	case "$1" in
	--csv) csv=$2; shift 2 ;;
	--notes) notes=$2; shift 2 ;;
	*) echo "lock-counts.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -x "$lc" ] || { echo "lock-counts.sh: no $lc (make)" >&2; exit 1; }

rc=0
note() {
	echo "$*"
	[ -n "$notes" ] && echo "$*" >> "$notes"
}
row() {	# benchmark impl unit value
	[ -n "$csv" ] && printf '%s,%s,%s,%.1f,%.1f,%.1f\n' "$1" "$2" "$3" "$4" "$4" "$4" >> "$csv"
}

n1=100000 n2=200000
declare -A instr
if command -v valgrind >/dev/null; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for im in shmr pthread_robust pthread_normal none; do
		c=()
		for n in $n1 $n2; do
			out=$tmp/cg.$im.$n
			valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
				--toggle-collect="run_pairs_$im" "$lc" run "$im" "$n" > "$tmp/log" 2>&1
			# "summary: <Ir>" (or "totals:") of the collected stretch
			c+=("$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$out" | head -n 1)")
		done
		if [ -n "${c[0]}" ] && [ -n "${c[1]}" ] && [ "${c[1]}" -gt "${c[0]}" ]; then
			instr[$im]=$(awk -v a="${c[0]}" -v b="${c[1]}" -v d=$((n2 - n1)) \
				'BEGIN { printf "%.1f", (b - a) / d }')
		else
			note "lock-counts: callgrind gave no count for $im (see valgrind's output)"
			sed 's/^/  /' "$tmp/log" | tail -n 5
			rc=1
		fi
	done
	if [ -n "${instr[shmr]:-}" ] && [ -n "${instr[pthread_robust]:-}" ]; then
		note "callgrind: instructions per lock+unlock pair (the loop's included):" \
			"shmr ${instr[shmr]} ($(awk -v s="${instr[shmr]}" -v r="${instr[pthread_robust]}" \
				'BEGIN { printf "%.2f", s / r }')x pthread_robust)," \
			"pthread_robust ${instr[pthread_robust]}, pthread_normal ${instr[pthread_normal]:-?};" \
			"the loop alone (an empty function for lock and unlock) ${instr[none]:-?}"
		for im in shmr pthread_robust pthread_normal; do
			[ -n "${instr[$im]:-}" ] && row mutex_pair_instr "$im" instr "${instr[$im]}"
		done
	fi
else
	note "lock-counts: no valgrind (scripts/deps.sh bench): no instruction counts"
	rc=1
fi

for im in shmr pthread_robust pthread_normal; do
	a=$("$lc" trace "$im" 100) && b=$("$lc" trace "$im" 200) || {
		note "lock-counts: lock_count trace $im failed"
		rc=1
		continue
	}
	read -r li ll ls < <(awk -v a="$a" -v b="$b" 'BEGIN {
		split(a, x, /[ =]/); split(b, y, /[ =]/)
		# fields: impl instructions I locked L syscalls S pairs P
		printf "%.1f %.2f %.2f\n", (y[3] - x[3]) / 100, (y[5] - x[5]) / 100, (y[7] - x[7]) / 100 }')
	note "ptrace single-step: $im per pair: $li instructions, $ll locked, $ls system calls"
	row mutex_pair_locked "$im" count "$ll"
	row mutex_pair_syscalls "$im" count "$ls"
done
exit $rc
