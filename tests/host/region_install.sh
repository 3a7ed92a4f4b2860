#!/bin/sh
# `make install DESTDIR=$tmp PREFIX=/usr` installs a usable tree: a program
# built with pkg-config against it (shared and static) runs, finds the
# headers, the SONAME links and the man pages. Needs a compiler and the
# source tree: host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)

TAP_WHAT="install tree"
. "$here/../tap.sh"
[ -f "$top/lib/lib.mk" ] && [ -f "$top/Makefile" ] || skip_all "no source tree here ($top)"
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"
command -v make >/dev/null 2>&1 || skip_all "no make"
command -v pkg-config >/dev/null 2>&1 || skip_all "no pkg-config"

tap_tmpdir
root=$tmp/root

check "make install DESTDIR=... PREFIX=/usr" \
	make -C "$top" --no-print-directory install DESTDIR="$root" PREFIX=/usr
ver=$(cat "$top/VERSION")
for f in usr/lib/libshmr.so.$ver usr/lib/libshmr.a usr/include/shmr.h \
	usr/include/shmr/uapi.h usr/lib/pkgconfig/shmr.pc usr/bin/shmrctl \
	usr/share/man/man7/shmr.7 usr/share/man/man8/shmrctl.8 \
	usr/share/man/man3/shmr_region_create.3 usr/share/man/man3/shmr_leak_report.3 \
	usr/share/man/man3/shmr_region_unmap.3; do
	check "installed $f" test -f "$root/$f"
done
check "libshmr.so.1 -> libshmr.so.$ver" test "$(readlink "$root/usr/lib/libshmr.so.1")" = "libshmr.so.$ver"
check "libshmr.so -> libshmr.so.1" test "$(readlink "$root/usr/lib/libshmr.so")" = libshmr.so.1
check "nothing installed outside DESTDIR/usr" sh -c "cd '$root' && [ \"\$(ls)\" = usr ]"
check "shmr.pc has prefix /usr" grep -qx 'prefix=/usr' "$root/usr/lib/pkgconfig/shmr.pc"

cat > "$tmp/prog.c" <<'PROG'
#include <shmr.h>
#include <shmr/uapi.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct shmr_region *r;
	char *p;

	if (shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r) ||
	    shmr_region_map(r, (void **)&p))
		return 1;
	strcpy(p, "installed");
	printf("%s %s %d\n", p, shmr_backend_name(), SHMR_ABI_VERSION);
	shmr_region_unmap(p);
	return shmr_region_close(r) ? 1 : 0;
}
PROG
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig"
unset PKG_CONFIG_PATH
check "pkg-config --modversion shmr is $ver" test "$(pkg-config --modversion shmr)" = "$ver"
cflags=$(pkg-config --cflags shmr)
libs=$(pkg-config --libs shmr)
check "pkg-config paths point into the tree" sh -c "echo '$cflags $libs' | grep -q -- '-I$root/usr/include' && echo '$libs' | grep -q -- '-L$root/usr/lib'"
# shellcheck disable=SC2086
check "build against the installed tree (shared)" cc -o "$tmp/prog" "$tmp/prog.c" $cflags $libs
check "the program needs libshmr.so.1" sh -c "readelf -d '$tmp/prog' | grep -q 'NEEDED.*libshmr.so.1'"
check "run it" sh -c "LD_LIBRARY_PATH='$root/usr/lib' '$tmp/prog' | grep -qx 'installed [a-z]* 1'"
# shellcheck disable=SC2086
check "build against the installed tree (static)" cc -o "$tmp/prog-static" "$tmp/prog.c" $cflags \
	"$root/usr/lib/libshmr.a" $(pkg-config --libs --static shmr | sed 's/-lshmr//')
check "run the static one" sh -c "'$tmp/prog-static' | grep -qx 'installed [a-z]* 1'"
check "installed shmrctl runs" "$root/usr/bin/shmrctl" --help
# the tracker helper of SHMR_REGION_PROCESS on the posix backend: found
# beside the installed libshmr.so (dladdr), it gives the posix backend PROCESS
cat > "$tmp/feat.c" <<'PROG'
#include <shmr.h>
#include <stdio.h>

int main(void)
{
	uint64_t f = 0;

	shmr_features(&f);
	printf("%s\n", (f & SHMR_FEATURE_PROCESS) ? "process" : "no-process");
	return 0;
}
PROG
check "installed usr/lib/shmr/shmr-tracker" test -x "$root/usr/lib/shmr/shmr-tracker"
# shellcheck disable=SC2086
check "build the features probe (shared)" cc -o "$tmp/feat" "$tmp/feat.c" $cflags $libs
check "posix backend finds the tracker beside the installed library" sh -c \
	"env -u SHMR_TRACKER SHMR_BACKEND=posix LD_LIBRARY_PATH='$root/usr/lib' '$tmp/feat' | grep -qx process"
check "and not without it" sh -c "mv '$root/usr/lib/shmr' '$tmp/moved' && \
	env -u SHMR_TRACKER SHMR_BACKEND=posix LD_LIBRARY_PATH='$root/usr/lib' '$tmp/feat' | grep -qx no-process; \
	rc=\$?; mv '$tmp/moved' '$root/usr/lib/shmr'; exit \$rc"
check "man pages format (groff -ww)" sh -c "command -v groff >/dev/null || exit 0; cd '$root/usr/share/man' && for f in man*/*; do groff -man -ww -z \"\$f\" 2>&1 | grep . && exit 1; done; exit 0"

tap_done
