#!/bin/sh
# tests/run/shmr-vm runs a host-built program in the guest and returns its exit
# status; a kernel panic and a hang are reported as VM failures.
top=$(cd "$(dirname "$0")/../../.." && pwd)
vm=$top/tests/run/shmr-vm
echo "1..6"
if [ ! -x "$vm" ] || ! command -v qemu-system-x86_64 >/dev/null || ! command -v cc >/dev/null; then
	for i in 1 2 3 4 5 6; do echo "ok $i - shmr-vm # SKIP needs the source tree, qemu and cc (not in the VM)"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	printf("guest says %s, /dev/shmr %s\n", argc > 1 ? argv[1] : "-",
	       access("/dev/shmr", F_OK) ? "absent" : "present");
	return argc > 1 ? atoi(argv[1]) : 0;
}
C
cc -O2 -o "$tmp/prog" "$tmp/prog.c" || { echo "Bail out! cannot compile"; exit 1; }

out=$("$vm" --add "$tmp/prog" -- /host/prog 0 2>&1); rc=$?
[ $rc = 0 ] && echo "ok 1 - exit status 0 comes back" || echo "not ok 1 - exit status 0 comes back (got $rc)"
case "$out" in
*"guest says 0, /dev/shmr present"*) echo "ok 2 - program output printed, /dev/shmr present in the guest" ;;
*) echo "not ok 2 - program output printed"; echo "$out" | sed 's/^/# /' ;;
esac
"$vm" --add "$tmp/prog" -- /host/prog 42 >/dev/null 2>&1; rc=$?
[ $rc = 42 ] && echo "ok 3 - exit status 42 comes back" || echo "not ok 3 - exit status 42 comes back (got $rc)"
"$vm" --kernel 6.12 --add "$tmp/prog" -- /host/prog 3 >/dev/null 2>&1; rc=$?
[ $rc = 3 ] && echo "ok 4 - --kernel 6.12: exit status 3 comes back" || echo "not ok 4 - --kernel 6.12 (got $rc)"
out=$("$vm" -- sh -c 'echo c > /proc/sysrq-trigger; sleep 30' 2>&1); rc=$?
case "$rc:$out" in
125:*"kernel panic"*) echo "ok 5 - a kernel panic is a VM failure (125) with a message" ;;
*) echo "not ok 5 - a kernel panic is a VM failure (got $rc)"; echo "$out" | tail -5 | sed 's/^/# /' ;;
esac
out=$("$vm" --timeout 20 -- sleep 600 2>&1); rc=$?
case "$rc:$out" in
124:*"timed out"*) echo "ok 6 - a hang times out (124) with a message" ;;
*) echo "not ok 6 - a hang times out (got $rc)"; echo "$out" | tail -5 | sed 's/^/# /' ;;
esac
