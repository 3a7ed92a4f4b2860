#!/bin/sh
# DKMS builds the module from what `make install-dkms` installs (the tree
# the Debian package shmr-dkms ships) for each kernel of scripts/kver, and
# modinfo shows VERSION: the Debian 12 kernels with this machine's dkms, the
# 7.x ones with Debian 13's dkms in the chroot that holds their headers
# (scripts/kchroot.sh; skipped when it has not been made). Only `dkms add`
# and `dkms build`, in private DKMS trees: nothing is installed or loaded,
# no /var/lib/dkms is touched and no signing key is made. Host only.
# Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)

TAP_WHAT="dkms build"
. "$here/../tap.sh"
[ -f "$top/dkms.conf" ] && [ -f "$top/VERSION" ] && [ -x "$top/scripts/kver" ] ||
	skip_all "no source tree here ($top)"
command -v dkms >/dev/null 2>&1 || skip_all "dkms is not installed (scripts/deps.sh package)"
[ "$(id -u)" = 0 ] || skip_all "dkms wants root"

# Under the tree: the chroot sees it at the same path.
mkdir -p "$top/build"
tap_tmpdir "$top/build"
ver=$(cat "$top/VERSION")
src=$tmp/src
# An empty sign_file would make dkms sign with a key it creates in /var/lib/dkms.
sign_file=/nonexistent
export sign_file

check "make install-dkms into a private source tree" \
	make -C "$top" --no-print-directory install-dkms DESTDIR="$src" DKMS_SRCDIR=/shmr-"$ver"

# dkms as it runs where the kernel's headers are: here, or in the chroot
# (where sign_file is passed through env, as the chroot's env is clean).
dkms_in() {
	where=$1
	shift
	if [ "$where" = host ]; then
		dkms "$@"
	else
		"$top/scripts/kchroot.sh" --run env sign_file=/nonexistent dkms "$@"
	fi
}

added=
"$top/scripts/kver" --table | while read -r k suite _ _; do
	where=host
	[ "$suite" = bookworm ] || where=chroot
	if [ "$where" = chroot ] && [ ! -d "$("$top/scripts/kchroot.sh" --dir)" ]; then
		n=$((n + 1))
		echo "ok $n - dkms build for $k # SKIP no Debian 13 chroot yet (scripts/kchroot.sh --ensure)"
		continue
	fi
	if ! rel=$("$top/scripts/kver" "$k" 2>/dev/null); then
		n=$((n + 1))
		echo "ok $n - dkms build for $k # SKIP no headers for $k here"
		continue
	fi
	tree=$tmp/dkms-$where
	case " $added " in
	*" $where "*) ;;
	*)
		mkdir -p "$tree"
		check "dkms add shmr/$ver ($where)" dkms_in "$where" add -m shmr -v "$ver" \
			--sourcetree "$src" --dkmstree "$tree"
		added="$added $where" ;;
	esac
	check "dkms build for $rel ($k, $where)" dkms_in "$where" build -m shmr -v "$ver" -k "$rel" \
		--sourcetree "$src" --dkmstree "$tree"
	ko=$(ls "$tree/shmr/$ver/$rel"/*/module/shmr.ko* 2>/dev/null | head -n 1)
	check "modinfo of the module built for $rel shows version $ver" \
		test "$(modinfo -F version "${ko:-/nonexistent}")" = "$ver"
	check "its vermagic is $rel" sh -c "modinfo -F vermagic '${ko:-/nonexistent}' | grep -q '^$rel '"
	echo "$n $fails" > "$tmp/count"
done
read -r n fails < "$tmp/count" 2>/dev/null || true

tap_done
