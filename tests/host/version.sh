#!/bin/sh
# One version: VERSION feeds the module, the library, shmr.pc, the Python
# package, shmrctl --version and shmr_version(), and scripts/version.sh
# --check (run by make) refuses a tree where shmr.h, dkms.conf,
# debian/changelog, debian/control or a man page says otherwise. Needs the
# source tree and its build: host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)

TAP_WHAT="one version"
. "$here/../tap.sh"
[ -f "$top/VERSION" ] && [ -x "$top/scripts/version.sh" ] && [ -f "$top/build/lib/libshmr.a" ] ||
	skip_all "no built source tree here ($top)"
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"

# Passes when CMD fails and its message names WHAT.
refused() {
	what=$1
	shift
	! "$@" > "$tmp/refused" 2>&1 && grep -F -- "$what" "$tmp/refused"
}
tap_tmpdir
ver=$(cat "$top/VERSION")
major=${ver%%.*}

check "scripts/version.sh prints VERSION ($ver)" test "$("$top/scripts/version.sh")" = "$ver"
check "scripts/version.sh --check passes on this tree" "$top/scripts/version.sh" --check

# ---- what the build made says VERSION
cat > "$tmp/v.c" <<'C'
#include <shmr.h>
#include <stdio.h>
int main(void)
{
	printf("%s %d.%d.%d\n", shmr_version(), SHMR_VERSION_MAJOR, SHMR_VERSION_MINOR,
	       SHMR_VERSION_PATCH);
	return 0;
}
C
check "shmr_version() and SHMR_VERSION_* say $ver" sh -c "
	cc -I'$top/lib/include' -o '$tmp/v' '$tmp/v.c' '$top/build/lib/libshmr.a' -pthread -luring &&
	test \"\$('$tmp/v')\" = '$ver $ver'"
check "libshmr.so.$ver has the SONAME libshmr.so.$major" sh -c "
	readelf -d '$top/build/lib/libshmr.so.$ver' | grep -q 'SONAME.*\[libshmr.so.$major\]'"
check "shmrctl --version says $ver" sh -c "'$top/build/bin/shmrctl' --version | grep -qx 'shmrctl $ver'"
if [ -f "$top/kmod/shmr.ko" ] && command -v modinfo >/dev/null 2>&1; then
	check "modinfo kmod/shmr.ko shows version $ver" test "$(modinfo -F version "$top/kmod/shmr.ko")" = "$ver"
else
	n=$((n + 1)); echo "ok $n - modinfo kmod/shmr.ko # SKIP module not built here"
fi
if ls "$top"/build/python/_shmr*.so >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
	check "shmr.__version__ (build/python) is $ver" sh -c "
		cd '$tmp' && test \"\$(PYTHONPATH='$top/build/python' /usr/bin/python3 -c 'import shmr; print(shmr.__version__)')\" = '$ver'"
else
	n=$((n + 1)); echo "ok $n - shmr.__version__ # SKIP Python binding not built here"
fi

# ---- every place that states the version is checked: change each in a copy
fake=$tmp/tree
reset_fake() {
	rm -rf "$fake"
	mkdir -p "$fake/lib/include" "$fake/debian" "$fake/man"
	cp "$top/VERSION" "$top/dkms.conf" "$fake/"
	cp "$top/lib/include/shmr.h" "$fake/lib/include/"
	cp "$top/debian/changelog" "$top/debian/control" "$fake/debian/"
	cp "$top"/man/*.[1-8] "$fake/man/"
}
vcheck() { SHMR_TOP=$fake "$top/scripts/version.sh" --check; }
reset_fake
check "a copy of the version-bearing files passes" vcheck
echo "1.0" > "$fake/VERSION"
check "VERSION that is not MAJOR.MINOR.PATCH is refused" refused "not MAJOR.MINOR.PATCH" vcheck
reset_fake
sed -i 's/^\(#define[[:space:]]*SHMR_VERSION_MINOR[[:space:]]*\)[0-9]*/\199/' "$fake/lib/include/shmr.h"
check "SHMR_VERSION_MINOR in shmr.h disagreeing is refused" refused "lib/include/shmr.h" vcheck
reset_fake
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="9.9.9"/' "$fake/dkms.conf"
check "dkms.conf's PACKAGE_VERSION disagreeing is refused" refused "dkms.conf" vcheck
reset_fake
sed -i '1s/(\([^)]*\))/(9.9.9-1)/' "$fake/debian/changelog"
check "debian/changelog's newest entry disagreeing is refused" refused "debian/changelog" vcheck
reset_fake
sed -i "s/^Package: libshmr$major\$/Package: libshmr$((major + 1))/" "$fake/debian/control"
check "debian/control naming another SONAME's package is refused" refused "debian/control" vcheck
reset_fake
p=$(ls "$fake"/man/*.[1-8] | head -n 1)
sed -i '/^\.TH /s/"\(lib\)\{0,1\}shmr [^"]*"/"libshmr 0.1"/' "$p"
check "a man page's .TH version disagreeing is refused (${p##*/})" refused "man/${p##*/}" vcheck
reset_fake
new=$major.7.9	# the same major: a new one is a new SONAME, a package renamed by hand
check "scripts/version.sh --set $new writes every place, and --check then passes" sh -c "
	SHMR_TOP='$fake' '$top/scripts/version.sh' --set $new &&
	test \"\$(cat '$fake/VERSION')\" = $new &&
	grep -q '^PACKAGE_VERSION=\"$new\"' '$fake/dkms.conf' &&
	head -n 1 '$fake/debian/changelog' | grep -q '^shmr ($new-1)' &&
	grep -q '^#define[[:space:]]*SHMR_VERSION_MINOR[[:space:]]*7$' '$fake/lib/include/shmr.h' &&
	grep -q '^#define[[:space:]]*SHMR_VERSION_PATCH[[:space:]]*9$' '$fake/lib/include/shmr.h' &&
	! grep -h '^\.TH ' '$fake'/man/*.[1-8] | grep -v '\"\(lib\)\{0,1\}shmr $new\"'"
reset_fake
check "scripts/version.sh --set $((major + 1)).0.0 says the library package needs renaming" \
	refused "rename the package libshmr$major" env SHMR_TOP="$fake" "$top/scripts/version.sh" --set $((major + 1)).0.0

# ---- and make stops: a copy of the tree whose dkms.conf disagrees
if command -v git >/dev/null 2>&1 && git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	copy=$tmp/copy
	mkdir -p "$copy"
	(cd "$top" && git ls-files -c -o --exclude-standard |
		while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
		tar -T - -cf - | tar -xf - -C "$copy")
	sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="9.9.9"/' "$copy/dkms.conf"
	check "make lib stops before building when dkms.conf disagrees" sh -c "
		! make -C '$copy' --no-print-directory lib > '$tmp/make.log' 2>&1 &&
		grep -q 'dkms.conf' '$tmp/make.log' && ! test -e '$copy/build/lib/libshmr.a' ||
		{ cat '$tmp/make.log'; exit 1; }"
else
	n=$((n + 1)); echo "ok $n - make stops on a disagreeing version # SKIP not a git checkout"
fi

tap_done
