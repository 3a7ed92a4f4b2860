#!/bin/sh
# Man pages: after `make install DESTDIR=...`, every function declared in
# shmr.h has a man3 page (its own or a .so link to its family page) that
# `man` finds, whose NAME lists it, whose SYNOPSIS declares it and which has
# SYNOPSIS, DESCRIPTION, RETURN VALUE and ERRORS; every man3 page installed
# is such a page; every shmr_*(3) reference in the pages resolves; groff
# formats them without warnings. Needs the source tree: host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)
hdr=$top/lib/include/shmr.h

skip_all() {
	echo "1..1"
	echo "ok 1 - man pages # SKIP $1"
	exit 0
}
[ -f "$top/lib/lib.mk" ] && [ -f "$hdr" ] || skip_all "no source tree here ($top)"
command -v make >/dev/null 2>&1 || skip_all "no make"
command -v man >/dev/null 2>&1 || skip_all "no man (man-db)"
command -v groff >/dev/null 2>&1 || skip_all "no groff"

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; : > "$tmp/why"; }
notok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -s "$tmp/why" ] && sed 's/^/#   /' "$tmp/why" | head -n 40
	: > "$tmp/why"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/why"
root=$tmp/root
mandir=$root/usr/share/man
man3=$mandir/man3

if make -C "$top" --no-print-directory install DESTDIR="$root" PREFIX=/usr > "$tmp/why" 2>&1; then
	: > "$tmp/why"
	ok "make install DESTDIR=... PREFIX=/usr"
else
	notok "make install DESTDIR=... PREFIX=/usr"
	echo "1..$n"
	exit 1
fi

# functions declared SHMR_API in the public header (as region_symbols.sh)
tr '\n' ' ' < "$hdr" | sed 's/;/;\n/g' | grep 'SHMR_API' |
	sed -n 's/.*[ *]\(shmr_[a-z0-9_]*\) *(.*/\1/p' | sort -u > "$tmp/funcs"
nf=$(wc -l < "$tmp/funcs")
[ "$nf" -ge 60 ] && ok "shmr.h declares $nf functions" || notok "shmr.h declares functions (found $nf)"

# the page a man3 file stands for: itself, or the target of its .so line
page_of() {
	f=$man3/$1.3
	[ -f "$f" ] || return 1
	so=$(sed -n '1s/^\.so man3\///p' "$f")
	if [ -n "$so" ]; then
		[ -f "$man3/$so" ] || return 1
		echo "$man3/$so"
	else
		echo "$f"
	fi
}

: > "$tmp/targets"
bad_page= bad_name= bad_syn= bad_sect= bad_man=
for fn in $(cat "$tmp/funcs"); do
	if ! p=$(page_of "$fn"); then
		bad_page="$bad_page $fn"
		continue
	fi
	echo "$p" >> "$tmp/targets"
	sed -n '/^\.SH NAME/,/\\-/p' "$p" | tr ',' ' ' | tr -s ' \t' '\n' | grep -qx "$fn" ||
		bad_name="$bad_name $fn"
	sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$p" | grep -q "[ *]$fn(" || bad_syn="$bad_syn $fn"
	for s in SYNOPSIS DESCRIPTION RETURN_VALUE ERRORS; do
		grep -Eqx "\\.SH \"?$(echo "$s" | tr _ ' ')\"?" "$p" || bad_sect="$bad_sect $fn:$s"
	done
	# what a user types: man 3 NAME (the page of the function, rendered)
	if ! MANPAGER=cat MANWIDTH=200 man -M "$mandir" 3 "$fn" > "$tmp/render" 2> "$tmp/err" ||
	   [ -s "$tmp/err" ] || ! grep -q "$fn" "$tmp/render"; then
		bad_man="$bad_man $fn"
	fi
done
printf '%s\n' $bad_page > "$tmp/why"
[ -z "$bad_page" ] && ok "every function has a man3 page" || notok "every function has a man3 page"
printf '%s\n' $bad_man > "$tmp/why"
[ -z "$bad_man" ] && ok "man -M ... 3 FUNCTION shows every function's page" ||
	notok "man -M ... 3 FUNCTION shows every function's page"
printf '%s\n' $bad_name > "$tmp/why"
[ -z "$bad_name" ] && ok "each page's NAME lists the function" || notok "each page's NAME lists the function"
printf '%s\n' $bad_syn > "$tmp/why"
[ -z "$bad_syn" ] && ok "each page's SYNOPSIS declares the function" ||
	notok "each page's SYNOPSIS declares the function"
printf '%s\n' $bad_sect > "$tmp/why"
[ -z "$bad_sect" ] && ok "each page has SYNOPSIS, DESCRIPTION, RETURN VALUE and ERRORS" ||
	notok "each page has SYNOPSIS, DESCRIPTION, RETURN VALUE and ERRORS"

# every installed man3 page is a function's page or a family page one links to
extra=
for f in "$man3"/*.3; do
	b=$(basename "$f" .3)
	grep -qx "$b" "$tmp/funcs" || grep -qx "$f" "$tmp/targets" || extra="$extra $b"
done
printf '%s\n' $extra > "$tmp/why"
[ -z "$extra" ] && ok "no man3 page for something shmr.h does not declare" ||
	notok "no man3 page for something shmr.h does not declare"

# cross references: shmr_*(3), shmr(7), shmrctl(8) in any page exist
dangling=
for f in "$mandir"/man*/*; do
	grep -o 'shmr[a-z0-9_]* ([378])' "$f" | sort -u | while read -r ref; do
		name=${ref% *}
		sec=$(echo "$ref" | tr -dc '0-9')
		[ -f "$mandir/man$sec/$name.$sec" ] || echo "$(basename "$f"): $ref"
	done
done > "$tmp/why"
[ -s "$tmp/why" ] && notok "every shmr reference in the pages resolves" ||
	ok "every shmr reference in the pages resolves"

# examples that are whole programs compile and link against the install
nex=0 badex=
for f in "$man3"/*.3; do
	[ -n "$(sed -n '1s/^\.so //p' "$f")" ] && continue
	awk -v out="$tmp/ex-$(basename "$f" .3)" '
		/^\.EX/ { n++; buf = ""; inex = 1; next }
		/^\.EE/ { if (buf ~ /int main\(/) print buf > (out "-" n ".c"); inex = 0; next }
		inex { buf = buf $0 "\n" }' "$f"
done
for c in "$tmp"/ex-*.c; do
	[ -f "$c" ] || continue
	nex=$((nex + 1))
	sed -i -e 's/\\-/-/g' -e 's/\\e/\\/g' -e "s/\\\\(aq/'/g" "$c"
	cc -std=gnu11 -Wall -Wextra -Werror -I"$root/usr/include" -o "${c%.c}" "$c" \
		-L"$root/usr/lib" -lshmr -pthread >> "$tmp/exlog" 2>&1 || badex="$badex $(basename "$c")"
done
cp "$tmp/exlog" "$tmp/why" 2>/dev/null
[ "$nex" -ge 2 ] && [ -z "$badex" ] && ok "the $nex example programs compile and link" ||
	notok "example programs compile and link ($nex found; failed:$badex)"
badrun=
for c in "$tmp"/ex-*.c; do
	[ -x "${c%.c}" ] || continue
	LD_LIBRARY_PATH="$root/usr/lib" SHMR_LEAK=fatal timeout 60 "${c%.c}" > "$tmp/exout" 2>&1 ||
		{ badrun="$badrun $(basename "$c")"; cat "$tmp/exout" >> "$tmp/why"; }
done
[ -z "$badrun" ] && ok "the example programs run, exit 0 and leak nothing" ||
	notok "example programs run (failed:$badrun)"

for f in "$mandir"/man*/*; do
	(cd "$mandir" && groff -man -ww -z "$f" 2>&1 | sed "s|^|$(basename "$f"): |")
done > "$tmp/why"
[ -s "$tmp/why" ] && notok "groff -man -ww formats every page without warnings" ||
	ok "groff -man -ww formats every page without warnings"

echo "1..$n"
[ "$fails" = 0 ]
