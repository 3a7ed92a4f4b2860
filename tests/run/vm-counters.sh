#!/bin/sh
# Inside the guest: print one TAP line, whether every *_live counter of the
# module is back at zero. A dead creator's name goes from a work item, a
# dead IPC namespace's on the module's next poll: late frees get up to 60 s.
#
#   sh vm-counters.sh LABEL      (LABEL: the kernel or the boot, e.g. 6.1)
k=${1:?usage: vm-counters.sh LABEL}
ctr=/sys/kernel/debug/shmr/counters

# the *_live counters that are not zero, as "name=value "
nonzero_live() { awk '$1 ~ /_live$/ && $2 != 0 { printf "%s=%s ", $1, $2 }' "$ctr"; }

if [ ! -r "$ctr" ]; then
	echo "not ok - [$k] module counters readable at $ctr"
	exit 1
fi
w=0
while nz=$(nonzero_live) && [ -n "$nz" ] && [ $w -lt 60 ]; do
	sleep 1
	w=$((w + 1))
done
[ $w -gt 0 ] && echo "# [$k] module counters: waited ${w}s for late frees"
if [ -n "$nz" ]; then
	echo "not ok - [$k] module counters back to zero: $nz"
	sed 's/^/#   /' "$ctr"
	exit 1
fi
echo "ok - [$k] module counters back to zero"
