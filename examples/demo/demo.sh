#!/bin/sh
# `make demo`, run inside the VM (tests/run/shmr-vm --add examples/demo/demo.sh):
# shmr.ko loaded, two processes sharing a named region, shmrctl list/who
# while they run, the region gone after the last exits, a process leaking a
# region and a lock with its leak report, `shmrctl leaks` naming a worker
# killed while attached, every counter back at zero and the module
# unloaded. Helper programs: /opt/shmr/bin/shmr-demo (examples/demo/shmr-demo.c).
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ $*"; "$@"; }
ctr=/sys/kernel/debug/shmr/counters
live() { grep -E '^(regions_live|handles_live|mappings_live|attach_live) ' "$ctr" | tr '\n' ' '; echo; }

say "shmr.ko is loaded on $(uname -r) and /dev/shmr exists"
run grep '^shmr ' /proc/modules
run ls -l /dev/shmr
run cat "$ctr"

say "two processes share the named region 'jobs': the writer creates it (process-lifetime), the reader opens it read-only"
shmr-demo writer jobs 3 &
wpid=$!
shmr-demo reader jobs 5 &
rpid=$!
sleep 1

say "shmrctl list while they run"
run shmrctl list
say "shmrctl who jobs: who is attached, since when"
run shmrctl who jobs

wait "$wpid"
say "the writer exited: its process-lifetime region lost its name; the reader keeps the memory alive"
sleep 1
run shmrctl list

wait "$rpid"
say "the reader exited too: the region is gone"
run shmrctl list
echo "counters: $(live)"

say "a process that leaks a region and a lock: the report at exit (SHMR_LEAK=warn, the default)"
run shmr-demo leaker leaky
echo "exit status $?"
say "the same with SHMR_LEAK=fatal: the report and a non-zero exit status"
echo "\$ SHMR_LEAK=fatal shmr-demo leaker leaky2"
SHMR_LEAK=fatal shmr-demo leaker leaky2
echo "exit status $? (SHMR_LEAK_EXIT_CODE)"

say "a worker attached to region 'pool' is killed with SIGKILL"
run shmrctl create pool 64K --excl
shmr-demo worker pool &
kpid=$!
sleep 1
run shmrctl who pool
echo "\$ kill -KILL $kpid"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null

say "shmrctl leaks: what only the kernel can know (processes that died attached)"
run shmrctl leaks
if shmrctl leaks | awk -v p="$kpid" '$2 == p && $4 == "killed:SIGKILL" { f = 1 } END { exit !f }'; then
	echo "worker $kpid is listed as killed by SIGKILL while attached to pool"
else
	echo "demo: worker $kpid missing from shmrctl leaks" >&2
	exit 1
fi
run shmrctl unlink pool
sleep 1
echo "counters: $(live)"

say "nothing is left: every counter is back to zero"
run cat "$ctr"

say "the module unloads and /dev/shmr goes away"
run rmmod shmr || exit 1
if [ -e /dev/shmr ]; then echo "/dev/shmr is still there"; exit 1; fi
echo "/dev/shmr: gone"
