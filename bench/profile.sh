#!/bin/sh
# Where the kernel time of a region cycle goes, per callee, with ftrace's
# function_graph tracer (perf is not in the guest).
#
#   bench/profile.sh [--kernel 6.1] [--depth 4] [-n 300]
#
# Boots the bench VM
# (tests/run/shmr-vm, the bench's boot options) and runs each cycle kind N times
# under function_graph rooted at the shmr commands and at the system calls
# of the memfd baseline. Prints, per root, the mean time per call and the
# mean time per root call of every callee down to DEPTH. Traced times are
# inflated by the tracer itself (every traced call costs a few us under
# TCG): compare callees, not absolute numbers.
# PROFILE_MODES (profile_cycle modes) and PROFILE_ROOTS (graph functions)
# narrow it. In the guest: profile.sh --guest DEPTH N.
set -eu

if [ "${1:-}" = "--guest" ]; then
	[ -n "${PROFILE_MODES:-}" ] || unset PROFILE_MODES
	[ -n "${PROFILE_ROOTS:-}" ] || unset PROFILE_ROOTS
	depth=$2 n=$3 prog=/opt/shmr/bench/profile_cycle
	t=/sys/kernel/tracing
	[ -e $t/trace ] || mount -t tracefs nodev $t 2>/dev/null ||
		{ t=/sys/kernel/debug/tracing; mount -t debugfs nodev /sys/kernel/debug 2>/dev/null || true; }
	roots=${PROFILE_ROOTS:-"shmr_cmd_create shmr_cmd_open shmr_cmd_unlink __x64_sys_memfd_create __x64_sys_ftruncate __x64_sys_close task_work_run __x64_sys_mmap __x64_sys_munmap"}
	echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	for mode in ${PROFILE_MODES:-shmr-life shmr-anon memfd-life shmr-attach memfd-attach}; do
		echo 0 > $t/tracing_on
		echo nop > $t/current_tracer
		: > $t/set_graph_function
		for f in $roots; do echo "$f" >> $t/set_graph_function; done
		echo "$depth" > $t/max_graph_depth
		echo 8192 > $t/buffer_size_kb
		echo function_graph > $t/current_tracer
		echo 1 > $t/options/funcgraph-tail
		echo 0 > $t/options/funcgraph-irqs
		echo 0 > $t/options/funcgraph-overhead
		echo 1 > $t/options/funcgraph-cpu
		echo 1 > $t/options/funcgraph-duration
		$prog "$mode" 20		# warm up, untraced
		: > $t/trace
		echo 1 > $t/tracing_on
		$prog "$mode" "$n"
		echo 0 > $t/tracing_on
		echo "=== $mode: $n cycles (traced us; per root call)"
		awk -v maxd="$depth" '
		/\|/ {
			split($0, half, "|")
			left = half[1]; right = substr($0, index($0, "|") + 1)
			cpu = left; sub(/\).*/, "", cpu); gsub(/ /, "", cpu)
			dur = ""
			if (match(left, /[0-9.]+ us/))
				dur = substr(left, RSTART, RLENGTH - 3) + 0
			ind = right; sub(/[^ ].*$/, "", ind)
			txt = substr(right, length(ind) + 1)
			d = int((length(ind) - 2) / 2)
			if (txt ~ /\) \{$/) {
				nm = txt; sub(/\(.*/, "", nm)
				stk[cpu, d] = nm; top[cpu] = d
				next
			}
			if (txt ~ /^\}/) {
				nm = stk[cpu, d]; leaf = 0
			} else if (txt ~ /\);/) {
				nm = txt; sub(/\(.*/, "", nm); leaf = 1
				stk[cpu, d] = nm
			} else
				next
			if (dur == "" || !((cpu, 0) in stk))
				next
			path = stk[cpu, 0]
			for (i = 1; i <= d; i++)
				path = path " > " stk[cpu, i]
			sum[path] += dur; cnt[path]++
			if (d == 0)
				rootcnt[path]++
		}
		END {
			for (p in sum) {
				r = p; sub(/ > .*/, "", r)
				if (!(r in rootcnt))
					continue
				printf "%10.2f %7.2f  %s\n", sum[p] / rootcnt[r],
				       cnt[p] / rootcnt[r], p
			}
		}' $t/trace | sort -k3,3 -k1,1nr | awk '
		{ r = $3; if (r != last) { print ""; last = r } print }' |
		awk -v lim=0.8 '$1 >= lim || NF == 0'
	done
	exit 0
fi

kernel=6.1 depth=4 n=300
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--depth) depth=$2; shift ;;
	-n) n=$2; shift ;;
	*) echo "usage: $0 [--kernel K] [--depth D] [-n N]" >&2; exit 2 ;;
	esac
	shift
done
cd "$(dirname "$0")/.."
exec tests/run/shmr-vm --kernel "$kernel" --append "slub_debug=- page_poison=0 init_on_free=0" \
	--add bench/profile.sh -- \
	env PROFILE_MODES="${PROFILE_MODES:-}" PROFILE_ROOTS="${PROFILE_ROOTS:-}" \
	sh /host/profile.sh --guest "$depth" "$n"
