#!/bin/bash
# Check for the Debian packages shmr needs to build and test; install the
# missing ones when run as root, else print the command that would.
#
#   tools/deps.sh [--check] [GROUP...]    groups: build vm python bench fuzz torture debug
#                                          (default: all but debug)
#
# --check only reports (exit 1 when something is missing).
set -euo pipefail

declare -A group
group[build]="build-essential kmod cpio xz-utils linux-source-6.1 liburing-dev pkg-config
	linux-headers-amd64 linux-headers-6.12-amd64 linux-headers-6.12-rt-amd64"
group[vm]="qemu-system-x86 busybox-static linux-image-amd64 linux-image-6.12-amd64
	linux-image-6.12-rt-amd64"
group[python]="python3 python3-dev python3-pytest python3-numpy"
group[bench]="gnuplot-nox valgrind"
group[torture]="trinity stress-ng"
# libFuzzer harnesses (tests/fuzz)
group[fuzz]="clang libclang-rt-14-dev"
# make check-debug: building a debug kernel from linux-source-6.1
group[debug]="flex bison libelf-dev bc libssl-dev dwarves rsync"

check_only=0
groups=()
for a in "$@"; do
	case "$a" in
	--check) check_only=1 ;;
	build|vm|python|bench|fuzz|torture|debug) groups+=("$a") ;;
	*) echo "deps.sh: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
[ ${#groups[@]} -gt 0 ] || groups=(build vm python bench fuzz torture)

want=()
for g in "${groups[@]}"; do
	for p in ${group[$g]}; do want+=("$p"); done
done

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$check_only" = 1 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root: $cmd" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
# Generating an initramfs per kernel image is slow and shmr's VM does not
# use them: skip it while we install.
export INITRD=No
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
