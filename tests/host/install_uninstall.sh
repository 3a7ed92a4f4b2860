#!/bin/sh
# make install / make uninstall with DESTDIR: every install target puts its
# files where the variables say (a multiarch LIBDIR included), and the
# matching uninstall removes exactly those, leaving what was there before;
# and neither they nor plain make run apt (scripts/deps.sh). Needs the source
# tree and make: host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)

TAP_WHAT="install and uninstall"
. "$here/../tap.sh"
[ -f "$top/lib/lib.mk" ] && [ -f "$top/VERSION" ] || skip_all "no source tree here ($top)"
command -v make >/dev/null 2>&1 || skip_all "no make"

tap_tmpdir
ver=$(cat "$top/VERSION")
major=${ver%%.*}
ma=x86_64-linux-gnu
command -v dpkg-architecture >/dev/null 2>&1 && ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
root=$tmp/root
vars="DESTDIR=$root PREFIX=/usr LIBDIR=/usr/lib/$ma"
all_targets="install install-udev install-modules-load install-dkms"
all_untargets="uninstall uninstall-udev uninstall-modules-load uninstall-dkms"

# What was there before must survive the uninstall.
mkdir -p "$root/usr/include" "$root/usr/lib/$ma/pkgconfig" "$root/usr/bin" "$root/usr/src"
echo other > "$root/usr/include/other.h"
echo other > "$root/usr/lib/$ma/pkgconfig/other.pc"
echo other > "$root/usr/bin/other"
(cd "$root" && find . \( -type f -o -type l \) | sort) > "$tmp/before"

# shellcheck disable=SC2086
check "make $all_targets (PREFIX=/usr, multiarch LIBDIR)" \
	make -C "$top" --no-print-directory $all_targets $vars
(cd "$root" && find . \( -type f -o -type l \) | sort) > "$tmp/after"
comm -13 "$tmp/before" "$tmp/after" > "$tmp/added"
sed 's/^/#   installed /' "$tmp/added" | grep -v '/man3/' || true

for f in usr/lib/$ma/libshmr.so.$ver usr/lib/$ma/libshmr.a usr/lib/$ma/pkgconfig/shmr.pc \
	usr/include/shmr.h usr/include/shmr/uapi.h usr/bin/shmrctl usr/share/man/man7/shmr.7 \
	usr/lib/udev/rules.d/60-shmr.rules usr/lib/modules-load.d/shmr.conf \
	usr/src/shmr-$ver/dkms.conf usr/src/shmr-$ver/VERSION usr/src/shmr-$ver/kmod/Kbuild \
	usr/src/shmr-$ver/kmod/shmr_main.c usr/src/shmr-$ver/include/uapi/linux/shmr.h; do
	check "installed $f" test -f "$root/$f"
done
check "libshmr.so.$major -> libshmr.so.$ver, libshmr.so -> libshmr.so.$major" sh -c "
	test \"\$(readlink '$root/usr/lib/$ma/libshmr.so.$major')\" = libshmr.so.$ver &&
	test \"\$(readlink '$root/usr/lib/$ma/libshmr.so')\" = libshmr.so.$major"
check "the shared library is not executable (mode 644)" \
	test "$(stat -c %a "$root/usr/lib/$ma/libshmr.so.$ver")" = 644
check "shmr.pc: libdir is the multiarch one, version $ver" sh -c "
	grep -qx 'libdir=/usr/lib/$ma' '$root/usr/lib/$ma/pkgconfig/shmr.pc' &&
	grep -qx 'Version: $ver' '$root/usr/lib/$ma/pkgconfig/shmr.pc'"
check "nothing in sbin, nothing in include/linux (linux-libc-dev's)" sh -c "
	! test -e '$root/usr/sbin' && ! test -e '$root/usr/include/linux'"
check "the DKMS tree holds only the module's sources" sh -c "
	cd '$root/usr/src/shmr-$ver' && find . -type f | sort > '$tmp/dkms' &&
	! grep -v -e '^./kmod/[a-z_]*\.[ch]$' -e '^./kmod/Kbuild$' -e '^./dkms.conf$' -e '^./VERSION$' \
		-e '^./include/uapi/linux/shmr.h$' '$tmp/dkms'"
check "the module-load snippet names shmr" grep -qx shmr "$root/usr/lib/modules-load.d/shmr.conf"
check "the udev rule matches the misc device shmr" \
	grep -q '^KERNEL=="shmr", SUBSYSTEM=="misc"' "$root/usr/lib/udev/rules.d/60-shmr.rules"

# shellcheck disable=SC2086
check "make $all_untargets (same variables)" make -C "$top" --no-print-directory $all_untargets $vars
(cd "$root" && find . \( -type f -o -type l \) | sort) > "$tmp/left"
check "uninstall removed every installed file and left the others" cmp "$tmp/before" "$tmp/left"
check "uninstall removed the directories that only shmr uses" sh -c "
	! test -e '$root/usr/include/shmr' && ! test -e '$root/usr/src/shmr-$ver'"
check "uninstall kept the directories that were there before (usr/src, empty)" test -d "$root/usr/src"
# shellcheck disable=SC2086
check "uninstalling again is harmless" make -C "$top" --no-print-directory $all_untargets $vars

# The defaults: PREFIX=/usr/local, where ld.so, pkg-config, udev and
# systemd-modules-load all look.
root2=$tmp/root2
check "make install install-udev install-modules-load (default PREFIX)" \
	make -C "$top" --no-print-directory install install-udev install-modules-load DESTDIR="$root2"
for f in usr/local/lib/libshmr.so.$ver usr/local/lib/pkgconfig/shmr.pc usr/local/include/shmr.h \
	usr/local/bin/shmrctl usr/local/lib/udev/rules.d/60-shmr.rules \
	usr/local/lib/modules-load.d/shmr.conf; do
	check "installed $f" test -f "$root2/$f"
done
check "make uninstall uninstall-udev uninstall-modules-load (default PREFIX) leaves no file" sh -c "
	make -C '$top' --no-print-directory uninstall uninstall-udev uninstall-modules-load DESTDIR='$root2' &&
	test -z \"\$(find '$root2' -type f -o -type l)\""

# shellcheck disable=SC2086
check "make, make install and make uninstall never run scripts/deps.sh (apt)" sh -c "
	make -C '$top' --no-print-directory -n all $all_targets $all_untargets $vars > '$tmp/dry' 2>&1 &&
	! grep -n 'deps.sh' '$tmp/dry'"

tap_done
