#!/bin/bash
# The Debian 13 (trixie) chroot that holds the kernels Debian 12 cannot:
# the headers of every series scripts/kver places in trixie-backports (their
# kbuild needs trixie's libc and the gcc their kernel was built with), and
# the images of those the VM boots. Modules for them are built in here.
#
#   scripts/kchroot.sh --dir             the chroot's path (may not exist yet)
#   scripts/kchroot.sh --ensure          create it if it does not exist
#   scripts/kchroot.sh --run CMD [ARG]   run CMD in it as root, with this tree
#                                      at the same path and /proc mounted
#
# Made once with debootstrap and cached outside the tree, like the debug
# kernel: $SHMR_CHROOT_CACHE (default /var/cache/shmr/chroot)/trixie-<key>,
# where the key is a hash of what it holds (the package lists below and
# kver's trixie rows), so a changed package list or a new series is a new
# chroot (older ones are removed). The archive is the one this machine's apt uses
# ($SHMR_DEBIAN_MIRROR overrides). Needs root and debootstrap.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
prog=kchroot.sh
suite=trixie
cache=${SHMR_CHROOT_CACHE:-/var/cache/shmr/chroot}

# What goes in besides minbase: a toolchain for out-of-tree modules and
# dkms, to check that a DKMS build works where these kernels are used.
base_pkgs=gcc,make,libc6-dev,bc,bison,flex,libelf-dev,kmod,xz-utils,ca-certificates
extra_pkgs="dkms"

# Bump when create() changes what goes into the chroot.
layout=1
key=$( { echo "$layout $suite $base_pkgs $extra_pkgs"
	"$top/scripts/kver" --table | awk '$2 != "bookworm"'; } | sha256sum | cut -c1-12)
dir=$cache/$suite-$key

mirror() {
	if [ -n "${SHMR_DEBIAN_MIRROR:-}" ]; then
		echo "$SHMR_DEBIAN_MIRROR"
		return
	fi
	# The first deb.debian.org-style URI of this machine's Debian sources.
	local m
	m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian ' | head -n 1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

# Run "$@" inside the chroot in a private mount namespace: the mounts go
# away with the command, whatever happens to it.
run_in() {
	local root=$1
	shift
	unshare -m --propagation private /bin/sh -c '
		root=$1 top=$2
		shift 2
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mkdir -p "$root$top"
		mount --bind "$top" "$root$top"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No \
			"$@"' sh "$root" "$top" "$@"
}

# The newest headers package linux-headers-<release> with the release
# matching the series' pattern; for a VM series, the newest whose kernel
# image is in the archive too (headers can come out before the image).
newest_headers() {
	local root=$1 pattern=$2 use=$3 names hdr
	names=$(run_in "$root" apt-cache pkgnames linux-)
	for hdr in $(grep -E "^linux-headers-($pattern)\$" <<<"$names" | sort -rV); do
		if [ "$use" != vm ] ||
			grep -qxF -e "linux-binary-${hdr#linux-headers-}" \
				-e "linux-image-${hdr#linux-headers-}" <<<"$names"; then
			echo "$hdr"
			return
		fi
	done
}

create() {
	local tmp t0 s pattern use hdr rel img series_vm=()
	command -v debootstrap >/dev/null || { echo "$prog: debootstrap is missing (scripts/deps.sh chroot)" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "$prog: creating the chroot needs root" >&2; exit 1; }
	t0=$(date +%s)
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.new-$suite.XXXXXX")
	chmod 755 "$tmp"	# apt downloads as _apt
	trap 'rm -rf "$tmp"' EXIT
	echo "$prog: creating the $suite chroot in $dir (debootstrap, then kernel headers)" >&2
	debootstrap --variant=minbase --include="$base_pkgs" "$suite" "$tmp" "$(mirror)" \
		>"$tmp.log" 2>&1 || { tail -n 30 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
	rm -f "$tmp.log"
	# Backports and point releases, with Release files that may be past
	# Valid-Until on a mirror or snapshot.
	cat > "$tmp/etc/apt/sources.list" <<EOF
deb $(mirror) $suite main
deb $(mirror) $suite-updates main
deb $(mirror) $suite-backports main
EOF
	echo 'Acquire::Check-Valid-Until "false";' > "$tmp/etc/apt/apt.conf.d/99shmr-valid-until"
	run_in "$tmp" apt-get -q update >/dev/null
	local pkgs=($extra_pkgs)
	while read -r s _ pattern use; do
		hdr=$(newest_headers "$tmp" "$pattern" "$use")
		[ -n "$hdr" ] || { echo "$prog: no headers package for $s in $suite-backports" >&2; exit 1; }
		pkgs+=("$hdr")
		[ "$use" = vm ] && series_vm+=("${hdr#linux-headers-}")
	done < <("$top/scripts/kver" --table | awk '$2 != "bookworm"')
	run_in "$tmp" apt-get -q -y --no-install-recommends install "${pkgs[@]}" >/dev/null
	# The VM needs only the kernel image: unpack the package that holds it
	# (linux-binary-* from 7.x on) instead of installing it with its hooks.
	for rel in "${series_vm[@]}"; do
		img=linux-binary-$rel
		run_in "$tmp" apt-cache show "$img" >/dev/null 2>&1 || img=linux-image-$rel
		run_in "$tmp" sh -c "cd /tmp && apt-get -q download $img >/dev/null && dpkg-deb -x /tmp/${img}_*.deb / && rm -f /tmp/${img}_*.deb"
		[ -e "$tmp/usr/lib/modules/$rel/vmlinuz" ] || [ -e "$tmp/boot/vmlinuz-$rel" ] ||
			{ echo "$prog: $img holds no kernel image for $rel" >&2; exit 1; }
	done
	run_in "$tmp" apt-get clean
	rm -rf "${tmp:?}$top"	# the (empty) bind-mount point
	mv "$tmp" "$dir"
	trap - EXIT
	# Chroots of older keys are not used any more.
	for old in "$cache/$suite"-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
	echo "$prog: $dir ready in $(( $(date +%s) - t0 )) s, $(du -sh "$dir" | cut -f1)" >&2
}

case "${1:-}" in
--dir) echo "$dir" ;;
--ensure)
	[ -d "$dir" ] && exit 0
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	[ -d "$dir" ] || create ;;
--run)
	shift
	[ $# -gt 0 ] || { echo "usage: $prog --run CMD [ARG...]" >&2; exit 2; }
	[ -d "$dir" ] || { echo "$prog: no chroot at $dir (scripts/kchroot.sh --ensure)" >&2; exit 1; }
	run_in "$dir" "$@" ;;
*) echo "usage: $prog --dir | --ensure | --run CMD [ARG...]" >&2; exit 2 ;;
esac
