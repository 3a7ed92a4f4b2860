#!/bin/sh
# The demo scenario, run inside the VM by tools/demo.sh.
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }

say "shmr.ko is loaded on $(uname -r) and /dev/shmr exists"
run grep '^shmr ' /proc/modules
run ls -l /dev/shmr
run cat /sys/kernel/debug/shmr/counters

if [ -f /host/demo-lib.sh ]; then
	sh /host/demo-lib.sh || exit 1
fi

say "nothing is left: every counter is back to zero"
run cat /sys/kernel/debug/shmr/counters

say "the module unloads and /dev/shmr goes away"
run rmmod shmr || exit 1
if [ -e /dev/shmr ]; then echo "/dev/shmr is still there"; exit 1; fi
echo "/dev/shmr: gone"
