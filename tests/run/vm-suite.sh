#!/bin/sh
# The VM half of `make check`, run inside the guest by tests/run/check.sh:
# every test program, then the module's counters, Shmem, and unload/reload.
# Prints TAP; tests/run/check.sh renumbers and counts.
k=${SHMR_VM_KERNEL:-vm}
t=/opt/shmr/tests
shmem_kb() { awk '/^Shmem:/ { print $2 }' /proc/meminfo; }

# One TAP stream (tests/run/tap-renumber.awk): the programs' results, then the
# checks below, numbered in order under one plan.
suite() {
shmem0=$(shmem_kb)
# The host test scripts check the source tree, the build and installs,
# none of which the guest has: they run on the host only.
progs=
for p in "$t"/host/* "$t"/vm/*; do
	case $p in "$t"/host/*.sh) continue ;; esac
	[ -x "$p" ] && progs="$progs $p"
done
# shellcheck disable=SC2086
sh "$t/run/run-tests.sh" -t "${SHMR_TEST_TIMEOUT:-300}" -p "[$k]" $progs

sh "$t/run/vm-counters.sh" "$k"

# Shmem: the whole suite's delta is a diagnostic (the posix-backend and
# Python tests leave a few dozen kB of shmem behind that is not the
# module's: every module counter is zero at this point). The test brackets
# module-only workloads, which must give back every page they used.
sync
shmem1=$(shmem_kb)
echo "# [$k] whole suite: Shmem ${shmem0} kB -> ${shmem1} kB"
if [ -x "$t/vm/torture" ] && [ -x "$t/vm/kmod_region" ]; then
	sleep 1
	a=$(shmem_kb)
	SHMR_TORTURE_STRICT_SHMEM=1 SHMR_TORTURE_STEPS=1000 "$t/vm/torture" > /dev/null 2>&1 ||
		echo "not ok - [$k] torture on a quiet system (SHMR_TORTURE_STRICT_SHMEM)"
	"$t/vm/kmod_region" > /dev/null 2>&1
	# freed shmem inodes may go a little later (delayed fput): up to 60 s
	w=0
	while sync && b=$(shmem_kb) && [ $((b - a)) -gt 16 ] && [ $w -lt 60 ]; do
		sleep 1
		w=$((w + 1))
	done
	[ $w -gt 0 ] && echo "# [$k] Shmem: waited ${w}s for late frees"
	if [ $((b - a)) -le 16 ]; then
		echo "ok - [$k] Shmem back to its start value around module workloads (${a} kB -> ${b} kB)"
	else
		echo "not ok - [$k] Shmem back to its start value around module workloads (${a} kB -> ${b} kB)"
		ls -la /dev/shm /tmp | sed 's/^/#   /'
	fi
else
	echo "not ok - [$k] Shmem check: torture and kmod_region missing"
fi

# Unload, then load and unload again: nothing may be left behind.
for i in 1 2 3; do
	if rmmod shmr; then
		if [ -e /dev/shmr ]; then
			echo "not ok - [$k] rmmod shmr ($i) removes /dev/shmr"
		else
			echo "ok - [$k] rmmod shmr ($i)"
		fi
	else
		echo "not ok - [$k] rmmod shmr ($i)"
		break
	fi
	[ "$i" = 3 ] && break
	if insmod /opt/shmr/kmod/shmr.ko && [ -c /dev/shmr ]; then
		echo "ok - [$k] insmod shmr ($((i + 1)))"
	else
		echo "not ok - [$k] insmod shmr ($((i + 1)))"
		break
	fi
done
}
suite 2>&1 | awk -f "$t/run/tap-renumber.awk"
