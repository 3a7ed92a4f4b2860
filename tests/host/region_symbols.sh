#!/bin/sh
# libshmr.so exports exactly the public API: every dynamic symbol is
# versioned LIBSHMR_1.0 and declared in shmr.h, every SHMR_API function of
# shmr.h is exported, the version script names each of them (no patterns),
# the SONAME is libshmr.so.1, and libshmr.a defines no global symbol outside
# the shmr_ namespace. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)
so=$top/build/lib/libshmr.so.$(cat "$top/VERSION" 2>/dev/null)
a=$top/build/lib/libshmr.a
hdr=$top/lib/include/shmr.h
map=$top/lib/libshmr.map

skip_all() {
	echo "1..1"
	echo "ok 1 - exported symbols # SKIP $1"
	exit 0
}
[ -f "$hdr" ] && [ -f "$so" ] || skip_all "no source tree with build/lib/libshmr.so.VERSION here ($top)"
command -v nm >/dev/null 2>&1 || skip_all "nm (binutils) not installed"
command -v readelf >/dev/null 2>&1 || skip_all "readelf (binutils) not installed"

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# defined dynamic symbols, without the version node itself
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' > "$tmp/dyn"
[ -s "$tmp/dyn" ] && ok "libshmr.so exports symbols ($(wc -l < "$tmp/dyn"))" ||
	notok "libshmr.so exports symbols"

bad=$(grep -v '@@LIBSHMR_1\.0$' "$tmp/dyn")
[ -z "$bad" ] && ok "every exported symbol is versioned LIBSHMR_1.0" ||
	{ notok "every exported symbol is versioned LIBSHMR_1.0"; echo "$bad" | sed 's/^/#   /'; }

sed 's/@.*//' "$tmp/dyn" | sort -u > "$tmp/names"
# functions declared SHMR_API in the public header
tr '\n' ' ' < "$hdr" | sed 's/;/;\n/g' | grep 'SHMR_API' |
	sed -n 's/.*[ *]\(shmr_[a-z0-9_]*\) *(.*/\1/p' | sort -u > "$tmp/api"
[ -s "$tmp/api" ] && ok "shmr.h declares SHMR_API functions ($(wc -l < "$tmp/api"))" ||
	notok "shmr.h declares SHMR_API functions"

extra=$(comm -23 "$tmp/names" "$tmp/api")
[ -z "$extra" ] && ok "nothing exported that shmr.h does not declare" ||
	{ notok "nothing exported that shmr.h does not declare"; echo "$extra" | sed 's/^/#   /'; }

missing=$(comm -13 "$tmp/names" "$tmp/api")
[ -z "$missing" ] && ok "every SHMR_API function of shmr.h is exported" ||
	{ notok "every SHMR_API function of shmr.h is exported"; echo "$missing" | sed 's/^/#   /'; }

# the global: part of the version script, comments and blank lines dropped
sed -e 's|/\*.*\*/||' "$map" | awk '/global:/ { g = 1; next } /local:/ { g = 0 } g' |
	tr -d ' \t' | grep -v '^$' > "$tmp/map"
glob=$(grep '[][*?]' "$tmp/map")
[ -s "$tmp/map" ] && [ -z "$glob" ] && ok "the version script names every symbol, no patterns" ||
	{ notok "the version script names every symbol, no patterns"; echo "$glob" | sed 's/^/#   /'; }
sed 's/;$//' "$tmp/map" | sort > "$tmp/mapnames"
diff=$(diff "$tmp/mapnames" "$tmp/api")
[ -z "$diff" ] && ok "the version script lists exactly the SHMR_API functions of shmr.h" ||
	{ notok "the version script lists exactly the SHMR_API functions of shmr.h"; echo "$diff" | sed 's/^/#   /'; }

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libshmr.so.1 ] && ok "SONAME is libshmr.so.1" || notok "SONAME is libshmr.so.1 (got '$soname')"

leaky=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 { print $3 }' | grep -v '^shmr_' | sort -u)
[ -z "$leaky" ] && ok "libshmr.a defines only shmr_* globals" ||
	{ notok "libshmr.a defines only shmr_* globals"; echo "$leaky" | sed 's/^/#   /'; }

echo "1..$n"
[ "$fails" = 0 ]
