#!/bin/bash
# run-bench.sh: the driver of `make bench` (see docs/bench.md).
#
#   bench/run-bench.sh [--quick] [--kernel SERIES (scripts/kver --list)] [--no-host] [--no-vm]
#                            [--no-build]
#
# 1. host: build/bench/bench_locks --csv build/bench/results.csv (lock fast
#    paths are only compared on the host: TCG distorts them),
#    its contended runs again under SCHED_FIFO (root only, a section of the
#    summary), bench/lock-counts.sh (instructions, locked
#    instructions and system calls per lock+unlock) and bench_regions
#    --tracking (what the library adds to a region cycle);
# 2. VM (one boot of tests/run/shmr-vm): every other build/bench/bench_* binary,
#    each with --csv FILE (and --quick), region and syscall-bound numbers,
#    shmr interleaved with its baselines inside each binary; their rows are
#    appended to build/bench/results.csv;
# 3. build/bench/summary.txt (the table, printed too) and build/bench/ratios.png.
#
# Expects the build to be done (`make bench` runs `make all` first);
# --no-build also keeps tests/run/shmr-vm from rebuilding what is stale.
# bench_locks is stopped after BENCH_LOCKS_TIMEOUT seconds (default 360),
# the VM run after 420 s.
# Exit status: 0 when every part ran (missed targets are reported, not
# failures), 1 when a benchmark or the VM failed.
set -uo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$top" || exit 1

quick=0 kernel=6.1 do_host=1 do_vm=1 vm_build=()
locks_timeout=${BENCH_LOCKS_TIMEOUT:-360}
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--no-host) do_host=0; shift ;;
	--no-vm) do_vm=0; shift ;;
	--no-build) vm_build=(--no-build); shift ;;
	-h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "run-bench.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
qarg=()
[ "$quick" = 1 ] && qarg=(--quick)

out=build/bench
csv=$out/results.csv
summary=$out/summary.txt
mkdir -p "$out"
echo "benchmark,impl,unit,median,p10,p90" > "$csv"
: > "$out/notes.txt"
rm -f "$out/locks.txt" "$out/locks-fifo.txt" "$out/notes-locks.txt" "$out/notes-counts.txt" "$out/vm.log" "$out/vm-bench.sh" "$out/notes-host.txt" "$out/ratios.png"
rc=0
start=$(date +%s)

note() {
	echo "$*" | tee -a "$out/notes.txt"
}

# ---- 1. host: locks ----------------------------------------------------------
host_info="host: $(uname -r), $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
if [ "$do_host" = 1 ]; then
	if [ -x "$out/bench_locks" ]; then
		echo "== host: bench_locks ${qarg[*]} ($host_info)"
		# Bounded, so that `make bench` stays within its 15 minutes.
		timeout -k 10 "$locks_timeout" "$out/bench_locks" "${qarg[@]}" --csv "$csv" \
			--notes "$out/notes-locks.txt" | tee "$out/locks.txt"
		lrc=${PIPESTATUS[0]}
		[ -f "$out/notes-locks.txt" ] && sed 's/^/host: /' "$out/notes-locks.txt" >> "$out/notes.txt"
		if [ "$lrc" = 124 ] || [ "$lrc" = 137 ]; then
			note "bench_locks did not finish within ${locks_timeout}s: its remaining rows are missing"
			rc=1
		elif [ "$lrc" != 0 ]; then
			note "bench_locks failed (exit status $lrc); its rows may be missing"
			rc=1
		fi
	else
		note "no $out/bench_locks yet: lock rows skipped"
	fi
	# The contended runs again with every process SCHED_FIFO, so that other
	# work on the host does not decide who runs (root only; not rows of
	# the table, a section of the summary: docs/bench.md).
	if [ -x "$out/bench_locks" ] && [ "$(id -u)" = 0 ]; then
		echo "== host: bench_locks --fifo --only mutex_contended ${qarg[*]}"
		timeout -k 10 "$locks_timeout" "$out/bench_locks" "${qarg[@]}" --fifo \
			--only mutex_contended > "$out/locks-fifo.txt" 2>&1 ||
			note "bench_locks --fifo failed (exit status $?)"
	fi
	# What one uncontended lock+unlock executes: callgrind's instructions,
	# locked instructions and system calls (bench/lock-counts.sh).
	echo "== host: lock-counts"
	: > "$out/notes-counts.txt"
	bench/lock-counts.sh --csv "$csv" --notes "$out/notes-counts.txt" || rc=1
	sed 's/^/host: /' "$out/notes-counts.txt" >> "$out/notes.txt"
	# What libshmr and its tracking add to a region cycle: userspace work,
	# so measured natively (posix backend, memfd underneath).
	if [ -x "$out/bench_regions" ]; then
		echo "== host: bench_regions --tracking ${qarg[*]}"
		: > "$out/notes-host.txt"
		if ! "$out/bench_regions" "${qarg[@]}" --tracking --csv "$csv" \
			--notes "$out/notes-host.txt"; then
			note "bench_regions --tracking failed"
			rc=1
		fi
		sed 's/^/host: /' "$out/notes-host.txt" >> "$out/notes.txt"
	fi
fi

# ---- 2. VM: regions and syscall-bound benchmarks -------------------------------
vm_benches=()
for b in "$out"/bench_*; do
	[ -x "$b" ] && [ -f "$b" ] || continue
	case "$(basename "$b")" in
	bench_locks) ;;
	*) vm_benches+=("$(basename "$b")") ;;
	esac
done
vm_info=
if [ "$do_vm" = 1 ] && [ ${#vm_benches[@]} -gt 0 ]; then
	# The guest script: machine info, then each benchmark; results between
	# markers so that they can be told apart from the rest of the output.
	gs=$out/vm-bench.sh
	{
		echo 'echo "@@INFO $(uname -r), $(nproc) CPUs, $(sed -n "s/^model name[[:space:]]*: //p" /proc/cpuinfo | head -n 1)"'
		echo 'st=0'
		# bench_uring counts system calls with a tracepoint: tracefs
		echo 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null'
		for b in "${vm_benches[@]}"; do
			args="--csv /tmp/$b.csv"
			[ "$b" = bench_regions ] && args="$args --thp-advise --breakdown --notes /tmp/notes.txt"
			[ "$b" = bench_uring ] && args="$args --notes /tmp/notes.txt"
			echo "echo '== guest: $b ${qarg[*]}'"
			echo "/opt/shmr/bench/$b ${qarg[*]} $args || { echo \"@@NOTE $b failed (exit status \$?)\"; st=1; }"
			echo "[ -f /tmp/$b.csv ] && sed 's/^/@@CSV /' /tmp/$b.csv"
		done
		echo '[ -f /tmp/notes.txt ] && sed "s/^/@@NOTE /" /tmp/notes.txt'
		echo 'exit $st'
	} > "$gs"
	echo "== VM ($kernel): ${vm_benches[*]}"
	# Boot without the VM suite's debugging options (slab debugging and page
	# poisoning make every syscall-bound cycle 2-8x slower under TCG and
	# would dwarf the differences being measured): Debian's defaults.
	tests/run/shmr-vm --kernel "$kernel" "${vm_build[@]}" --timeout 420 --add "$gs" \
		--append "slub_debug=- page_poison=0 init_on_free=0" -- sh /host/vm-bench.sh 2>&1 |
		tee "$out/vm.log" | grep --line-buffered -v '^@@'
	vrc=${PIPESTATUS[0]}
	grep '^@@CSV ' "$out/vm.log" | sed 's/^@@CSV //' | grep -v '^benchmark,' >> "$csv"
	grep '^@@NOTE ' "$out/vm.log" | sed 's/^@@NOTE /guest: /' >> "$out/notes.txt"
	vm_info=$(sed -n 's/^@@INFO /guest (QEMU): /p' "$out/vm.log" | head -n 1)
	if [ "$vrc" != 0 ]; then
		note "the VM run failed (tests/run/shmr-vm exit status $vrc; log: $out/vm.log)"
		rc=1
	fi
elif [ "$do_vm" = 1 ]; then
	note "no VM benchmarks built under $out"
	rc=1
fi

# ---- 3. summary and plot -------------------------------------------------------
dat=$out/ratios.dat
tgt=$out/targets.gp
: > "$dat"
: > "$tgt"
{
	echo "shmr benchmarks, $(date -u '+%F %T') UTC$([ "$quick" = 1 ] && echo ' (--quick)')"
	echo "$host_info (lock rows)"
	[ -n "$vm_info" ] && echo "$vm_info (region rows; TCG: compare ratios, not absolute numbers)"
	echo
	awk -f bench/summary.awk -v dat="$dat" -v gp="$tgt" -v notes="$out/notes.txt" "$csv"
	if [ -s "$out/locks.txt" ]; then
		echo
		echo "bench_locks' own table (host; fairness column: the median of the"
		echo "slowest process's share over the fastest's; rwlock: worst repetition):"
		grep -E '^(benchmark|mutex|handoff|rwlock|\(ratio)' "$out/locks.txt" | sed 's/^/  /'
	fi
	if [ -s "$out/locks-fifo.txt" ]; then
		echo
		echo "The contended runs with every process SCHED_FIFO (bench_locks --fifo;"
		echo "other work on the host no longer decides who runs):"
		grep -E '^(benchmark|mutex|paired mutex_contended_[24]p(_p99)? shmr/pthread_robust|handovers|CPU)' \
			"$out/locks-fifo.txt" | sed 's/^/  /'
	fi
	if grep -qv ' paired ' "$out/notes.txt"; then
		echo
		echo "notes:"
		grep -v ' paired ' "$out/notes.txt" | sed 's/^/  /'
	fi
} > "$summary"
echo
cat "$summary"

if [ -s "$dat" ]; then
	if command -v gnuplot >/dev/null; then
		if gnuplot -e "dat='$dat'; tgt='$tgt'; out='$out/ratios.png'" bench/plot.gp; then
			echo "plot: $out/ratios.png"
		else
			echo "run-bench.sh: gnuplot failed" >&2
			rc=1
		fi
	else
		echo "run-bench.sh: no gnuplot (scripts/deps.sh bench): no plot" >&2
	fi
else
	echo "run-bench.sh: no shmr/baseline ratios to plot"
fi
echo "results: $csv, $summary; took $(( $(date +%s) - start )) s"
exit $rc
