#!/bin/bash
# make check-packages: shmr installed the ways a user installs it, each on a
# fresh Debian 12 system (a debootstrap chroot), never on this machine.
#
#   1. The packages of `make deb`, installed with apt: DKMS builds shmr.ko
#      for the chroot's 6.1 headers (the release the test VM boots), a C
#      program builds with `pkg-config --cflags --libs shmr` and runs
#      (posix backend, shared and static), python3-shmr imports and works,
#      shmrctl --version answers; then a purge leaves nothing behind. The
#      module DKMS built is then loaded in the VM (tests/run/shmr-vm --module)
#      and passes the smoke tests, with the packaged shmrctl beside it.
#   2. `make demo`, the README's first command, in a Debian 12 with only
#      git, make and build-essential installed (it installs the rest
#      itself, boots the VM under qemu inside the chroot).
#
#   tests/run/check-packages.sh [--no-build] [--no-demo] [--demo-only]
#
# Prints TAP and ends with "N passed, N failed, N skipped". Logs in
# build/check-packages/. The chroots are made once and cached outside the
# tree in $SHMR_CHROOT_CACHE (default /var/cache/shmr/check-packages), each in a
# directory named by a hash of what it holds (this recipe, debootstrap's
# version, the mirror, its packages, the 6.1 headers' release); every run
# works on an overlay of the cached one, so each starts from the same
# fresh system and leaves it untouched. Downloaded .debs are kept in
# $SHMR_CHROOT_CACHE/apt-archives for the next run. Needs root, network
# access to the Debian archive, debootstrap and overlayfs.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

recipe=1
cache=${SHMR_CHROOT_CACHE:-/var/cache/shmr/check-packages}
mirror=${SHMR_MIRROR:-http://deb.debian.org/debian}
security=${SHMR_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
do_build=1 do_packages=1 do_demo=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-build) do_build=0 ;;
	--no-demo) do_demo=0 ;;
	--demo-only) do_packages=0 do_build=0 ;;
	*) echo "check-packages.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

out=$top/build/check-packages
mkdir -p "$out"
# shellcheck source=tests/run/tap-lib.sh
. tests/run/tap-lib.sh
tap_start "$out/check-packages.log" "$out/tap.raw"
echo "# shmr make check-packages: $(date -u '+%F %T') UTC"
start=$(date +%s)

[ "$(id -u)" = 0 ] || { result "not ok - running as root (chroot, mount)"; finish; exit 1; }
ver=$(scripts/version.sh) || { result "not ok - VERSION readable"; finish; exit 1; }
krel=$(scripts/kver 6.1) || { result "not ok - 6.1 headers installed here (make deps)"; finish; exit 1; }
kimg=$(scripts/kver --image 6.1) || { result "not ok - 6.1 kernel image installed here (make deps)"; finish; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/shmr-chroot.XXXXXX")
mounts=()
# Unmount everything this script mounted (newest first), then delete the
# overlays, but only when nothing is mounted below them any more (the apt
# archive is a bind mount of the cache).
leave() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null
	done
	mounts=()
	if grep -qF " $work/" /proc/self/mountinfo; then
		echo "# check-packages: something is still mounted under $work: not deleting it" >&2
		return 1
	fi
	find "$work" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
}
trap 'leave && rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

domount() {
	mount "$@" && mounts+=("${!#}")
}

# base_chroot NAME PACKAGE...: print the cached chroot holding PACKAGE...
# (debootstrap minbase plus them), making it first if needed.
base_chroot() {
	local name=$1 key dir log t0
	shift
	key=$({
		echo "recipe $recipe $suite $mirror $security"
		dpkg-query -W -f='${Version}\n' debootstrap
		echo "$*"
	} | sha256sum | cut -c1-16)
	dir=$cache/$name-$key
	mkdir -p "$cache"
	# One maker at a time; the others wait and then find it made.
	exec 9> "$cache/.lock"
	flock 9
	if [ -f "$dir/.shmr-done" ]; then
		echo "$dir"
		return 0
	fi
	log=$out/chroot-$name.log
	echo "# making the $name chroot in $dir (log: $log)" >&2
	t0=$(date +%s)
	rm -rf "$dir"
	{
		debootstrap --variant=minbase "$suite" "$dir" "$mirror" &&
		cat > "$dir/etc/apt/sources.list" <<-SOURCES &&
			deb $mirror $suite main
			deb $mirror $suite-updates main
			deb $security $suite-security main
		SOURCES
		printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d" &&
		chmod 755 "$dir/usr/sbin/policy-rc.d" &&
		cp /etc/resolv.conf "$dir/etc/resolv.conf" &&
		chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $* && apt-get clean"
	} > "$log" 2>&1 || {
		tail -n 20 "$log" >&2
		echo "# (a package no longer in the archive? the 6.1 headers must be the archive's" \
			"current ones, as make deps installs them)" >&2
		return 1
	}
	touch "$dir/.shmr-done"
	# Older chroots of this name were for another recipe or kernel.
	find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$name-*" ! -path "$dir" -exec rm -rf {} +
	echo "# the $name chroot took $(( $(date +%s) - t0 ))s and holds $(du -sh "$dir" | cut -f1)" >&2
	echo "$dir"
}

# enter NAME BASE: an overlay of BASE at $work/NAME/root with /proc, a
# small /dev (no host device nodes but null, zero, full, random, urandom,
# tty), /dev/shm and the shared apt archive; sets root to it.
enter() {
	local name=$1 base=$2 r=$work/$1
	mkdir -p "$r/upper" "$r/work" "$r/root" "$cache/apt-archives/partial"
	domount -t overlay overlay -o "lowerdir=$base,upperdir=$r/upper,workdir=$r/work" "$r/root" || return 1
	r=$r/root
	domount -t proc proc "$r/proc" || return 1
	domount -t tmpfs -o mode=755,size=16m devtmp "$r/dev" || return 1
	mknod -m 666 "$r/dev/null" c 1 3 && mknod -m 666 "$r/dev/zero" c 1 5 &&
		mknod -m 666 "$r/dev/full" c 1 7 && mknod -m 666 "$r/dev/random" c 1 8 &&
		mknod -m 666 "$r/dev/urandom" c 1 9 && mknod -m 666 "$r/dev/tty" c 5 0 || return 1
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mkdir -p "$r/dev/shm" "$r/dev/pts"
	domount -t tmpfs -o mode=1777 shm "$r/dev/shm" || return 1
	domount --bind "$cache/apt-archives" "$r/var/cache/apt/archives" || return 1
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	root=$r
}

# run_in ROOT COMMAND: run COMMAND with sh -c in the chroot, a clean environment.
run_in() {
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive TERM=dumb sh -c "$*"
}

# check DESCRIPTION COMMAND...: one TAP result, the command's output
# indented as a comment when it fails.
check() {
	local desc=$1
	shift
	if "$@" > "$work/out" 2>&1; then
		result "ok - $desc"
	else
		sed 's/^/#   /' "$work/out" | tail -n 25
		result "not ok - $desc"
		return 1
	fi
}

# ---- 1. the Debian packages ---------------------------------------------
packages_test() {
	local t0 base r debs d ko
	if [ "$do_build" = 1 ]; then
		check "make deb (log: build/deb/build.log)" scripts/build-deb.sh || return 1
	fi
	debs=()
	for d in shmr-dkms libshmr1 libshmr-dev shmr-tools python3-shmr; do
		debs+=("$(ls build/deb/"${d}"_"$ver"-*.deb 2>/dev/null | head -n 1)")
	done
	check "the five packages of version $ver are in build/deb" \
		sh -c "for f in ${debs[*]}; do test -f \"\$f\" || { echo \"missing: \$f\"; exit 1; }; done" || return 1

	t0=$(date +%s)
	base=$(base_chroot packages build-essential pkg-config "linux-headers-$krel")
	check "Debian 12 chroot with build-essential, pkg-config, linux-headers-$krel (cached)" test -n "$base" ||
		return 1
	enter packages "$base" || { result "not ok - chroot set up (overlay, /proc, /dev)"; return 1; }
	r=$root
	echo "# packages chroot ready after $(( $(date +%s) - t0 ))s"
	mkdir -p "$r/tmp/debs"
	cp "${debs[@]}" "$r/tmp/debs/"

	check "apt-get install the five packages (their dependencies from the archive)" \
		run_in "$r" "apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/debs/*.deb" ||
		return 1
	check "dkms status: shmr/$ver installed for $krel" \
		run_in "$r" "dkms status shmr | tee /dev/stderr | grep -q '^shmr/$ver, $krel, x86_64: installed'"
	ko=$(run_in "$r" "ls /lib/modules/$krel/updates/dkms/shmr.ko* 2>/dev/null" | head -n 1)
	check "DKMS installed shmr.ko for $krel (${ko:-none})" test -n "$ko"
	check "modinfo shows version $ver and vermagic $krel" run_in "$r" \
		"modinfo -F version $ko | grep -qx '$ver' && modinfo -F vermagic $ko | grep -q '^$krel '"
	check "/dev/shmr's udev rule is installed" test -f "$r/lib/udev/rules.d/60-shmr.rules"
	check "/usr/src/shmr-$ver holds only the module's sources" run_in "$r" \
		"cd /usr/src/shmr-$ver && ! find . -type f | grep -v -e '^./kmod/' -e '^./include/uapi/linux/shmr.h\$' \
			-e '^./dkms.conf\$' -e '^./VERSION\$'"
	# The module goes to the VM; a compressed one is unpacked for insmod.
	rm -f "$out/shmr.ko"
	case "$ko" in
	*.xz) xz -dc "$r$ko" > "$out/shmr.ko" ;;
	*.zst) zstd -qdc "$r$ko" > "$out/shmr.ko" ;;
	?*) cp "$r$ko" "$out/shmr.ko" ;;
	esac
	cp "$r/usr/bin/shmrctl" "$out/shmrctl" 2>/dev/null

	cat > "$r/tmp/prog.c" <<-'PROG'
		#include <shmr.h>
		#include <stdio.h>
		#include <string.h>

		int main(void)
		{
			struct shmr_region *r;
			char *p;

			if (shmr_region_create(&SHMR_REGION_OPTS(.name = "pkgtest", .size = 4096,
								   .mode = 0600), &r) ||
			    shmr_region_map(r, (void **)&p))
				return 1;
			strcpy(p, "installed");
			printf("%s %s %s\n", p, shmr_backend_name(), shmr_version());
			shmr_region_unmap(p);
			shmr_region_close(r);
			return shmr_region_unlink("pkgtest") ? 1 : 0;
		}
	PROG
	check "cc prog.c \$(pkg-config --cflags --libs shmr): builds, links libshmr.so.1" run_in "$r" \
		"cd /tmp && cc -Wall -Werror -o prog prog.c \$(pkg-config --cflags --libs shmr) &&
		 readelf -d prog | grep -q 'NEEDED.*libshmr.so.1'"
	check "it runs on the posix backend: 'installed posix $ver'" run_in "$r" \
		"cd /tmp && SHMR_BACKEND=posix SHMR_LEAK=fatal ./prog | tee /dev/stderr | grep -qx 'installed posix $ver'"
	check "the static link (pkg-config --static, libshmr.a) runs too" run_in "$r" \
		"cd /tmp && cc -o prog-static prog.c \$(pkg-config --cflags shmr) /usr/lib/x86_64-linux-gnu/libshmr.a \
			\$(pkg-config --libs --static shmr | sed 's/-lshmr//') &&
		 ! readelf -d prog-static | grep -q 'NEEDED.*libshmr' &&
		 SHMR_BACKEND=posix ./prog-static | grep -qx 'installed posix $ver'"
	check "python3 -c 'import shmr': version $ver, a region on the posix backend" run_in "$r" \
		"cd /tmp && SHMR_BACKEND=posix SHMR_LEAK=fatal python3 -c \"
import shmr
assert shmr.__version__ == '$ver', shmr.__version__
m = shmr.SharedMemory(create=True, size=4096); m.buf[0] = 7; m.close(); m.unlink()
print(shmr.__version__, shmr.backend())\""
	check "shmrctl --version says $ver" run_in "$r" "shmrctl --version | tee /dev/stderr | grep -qx 'shmrctl $ver'"
	check "man pages: shmr(7), shmr_region_create(3), shmrctl(8), aliases" run_in "$r" \
		"test -f /usr/share/man/man7/shmr.7.gz && test -f /usr/share/man/man3/shmr_region_create.3.gz &&
		 test -f /usr/share/man/man8/shmrctl.8.gz && test -e /usr/share/man/man3/shmr_region_open.3.gz"

	check "apt-get purge removes them all: no module, no sources, no DKMS state, no files" run_in "$r" \
		"apt-get purge -y -q shmr-dkms libshmr1 libshmr-dev shmr-tools python3-shmr >/dev/null &&
		 ! ls /lib/modules/$krel/updates/dkms/shmr.ko* 2>/dev/null && ! test -e /usr/src/shmr-$ver &&
		 ! test -e /var/lib/dkms/shmr && ! test -e /lib/udev/rules.d/60-shmr.rules &&
		 ! ls /usr/lib/x86_64-linux-gnu/libshmr* /usr/include/shmr* /usr/bin/shmrctl 2>/dev/null &&
		 ! ls /usr/lib/python3/dist-packages/*shmr* 2>/dev/null"
	echo "# packages in the chroot took $(( $(date +%s) - t0 ))s"
	leave

	# The module DKMS built, in the VM that boots the same release.
	t0=$(date +%s)
	if [ -f "$out/shmr.ko" ]; then
		local vmlog=$out/vm-dkms.tap adds=()
		[ -f "$out/shmrctl" ] && adds=(--add "$out/shmrctl")
		tests/run/shmr-vm --kernel 6.1 --module "$out/shmr.ko" "${adds[@]}" --dmesg "$out/dmesg-dkms.txt" -- \
			sh -c "modinfo -F version /opt/shmr/kmod/shmr.ko 2>/dev/null;
				sh /opt/shmr/tests/run/run-tests.sh -p '[dkms $krel]' /opt/shmr/tests/vm/smoke.sh \
					/opt/shmr/tests/vm/kmod_region /opt/shmr/tests/vm/lib_region &&
				if [ -x /host/shmrctl ]; then
					/host/shmrctl --version && /host/shmrctl backend | grep kernel &&
					echo 'ok - [dkms $krel] the packaged shmrctl uses the module'
				fi" > "$vmlog" 2>&1
		local rc=$?
		grep -E '^(ok|not ok) ' "$vmlog" | stream
		grep -E '^# run-tests:' "$vmlog"
		if [ "$rc" = 0 ]; then
			result "ok - the DKMS-built shmr.ko loads in the $kimg VM and its tests pass"
		else
			grep -v -E '^(ok|not ok) ' "$vmlog" | tail -n 20 | sed 's/^/#   /'
			result "not ok - the DKMS-built shmr.ko loads in the $kimg VM and its tests pass (exit $rc, see $vmlog)"
		fi
	else
		result "not ok - the DKMS-built shmr.ko loads in the VM (no module came out of the chroot)"
	fi
	echo "# VM with the DKMS module took $(( $(date +%s) - t0 ))s"
}

# ---- 2. make demo on a fresh Debian 12 -----------------------------------
demo_test() {
	local t0 base r rc
	t0=$(date +%s)
	base=$(base_chroot fresh git make build-essential)
	check "Debian 12 chroot with only git, make and build-essential (cached)" test -n "$base" || return 1
	enter fresh "$base" || { result "not ok - chroot set up (overlay, /proc, /dev)"; return 1; }
	r=$root
	# The tree as it is now: the files git knows (a fresh clone of this
	# state), or all but build/ outside git.
	mkdir -p "$r/root/shmr"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -c -o --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && echo "$f"; done |
			tar -T - -cf - | tar -xf - -C "$r/root/shmr"
	else
		tar --exclude=./build -cf - . | tar -xf - -C "$r/root/shmr"
	fi
	run_in "$r" "cd /root/shmr && timeout -k 10 3600 make demo" > "$out/demo.log" 2>&1
	rc=$?
	sed -n 's/^\(deps.sh: installing\).*/# \1 .../p' "$out/demo.log" | head -n 3
	if [ "$rc" = 0 ] && grep -q '^/dev/shmr: gone' "$out/demo.log"; then
		result "ok - make demo works on a fresh Debian 12 (only git, make, build-essential)"
	else
		tail -n 30 "$out/demo.log" | sed 's/^/#   /'
		result "not ok - make demo works on a fresh Debian 12 (exit $rc, see $out/demo.log)"
	fi
	echo "# make demo on the fresh chroot took $(( $(date +%s) - t0 ))s"
	leave
}

[ "$do_packages" = 1 ] && packages_test
[ "$do_demo" = 1 ] && demo_test

echo "# make check-packages took $(( $(date +%s) - start ))s"
finish
