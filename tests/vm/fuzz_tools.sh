#!/bin/sh
# fuzz_tools: trinity aimed at /dev/shmr (ioctl, mmap, mremap, as an
# unprivileged user) and stress-ng's dev and memfd stressors, then the
# module's *_live counters must be back at their start values (the runner
# checks the kernel log). The binaries come from the host: `make torture`
# (or `tests/run/shmr-vm --add /usr/bin/trinity --add /usr/bin/stress-ng`)
# puts them in /host; absent, each part is skipped with a reason. Prints TAP.
#   SHMR_FUZZ_SECONDS  seconds per tool (default 20)
secs=${SHMR_FUZZ_SECONDS:-20}
ctr=/sys/kernel/debug/shmr/counters
echo "1..3"
find_bin() {
	for d in /host /opt/shmr/bin /usr/bin /bin; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}
live() { awk '$1 ~ /_live$/ { printf "%s=%s ", $1, $2 }' "$ctr"; }
if [ ! -e /dev/shmr ]; then
	for i in 1 2 3; do echo "ok $i - fuzz_tools # SKIP /dev/shmr absent (module not loaded)"; done
	exit 0
fi
before=$(live)
tmp=${TMPDIR:-/tmp}/fuzz_tools.$$
mkdir -p "$tmp" && chmod 777 "$tmp"

if tr=$(find_bin trinity); then
	# unprivileged: trinity -X (--dropprivs) switches its children to nobody
	grep -q '^nobody:' /etc/passwd 2>/dev/null ||
		echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd
	grep -q '^nogroup:' /etc/group 2>/dev/null ||
		echo 'nogroup:x:65534:' >>/etc/group
	(cd "$tmp" && timeout -s KILL $((secs + 90)) \
		"$tr" -X -q --disable-fds=sockets,perf,drm -l off -V /dev/shmr -c ioctl -c mmap -c mremap \
		-C 2 -N 200000 >"$tmp/trinity.log" 2>&1 &
	 # its set-up (a 10 s warning for -X, fd generation) is slow under
	 # TCG: the fuzzing time starts after it
	 pid=$!; sleep $((secs + 30)); kill -INT $pid 2>/dev/null
	 # trinity stops its children and prints its totals: give it time
	 i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 40 ]; do sleep 1; i=$((i + 1)); done
	 pkill_list=$(ps -o pid,comm 2>/dev/null | awk '$2 ~ /trinity/ { print $1 }')
	 [ -n "$pkill_list" ] && kill -KILL $pkill_list 2>/dev/null
	 wait $pid) 
	# the out-of-tree module taints the kernel (O) before trinity starts:
	# only a new taint counts (the runner checks the log for oopses too)
	if grep -q -i "became tainted" "$tmp/trinity.log"; then
		echo "not ok 1 - trinity on /dev/shmr (ioctl mmap mremap): kernel tainted"
		sed 's/^/#   /' "$tmp/trinity.log" | tail -20
	elif ! grep -q "Ran [0-9]* syscalls" "$tmp/trinity.log"; then
		echo "not ok 1 - trinity on /dev/shmr: it did not run"
		tail -20 "$tmp/trinity.log" | sed 's/^/#   /'
	else
		echo "ok 1 - trinity on /dev/shmr (ioctl mmap mremap), ${secs}s, children as nobody (-X)"
		grep -i -E "taint|Ran [0-9]* syscalls" "$tmp/trinity.log" | tail -4 | sed 's/^/#   /'
	fi
else
	echo "ok 1 - trinity # SKIP trinity absent in the guest (make torture adds it)"
fi

if sn=$(find_bin stress-ng); then
	if "$sn" --dev 2 --dev-file /dev/shmr --memfd 2 --timeout "${secs}s" \
		--temp-path "$tmp" --metrics-brief >"$tmp/stress.log" 2>&1; then
		echo "ok 2 - stress-ng --dev (/dev/shmr) --memfd, ${secs}s"
	else
		echo "not ok 2 - stress-ng --dev (/dev/shmr) --memfd, ${secs}s"
	fi
	tail -5 "$tmp/stress.log" | sed 's/^/#   /'
else
	echo "ok 2 - stress-ng # SKIP stress-ng absent in the guest (make torture adds it)"
fi

sleep 1
after=$(live)
if [ "$before" = "$after" ]; then
	echo "ok 3 - module counters back to their start values"
else
	echo "not ok 3 - module counters back to their start values: $before -> $after"
fi
rm -rf "$tmp"
