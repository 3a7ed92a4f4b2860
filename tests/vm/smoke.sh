#!/bin/sh
# Smoke test: shmr.ko is loaded and /dev/shmr is a world-usable misc device.
n=0
t() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
echo "1..5"
if [ ! -e /dev/shmr ]; then
	for i in 1 2 3 4 5; do echo "ok $i - smoke # SKIP /dev/shmr absent (module not loaded)"; done
	exit 0
fi
t "module listed in /proc/modules" "grep -q '^shmr ' /proc/modules"
t "/dev/shmr is a character device" "[ -c /dev/shmr ]"
t "/dev/shmr has mode 0666" "[ \"\$(stat -c %a /dev/shmr)\" = 666 ]"
t "/dev/shmr is a misc device (major 10)" "[ \"\$(stat -c %t /dev/shmr)\" = a ]"
t "debugfs counters are readable" "grep -q '^regions_live ' /sys/kernel/debug/shmr/counters"
