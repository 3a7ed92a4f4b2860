#!/bin/sh
# DKMS builds the module from what `make install-dkms` installs (the tree
# the Debian package shmr-dkms ships) for each supported kernel whose
# headers are here, and modinfo shows VERSION. Only `dkms add` and `dkms
# build`, in a private DKMS tree: nothing is installed or loaded, the
# system's /var/lib/dkms is not touched and no signing key is made. Host
# only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)

skip_all() {
	echo "1..1"
	echo "ok 1 - dkms build # SKIP $1"
	exit 0
}
[ -f "$top/dkms.conf" ] && [ -f "$top/VERSION" ] && [ -x "$top/tools/kver" ] ||
	skip_all "no source tree here ($top)"
command -v dkms >/dev/null 2>&1 || skip_all "dkms is not installed (tools/deps.sh package)"
[ "$(id -u)" = 0 ] || skip_all "dkms wants root"

n=0 fails=0
check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@" > "$tmp/out" 2>&1; then
		echo "ok $n - $desc"
	else
		fails=$((fails + 1))
		echo "not ok $n - $desc"
		sed 's/^/#   /' "$tmp/out" | tail -n 20
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ver=$(cat "$top/VERSION")
src=$tmp/src
tree=$tmp/dkms
mkdir -p "$tree"
# An empty sign_file would make dkms sign with a key it creates in /var/lib/dkms.
sign_file=/nonexistent
export sign_file

check "make install-dkms into a private source tree" \
	make -C "$top" --no-print-directory install-dkms DESTDIR="$src" DKMS_SRCDIR=/shmr-"$ver"
check "dkms add shmr/$ver" dkms add -m shmr -v "$ver" --sourcetree "$src" --dkmstree "$tree"

series=$(sed -n 's/^SUPPORTED_KVERS *:= *//p' "$top/Makefile")
for k in ${series:-6.1}; do
	if ! rel=$("$top/tools/kver" "$k" 2>/dev/null); then
		n=$((n + 1))
		echo "ok $n - dkms build for $k # SKIP no headers for $k here"
		continue
	fi
	check "dkms build for $rel" dkms build -m shmr -v "$ver" -k "$rel" \
		--sourcetree "$src" --dkmstree "$tree"
	ko=$(ls "$tree/shmr/$ver/$rel"/*/module/shmr.ko* 2>/dev/null | head -n 1)
	check "modinfo of the module built for $rel shows version $ver" \
		test "$(modinfo -F version "${ko:-/nonexistent}")" = "$ver"
	check "its vermagic is $rel" sh -c "modinfo -F vermagic '${ko:-/nonexistent}' | grep -q '^$rel '"
done

echo "1..$n"
[ "$fails" = 0 ]
