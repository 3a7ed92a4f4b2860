#!/bin/bash
# Build shmr.ko for one kernel series of scripts/kver, on this machine or, for
# the kernels that need it, in the chroot of scripts/kchroot.sh (created on
# first use), with the compiler that kernel was built with.
#
#   scripts/kmod-build.sh [--werror] SERIES [DIR]
#
# DIR (relative to the top of the tree) is where Kbuild runs: by default
# build/kmod/<release>/kmod, a tree of symlinks to kmod/ so that several
# kernels build side by side; "kmod" builds in the source directory.
# --werror makes warnings errors (the VM runs and CI; not users' builds).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
werror=
[ "${1:-}" = --werror ] && { werror=SHMR_WERROR=1; shift; }
series=${1:?usage: scripts/kmod-build.sh [--werror] SERIES [DIR]}
dir=${2:-}

root=$("$top/scripts/kver" --root "$series")
[ -z "$root" ] || "$top/scripts/kchroot.sh" --ensure
rel=$("$top/scripts/kver" "$series")
hdr=$("$top/scripts/kver" --headers "$series")
[ -d "$hdr" ] || { echo "kmod-build: no headers for $series at $hdr" >&2; exit 1; }

if [ -z "$dir" ]; then
	dir=build/kmod/$rel/kmod
	mkdir -p "$top/$dir"
	find "$top/$dir" -maxdepth 1 -type l -delete
	ln -sfn "$top/include" "$top/$dir/../include"
	ln -sfn "$top/VERSION" "$top/$dir/../VERSION"
	for f in "$top"/kmod/*.[ch] "$top/kmod/Kbuild"; do
		case "$f" in *.mod.c) continue ;; esac
		ln -sf "$f" "$top/$dir/"
	done
fi
if [ -n "$root" ]; then
	# The tree is mounted at the same path inside, so symlinks resolve.
	exec "$top/scripts/kchroot.sh" --run make -C "${hdr#"$root"}" M="$top/$dir" $werror modules
fi
exec make -C "$hdr" M="$top/$dir" $werror modules
