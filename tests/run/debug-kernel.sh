#!/bin/bash
# Build (once) and locate the debug kernel that `make check-debug` boots:
# linux-source-6.1 configured with `make defconfig kvm_guest.config
# debug.config` (KASAN, kmemleak, lockdep, DEBUG_ATOMIC_SLEEP, UBSAN,
# DEBUG_OBJECTS, DEBUG_VM, SLUB_DEBUG_ON) plus tests/run/debug-kernel.config
# (KFENCE, failslab, fail_page_alloc, PREEMPT, what the tests need).
#
# The build lives outside the repository, in $SHMR_DEBUG_CACHE (default
# /var/cache/shmr/debug-kernel), in a directory named by a hash of
# everything that shapes it: the linux-source package version, the
# compiler, the fragment and this recipe. A changed fragment is a new
# build; an unchanged one is reused.
#
#   tests/run/debug-kernel.sh --build     build if not cached, print the directory
#   tests/run/debug-kernel.sh --dir       print the build directory (1: not built)
#   tests/run/debug-kernel.sh --release   print its kernel release
#   tests/run/debug-kernel.sh --image     print its bzImage
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
recipe=1
frag=$top/tests/run/debug-kernel.config
cache=${SHMR_DEBUG_CACHE:-/var/cache/shmr/debug-kernel}
tarball=/usr/src/linux-source-6.1.tar.xz

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
key() {
	{
		echo "recipe $recipe"
		echo "linux-source-6.1 $srcver"
		${CC:-gcc} --version | head -n 1
		cat "$frag"
	} | sha256sum | cut -c1-16
}

what=${1:---dir}
case "$what" in
--build|--dir|--release|--image) ;;
*) echo "debug-kernel.sh: unknown argument '$what'" >&2; exit 2 ;;
esac
[ -n "$srcver" ] || { echo "debug-kernel.sh: linux-source-6.1 is not installed (scripts/deps.sh)" >&2; exit 1; }
dir=$cache/$(key)

if [ "$what" != --build ]; then
	[ -f "$dir/.shmr-done" ] || { echo "debug-kernel.sh: no debug kernel built for this config (make debug-kernel)" >&2; exit 1; }
	case "$what" in
	--dir) echo "$dir" ;;
	--release) cat "$dir/include/config/kernel.release" ;;
	--image) echo "$dir/arch/x86/boot/bzImage" ;;
	esac
	exit 0
fi

if [ -f "$dir/.shmr-done" ]; then
	echo "$dir"
	exit 0
fi
"$top/scripts/deps.sh" build debug >&2
src=$cache/src-$srcver
if [ ! -f "$src/.shmr-extracted" ]; then
	echo "debug-kernel.sh: extracting linux-source-6.1 $srcver to $src" >&2
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.shmr-extracted"
fi
mkdir -p "$dir"
t0=$(date +%s)
log=$dir/build.log
echo "debug-kernel.sh: building in $dir (log: $log; about 20 minutes on 2 cores)" >&2
{
	make -C "$src" O="$dir" defconfig kvm_guest.config debug.config
	"$src/scripts/kconfig/merge_config.sh" -m -O "$dir" "$dir/.config" "$frag"
	make -C "$src" O="$dir" olddefconfig
} > "$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
# Every line of the fragment must have survived olddefconfig.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}
		grep -qx "# $opt is not set" "$dir/.config" || grep -q "^$opt=n" "$dir/.config" ||
			! grep -q "^$opt=" "$dir/.config" || { echo "debug-kernel.sh: $opt is set" >&2; missing=1; } ;;
	CONFIG_*=*) grep -qxF "$line" "$dir/.config" || { echo "debug-kernel.sh: $line did not stick" >&2; missing=1; } ;;
	esac
done < "$frag"
[ "$missing" = 0 ] || exit 1
if ! make -C "$src" O="$dir" -j"$(nproc)" >> "$log" 2>&1; then
	tail -n 40 "$log" >&2
	exit 1
fi
t1=$(date +%s)
echo "built in $((t1 - t0)) s on $(nproc) CPUs, $(date -u '+%F %T') UTC" > "$dir/.shmr-done"
echo "debug-kernel.sh: $(cat "$dir/include/config/kernel.release") built in $((t1 - t0)) s" >&2
echo "$dir"
