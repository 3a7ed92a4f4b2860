#!/bin/bash
# `make check-debug`: the VM suite on a debug kernel. Builds (once, cached
# outside the repository: tests/run/debug-kernel.sh) linux-source-6.1 with
# KASAN, kmemleak, lockdep, DEBUG_ATOMIC_SLEEP, UBSAN, DEBUG_OBJECTS,
# DEBUG_VM, KFENCE, failslab and fail_page_alloc, builds the module against
# it, then boots it three times, each boot fresh (lockdep turns itself off
# after its first report, so a report in one boot cannot hide another's):
#
#   suite    every VM test, the counters, Shmem, rmmod/insmod, then kmemleak
#   torture  tests/vm/torture (SHMR_DEBUG_STEPS, default 3000), the race
#            tests and fuzz_ioctl, counters at zero, kmemleak
#   failnth  tests/vm/debug_failnth (fail-nth through failslab and
#            fail_page_alloc on every module call), kmemleak
#
# and scans each kernel log (tests/run/klog-check). Prints TAP and ends with
# "N passed, N failed, N skipped". Logs in build/check-debug/.
#
#   tests/run/check-debug.sh [--only suite|torture|failnth]... [--no-python]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

only=() python=--python
while [ $# -gt 0 ]; do
	case "$1" in
	--only) only+=("$2"); shift 2 ;;
	--no-python) python=; shift ;;
	*) echo "check-debug.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ ${#only[@]} -gt 0 ] || only=(suite torture failnth)

out=build/check-debug
mkdir -p "$out"
# shellcheck source=tests/run/tap-lib.sh
. tests/run/tap-lib.sh
tap_start "$out/check-debug.log" "$out/tap.raw"

echo "# shmr make check-debug: $(date -u '+%F %T') UTC, host $(uname -r)"
start=$(date +%s)
if ! scripts/deps.sh build vm python debug; then
	result "not ok - dependencies installed"
	finish; exit 1
fi
t0=$(date +%s)
if dir=$(tests/run/debug-kernel.sh --build); then
	result "ok - debug kernel $(scripts/kver debug) ($(cat "$dir/.shmr-done"); this run: $(( $(date +%s) - t0 )) s)"
else
	result "not ok - debug kernel built (tests/run/debug-kernel.sh)"
	finish; exit 1
fi
if make -j"$(nproc)" all vm-prereqs KVER=debug >"$out/build.log" 2>&1; then
	result "ok - build (module for the debug kernel, library, tools, tests)"
else
	tail -n 40 "$out/build.log"
	result "not ok - build (see $out/build.log)"
	finish; exit 1
fi

# The injected failures of failnth are expected to print allocation-failure
# reports with a stack (warn_alloc); drop those blocks, keep everything else.
drop_injected() {
	awk '/page allocation failure|FAULT_INJECTION: forcing a failure/ { skip = 1 }
		skip && /<\/TASK>/ { skip = 0; next }
		!skip' "$1"
}

boot() {
	local name=$1 timeout=$2 cmd=$3 extra=$4
	local tap=$out/vm-$name.tap dmesg=$out/dmesg-$name.txt t1 rc bad
	local try
	echo "# ---- debug kernel: $name"
	t1=$(date +%s)
	for try in 1 2; do
		# shellcheck disable=SC2086
		tests/run/shmr-vm --kernel debug --timeout "$timeout" --mem 2048 --no-log-check \
			--append "loglevel=4" $extra --dmesg "$dmesg" \
			--console "$out/console-$name.txt" -- sh -c "$cmd" 2>&1 |
			awk -f tests/run/tap-renumber.awk | tee "$tap" | stream
		rc=${PIPESTATUS[0]}
		# A kernel that died before it reached /init (so before the module
		# was loaded) gets one more boot; the console is kept. Seen once in
		# ten boots: a KASAN report in handle_edge_irq during cpu_detect.
		grep -q "SHMR-VM-" "$out/console-$name.txt" && break
		[ "$try" = 1 ] || break
		cp "$out/console-$name.txt" "$out/console-$name-boot1.txt"
		echo "# $name: the debug kernel died while booting, before the command (console-$name-boot1.txt); booting once more"
	done
	echo "# $name: VM run took $(( $(date +%s) - t1 ))s"
	if [ "$rc" = 0 ]; then
		result "ok - [debug] $name: VM booted, ran and reported status 0"
	else
		result "not ok - [debug] $name: VM booted, ran and reported status 0 (shmr-vm exit $rc)"
	fi
	if [ ! -s "$dmesg" ]; then
		result "not ok - [debug] $name: kernel log read back"
		return
	fi
	if [ "$name" = failnth ]; then
		bad=$(drop_injected "$dmesg" | tests/run/klog-check) || true
	else
		bad=$(tests/run/klog-check "$dmesg") || true
	fi
	if [ -z "$bad" ]; then
		result "ok - [debug] $name: kernel log clean (KASAN, KFENCE, UBSAN, lockdep, DEBUG_OBJECTS, slub_debug)"
	else
		echo "$bad" | head -n 60 | sed 's/^/#   /'
		result "not ok - [debug] $name: kernel log clean (see $dmesg)"
	fi
}

steps=${SHMR_DEBUG_STEPS:-3000}
for b in "${only[@]}"; do
	case "$b" in
	suite)
		boot suite 10800 "shmr-kmemleak start; SHMR_VM_KERNEL=debug SHMR_TEST_TIMEOUT=3000 sh /opt/shmr/tests/run/vm-suite.sh; shmr-kmemleak report debug-suite" "$python"
		;;
	torture)
		boot torture 5400 "shmr-kmemleak start; t=/opt/shmr/tests; rc=0
			SHMR_TORTURE_STEPS=$steps sh \$t/run/run-tests.sh -t 3000 -p '[debug-torture]' \$t/vm/torture \$t/vm/race_* \$t/vm/fuzz_ioctl || rc=1
			sh \$t/run/vm-counters.sh debug-torture
			shmr-kmemleak report debug-torture; exit \$rc" ""
		;;
	failnth)
		boot failnth 5400 "shmr-kmemleak start; rc=0
			sh /opt/shmr/tests/run/run-tests.sh -t 3000 -p '[debug-failnth]' /opt/shmr/tests/vm/debug_failnth || rc=1
			sh /opt/shmr/tests/run/vm-counters.sh debug-failnth
			shmr-kmemleak report debug-failnth; exit \$rc" ""
		;;
	*) result "not ok - unknown part '$b'" ;;
	esac
done

echo "# make check-debug took $(( $(date +%s) - start ))s"
finish
exit $?
