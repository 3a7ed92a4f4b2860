#!/bin/bash
# Check for the Debian packages shmr needs to build and test; install the
# missing ones when run as root, else print the command that would.
#
#   scripts/deps.sh [--check] [GROUP...]    groups: build vm python bench fuzz torture package
#                                          debug (default: all but debug)
#
# --check only reports (exit 1 when something is missing).
set -euo pipefail

declare -A group
# Kernel headers (build) and images (vm) of the Debian 12 kernels in
# scripts/kver's table are added below; the 7.x ones live in the chroot that
# debootstrap makes (scripts/kchroot.sh).
group[build]="build-essential kmod cpio xz-utils linux-source-6.1 liburing-dev pkg-config perl man-db
	debootstrap python3-dev"
group[vm]="qemu-system-x86 busybox-static"
group[python]="python3 python3-dev python3-pytest python3-numpy
	python3-venv python3-setuptools-whl python3-wheel-whl"
group[bench]="gnuplot-nox valgrind"
group[torture]="trinity stress-ng"
# libFuzzer harnesses (tests/fuzz)
group[fuzz]="clang libclang-rt-14-dev"
# make deb (debian/) and make check-packages (tests/run/check-packages.sh)
group[package]="debhelper dh-dkms dh-python dpkg-dev fakeroot lintian dkms python3-all-dev
	python3-setuptools python3-build pybuild-plugin-pyproject debootstrap"
# make check-debug: building a debug kernel from linux-source-6.1
group[debug]="flex bison libelf-dev bc libssl-dev dwarves rsync"

check_only=0
groups=()
for a in "$@"; do
	case "$a" in
	--check) check_only=1 ;;
	build|vm|python|bench|fuzz|torture|package|debug) groups+=("$a") ;;
	*) echo "deps.sh: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
[ ${#groups[@]} -gt 0 ] || groups=(build vm python bench fuzz torture package)

want=()
for g in "${groups[@]}"; do
	for p in ${group[$g]}; do want+=("$p"); done
done

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

# The Debian 12 kernels: headers for build, images for vm, of one release
# per series (the newest in the archive when neither is installed yet).
kver=$(dirname "$0")/kver
kernels=()
for s in $("$kver" --table | awk '$2 == "bookworm" { print $1 }'); do
	for g in "${groups[@]}"; do
		case $g in
		build) "$kver" "$s" >/dev/null 2>&1 || kernels+=("headers:$s") ;;
		vm) "$kver" --image "$s" >/dev/null 2>&1 || kernels+=("image:$s") ;;
		esac
	done
done

[ ${#missing[@]} -eq 0 ] && [ ${#kernels[@]} -eq 0 ] && exit 0
if [ "$check_only" = 1 ] || [ "$(id -u)" != 0 ]; then
	for k in "${kernels[@]}"; do missing+=("(kernel ${k%%:*} for ${k#*:})"); done
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	[ "$check_only" = 1 ] || echo "deps.sh: run as root: $0 ${groups[*]}" >&2
	exit 1
fi
# Generating an initramfs per kernel image is slow and shmr's VM does not
# use them: skip it while we install.
export INITRD=No
apt-get update -q >&2
for k in "${kernels[@]}"; do
	kind=${k%%:*} s=${k#*:}
	# An image goes with the installed headers' release, and vice versa.
	if [ "$kind" = image ]; then
		rel=$("$kver" "$s" 2>/dev/null) || rel=
	else
		rel=$("$kver" --image "$s" 2>/dev/null) || rel=
	fi
	# The newest release with both packages: the archive can publish a
	# release's headers before its signed image.
	if [ -z "$rel" ]; then
		images=$(apt-cache pkgnames linux-image-)
		for r in $(apt-cache pkgnames linux-headers- | sed 's/^linux-headers-//' |
			grep -E "^($("$kver" --pattern "$s"))\$" | sort -rV); do
			grep -qxF "linux-image-$r" <<<"$images" && { rel=$r; break; }
		done
	fi
	[ -n "$rel" ] || { echo "deps.sh: no kernel $kind package for $s in the archive" >&2; exit 1; }
	missing+=("linux-$kind-$rel")
done
echo "deps.sh: installing ${missing[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
