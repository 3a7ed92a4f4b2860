#!/bin/bash
# `make check`: install what is missing, build everything, run the host
# tests, then the whole VM suite once per supported kernel. Prints one TAP
# stream and ends with "N passed, N failed, N skipped". The whole log goes
# to build/check/check.log, each kernel's log to build/check/dmesg-<k>.txt.
#
#   tests/run/check.sh [--host-only] [--kernels "6.1 7.3 ..."]
#
# The kernels default to every series scripts/kver marks vm; those it marks
# build are compile-tested.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

kernels=$(scripts/kver --list vm | tr '\n' ' ')
host_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--host-only) host_only=1; shift ;;
	--kernels) kernels=$2; shift 2 ;;
	*) echo "check.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

out=build/check
mkdir -p "$out"
# shellcheck source=tests/run/tap-lib.sh
. tests/run/tap-lib.sh
tap_start "$out/check.log" "$out/tap.raw"

echo "# shmr make check: $(date -u '+%F %T') UTC, host $(uname -r)"
start=$(date +%s)

if ! scripts/deps.sh; then
	result "not ok - dependencies installed"
	finish; exit 1
fi
result "ok - dependencies installed"

if make -j"$(nproc)" all >"$out/build.log" 2>&1; then
	result "ok - build (module for the default kernel, library, tools, tests)"
else
	tail -n 40 "$out/build.log"
	result "not ok - build (see $out/build.log)"
	finish; exit 1
fi

if make lint >"$out/lint.log" 2>&1; then
	result "ok - make lint (checkpatch --strict on the kernel sources)"
else
	grep -E "(ERROR|WARNING|CHECK):" "$out/lint.log" | head -n 30 | sed 's/^/#   /'
	result "not ok - make lint (see $out/lint.log)"
fi

# The 7.x kernels' headers and images live in a Debian 13 chroot (made
# before the host tests: dkms_build.sh builds in it too).
if [ "$host_only" = 0 ]; then
	t0=$(date +%s)
	if scripts/kchroot.sh --ensure >"$out/chroot.log" 2>&1; then
		result "ok - Debian 13 chroot for the 7.x kernels ($(scripts/kchroot.sh --dir), $(( $(date +%s) - t0 )) s)"
	else
		tail -n 20 "$out/chroot.log" | sed 's/^/#   /'
		result "not ok - Debian 13 chroot for the 7.x kernels (see $out/chroot.log)"
	fi
fi

echo "# ---- host tests"
progs=$(ls build/tests/host/* 2>/dev/null | sort)
# shellcheck disable=SC2086
sh build/tests/run/run-tests.sh -t 300 -p "[host]" $progs | stream

echo "# ---- Python binding on the host (posix backend)"
ptap=$out/python-host.tap
rm -f "$ptap"
PYTHONPATH=build/python SHMR_TAP_FILE=$PWD/$ptap PYTHONDONTWRITEBYTECODE=1 \
	timeout -s KILL 600 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python 2>&1 |
	sed 's/^/# /'
if [ -s "$ptap" ]; then
	sed -e 's/^\(not \)\{0,1\}ok [0-9]* - /&[host] python: /' "$ptap" | stream
else
	result "not ok - [host] python: pytest produced no results"
fi

echo "# ---- libFuzzer on what the library parses (host, ${SHMR_FUZZ_CHECK_SECONDS:-10} s each)"
if make fuzz-build >"$out/fuzz-build.log" 2>&1; then
	for f in build/fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] || continue	# not the corpus directories
		n=${f##*/}
		flog=$out/$n.log
		mkdir -p "$f.corpus"
		seeds=tests/fuzz/corpus/$n	# inputs that once failed: run first
		[ -d "$seeds" ] || seeds=
		if SHMR_FUZZ_STATS=1 timeout -s KILL 120 "$f" -max_total_time="${SHMR_FUZZ_CHECK_SECONDS:-10}" \
			-max_len=1100 -artifact_prefix="$out/$n-" "$f.corpus" ${seeds:+"$seeds"} >"$flog" 2>&1; then
			result "ok - [host] libFuzzer $n: no crash, leak or failed check ($(grep -Eo '^Done [0-9]+ runs' "$flog" | cut -d' ' -f2) runs; $(grep "^$n:" "$flog" | cut -d' ' -f2-))"
		else
			grep -E "^(fuzz_|==[0-9]+==|SUMMARY|artifact)" "$flog" | head -n 20 | sed 's/^/#   /'
			result "not ok - [host] libFuzzer $n (see $flog)"
		fi
	done
else
	tail -n 20 "$out/fuzz-build.log" | sed 's/^/#   /'
	result "not ok - [host] libFuzzer harnesses build (see $out/fuzz-build.log)"
fi

if [ "$host_only" = 0 ]; then
	for k in $(scripts/kver --list build); do
		if scripts/kmod-build.sh --werror "$k" >"$out/kmod-$k.log" 2>&1; then
			result "ok - [$k] module builds without a warning ($(scripts/kver "$k"), compile test only)"
		else
			grep -E "(error|warning):" "$out/kmod-$k.log" | head -n 20 | sed 's/^/#   /'
			result "not ok - [$k] module builds without a warning (see $out/kmod-$k.log)"
		fi
	done
	for k in $kernels; do
		echo "# ---- VM tests on $k"
		t0=$(date +%s)
		tap=$out/vm-$k.tap
		# shellcheck disable=SC2046
		tests/run/shmr-vm --kernel "$k" --timeout 2400 --no-log-check --python \
			$(for b in /usr/bin/trinity /usr/bin/stress-ng; do [ -x "$b" ] && echo "--add $b"; done) \
			--dmesg "$out/dmesg-$k.txt" --console "$out/console-$k.txt" \
			-- sh /opt/shmr/tests/run/vm-suite.sh 2>&1 | awk -f tests/run/tap-renumber.awk | tee "$tap" | stream
		rc=${PIPESTATUS[0]}
		t1=$(date +%s)
		echo "# $k: VM run took $((t1 - t0))s"
		if [ "$rc" = 0 ] && grep -q "^# run-tests:" "$tap"; then
			result "ok - [$k] VM booted, ran the suite and reported its status"
		else
			result "not ok - [$k] VM booted, ran the suite and reported its status (shmr-vm exit $rc)"
		fi
		if [ -s "$out/dmesg-$k.txt" ]; then
			if bad=$(tests/run/klog-check "$out/dmesg-$k.txt"); then
				result "ok - [$k] kernel log clean"
			else
				echo "$bad" | head -n 40 | sed 's/^/#   /'
				result "not ok - [$k] kernel log clean (see $out/dmesg-$k.txt)"
			fi
		else
			result "not ok - [$k] kernel log read back"
		fi
	done
fi

# Every stream the runner wrote reads as TAP to the standard harness.
if command -v prove >/dev/null; then
	taps=$(ls "$out"/*.tap 2>/dev/null | grep -v '/results\.tap$')
	# Failed tests are counted elsewhere: only parse errors matter here.
	# shellcheck disable=SC2086
	[ -n "$taps" ] && prove -e cat $taps >"$out/prove.log" 2>&1
	if [ -n "$taps" ] && ! grep -qiE 'parse error|no plan|bad plan|out of sequence|version must' "$out/prove.log"; then
		result "ok - prove reads every TAP file written ($(echo $taps | wc -w) files)"
	else
		grep -vE '^(All tests|Files=|Result:)' "$out/prove.log" | tail -n 20 | sed 's/^/#   /'
		result "not ok - prove reads every TAP file written (see $out/prove.log)"
	fi
fi

echo "# make check took $(( $(date +%s) - start ))s"
finish
exit $?
