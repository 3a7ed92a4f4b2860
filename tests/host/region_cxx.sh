#!/bin/sh
# C++: every header `make install` puts in DESTDIR compiles as C++17 with
# -Wall -Wextra -Werror, together and in either order (g++, and clang++
# when installed); tests/host/region_cxx.cc, which uses every macro and
# calls every function of <shmr.h> (checked here), builds against the
# installed tree and runs. Needs the source tree and a C++ compiler: host
# only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)
src=$top/tests/host/region_cxx.cc
hdr=$top/lib/include/shmr.h

TAP_WHAT="C++ build"
TAP_TAIL=30
. "$here/../tap.sh"
[ -f "$top/lib/lib.mk" ] && [ -f "$src" ] || skip_all "no source tree here ($top)"
command -v g++ >/dev/null 2>&1 || skip_all "no C++ compiler (g++)"
command -v make >/dev/null 2>&1 || skip_all "no make"

tap_tmpdir
root=$tmp/root
inc=$root/usr/include
CXXFLAGS="-std=c++17 -Wall -Wextra -Werror"

check "make install DESTDIR=... PREFIX=/usr" \
	make -C "$top" --no-print-directory install DESTDIR="$root" PREFIX=/usr
(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort) > "$tmp/headers"
check "shmr.h and another header installed" sh -c "grep -qx shmr.h '$tmp/headers' && [ \$(wc -l < '$tmp/headers') -ge 2 ]"

# every installed header alone, then all of them in both orders
for cxx in g++ clang++; do
	command -v $cxx >/dev/null 2>&1 || continue
	while read -r h; do
		printf '#include <%s>\nint main() { return 0; }\n' "$h" > "$tmp/one.cc"
		check "$cxx: <$h> alone" $cxx $CXXFLAGS -I"$inc" -c -o "$tmp/one.o" "$tmp/one.cc"
	done < "$tmp/headers"
	sed 's/.*/#include <&>/' "$tmp/headers" > "$tmp/fwd.cc"
	sort -r "$tmp/headers" | sed 's/.*/#include <&>/' > "$tmp/rev.cc"
	echo 'int main() { return 0; }' | tee -a "$tmp/fwd.cc" >> "$tmp/rev.cc"
	check "$cxx: all installed headers together" $cxx $CXXFLAGS -I"$inc" -c -o "$tmp/fwd.o" "$tmp/fwd.cc"
	check "$cxx: all installed headers, reverse order" $cxx $CXXFLAGS -I"$inc" -c -o "$tmp/rev.o" "$tmp/rev.cc"
	# the program, also with the other headers included first
	others=$(grep -vx shmr.h "$tmp/headers" | sed 's/^/-include /' | tr '\n' ' ')
	# shellcheck disable=SC2086
	check "$cxx: region_cxx.cc builds (with $others)" \
		$cxx $CXXFLAGS -I"$inc" $others -o "$tmp/prog-$cxx" "$src" -L"$root/usr/lib" -lshmr -pthread
	check "$cxx: region_cxx.cc builds with SHMR_NO_TRACKING_MACROS" \
		$cxx $CXXFLAGS -DSHMR_NO_TRACKING_MACROS -I"$inc" -c -o "$tmp/nt.o" "$src"
done

# every macro and every function of shmr.h appears in the program
grep -o '^#define [A-Za-z_0-9]*' "$hdr" | cut -d' ' -f2 | sort -u |
	grep -vx -e SHMR_H -e SHMR_API -e SHMR_CXX_DEFAULT > "$tmp/macros"
tr '\n' ' ' < "$hdr" | sed 's/;/;\n/g' | grep 'SHMR_API' |
	sed -n 's/.*[ *]\(shmr_[a-z0-9_]*\) *(.*/\1/p' | sort -u > "$tmp/funcs"
missing=
for m in $(cat "$tmp/macros" "$tmp/funcs"); do
	grep -q "\\b$m\\b" "$src" || missing="$missing $m"
done
check "region_cxx.cc uses all $(wc -l < "$tmp/macros") macros and $(wc -l < "$tmp/funcs") functions" \
	sh -c "[ -z '$missing' ] || { echo 'not used:$missing'; exit 1; }"

check "region_cxx runs" sh -c "LD_LIBRARY_PATH='$root/usr/lib' '$tmp/prog-g++' > '$tmp/run' 2>&1; rc=\$?; cat '$tmp/run'; [ \$rc = 0 ] && tail -n 1 '$tmp/run' | grep -qx 'done, 0 failed'"

tap_done
