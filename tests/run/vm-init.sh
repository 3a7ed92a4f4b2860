#!/bin/sh
# /init of the shmr test VM (busybox). Mounts the usual file systems, loads
# shmr.ko, runs the command tests/run/shmr-vm wrote to /etc/shmr-vm/cmd, reports
# its exit status and the kernel log between markers, and powers off.
PATH=/opt/shmr/bin:/bin:/sbin:/usr/bin:/usr/sbin
LD_LIBRARY_PATH=/opt/shmr/lib
HOME=/root
TMPDIR=/tmp
export PATH LD_LIBRARY_PATH HOME TMPDIR

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up 2>/dev/null
hostname shmr-vm

. /etc/shmr-vm/env

finish() {
	echo "SHMR-VM-$NONCE-DMESG-BEGIN"
	dmesg
	echo "SHMR-VM-$NONCE-DMESG-END"
	sync
	poweroff -f
	sleep 10
}

if [ "$SHMR_VM_NO_MODULE" != 1 ]; then
	# shellcheck disable=SC2086
	if ! insmod /opt/shmr/kmod/shmr.ko $SHMR_VM_MODPARAMS; then
		echo "SHMR-VM-$NONCE-INSMOD-FAILED"
		finish
	fi
	if [ ! -c /dev/shmr ]; then
		echo "SHMR-VM-$NONCE-NODEV"
		finish
	fi
fi

cd /host 2>/dev/null || cd /root
echo "SHMR-VM-$NONCE-BEGIN"
sh /etc/shmr-vm/cmd < /dev/null
echo "SHMR-VM-$NONCE-EXIT=$?"
finish
