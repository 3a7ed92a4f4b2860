#!/bin/bash
# shmr's version lives in one file, VERSION at the top (MAJOR.MINOR.PATCH).
# The module (kmod/Kbuild: MODULE_VERSION), the library's file name and
# SONAME (lib/lib.mk: SONAME = MAJOR), shmr.pc, the Python package
# (setup.py) read it when they build. Where a file has to state it in its
# own syntax, this script checks that it agrees:
#   lib/include/shmr.h   SHMR_VERSION_MAJOR/MINOR/PATCH (shmr_version(),
#                        shmrctl --version and shmr.__version__ come from them)
#   dkms.conf            PACKAGE_VERSION
#   debian/changelog     the upstream part of the newest entry
#   debian/control       the runtime library package, libshmr<SONAME>
#   man/*.[1-8]          the .TH source field ("libshmr X.Y.Z" or "shmr X.Y.Z")
#
#   scripts/version.sh              print the version
#   scripts/version.sh --check      say what disagrees and exit 1 (make runs it)
#   scripts/version.sh --set X.Y.Z  write X.Y.Z everywhere, with a new
#                                 debian/changelog entry
set -euo pipefail
top=${SHMR_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
prog=version.sh

die() { echo "$prog: $*" >&2; exit 2; }

read_version() {
	[ -r "$top/VERSION" ] || die "no $top/VERSION"
	local v
	v=$(cat "$top/VERSION")
	[[ $v =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
		die "VERSION: '$v' is not MAJOR.MINOR.PATCH"
	echo "$v"
}

man_pages() {
	local f
	for f in "$top"/man/*.[1-8]; do
		[ -f "$f" ] && echo "$f"
	done
}

check() {
	local v=$1 major minor patch bad=0 f got want
	IFS=. read -r major minor patch <<< "$v"
	say() { echo "$prog: $1" >&2; bad=1; }

	local hdr=$top/lib/include/shmr.h
	for part in MAJOR:$major MINOR:$minor PATCH:$patch; do
		got=$(sed -n "s/^#define[[:space:]]*SHMR_VERSION_${part%%:*}[[:space:]]\+\([0-9]*\)[[:space:]]*$/\1/p" "$hdr")
		[ "$got" = "${part#*:}" ] ||
			say "lib/include/shmr.h: SHMR_VERSION_${part%%:*} is '$got', VERSION says ${part#*:}"
	done

	got=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
	[ "$got" = "$v" ] || say "dkms.conf: PACKAGE_VERSION is '$got', VERSION says $v"

	# Absent from the trees made from this one (DKMS, Python sdist).
	if [ -f "$top/debian/changelog" ]; then
		got=$(sed -n '1s/^shmr (\([^)]*\)).*/\1/p' "$top/debian/changelog")
		got=${got#*:}		# epoch
		got=${got%-*}		# Debian revision
		[ "$got" = "$v" ] ||
			say "debian/changelog: the newest entry is for '$got', VERSION says $v"
	fi
	if [ -f "$top/debian/control" ]; then
		grep -qx "Package: libshmr$major" "$top/debian/control" ||
			say "debian/control: no package libshmr$major (the SONAME is libshmr.so.$major)"
		got=$(sed -n 's/^Package: \(libshmr[0-9][0-9]*\)$/\1/p' "$top/debian/control" | grep -vx "libshmr$major" || true)
		[ -z "$got" ] || say "debian/control: package $got, but the SONAME is libshmr.so.$major"
	fi

	while IFS= read -r f; do
		got=$(sed -n '/^\.TH /{p;q}' "$f")
		want=$(printf '%s\n' "$got" | awk -F'"' '{ print $2 }')
		case "$want" in
		"libshmr $v"|"shmr $v") ;;
		*) say "${f#"$top"/}: .TH says '$want', want \"libshmr $v\" or \"shmr $v\"" ;;
		esac
	done < <(man_pages)

	if [ "$bad" = 1 ]; then
		echo "$prog: the version is $v (VERSION); scripts/version.sh --set $v writes it everywhere" >&2
		return 1
	fi
	return 0
}

set_version() {
	local v=$1 major minor patch f old
	[[ $v =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
		die "'$v' is not MAJOR.MINOR.PATCH"
	IFS=. read -r major minor patch <<< "$v"
	old=$(read_version)
	echo "$v" > "$top/VERSION"
	sed -i -e "s/^\(#define[[:space:]]*SHMR_VERSION_MAJOR[[:space:]]\+\)[0-9]*/\1$major/" \
		-e "s/^\(#define[[:space:]]*SHMR_VERSION_MINOR[[:space:]]\+\)[0-9]*/\1$minor/" \
		-e "s/^\(#define[[:space:]]*SHMR_VERSION_PATCH[[:space:]]\+\)[0-9]*/\1$patch/" \
		"$top/lib/include/shmr.h"
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$v\"/" "$top/dkms.conf"
	while IFS= read -r f; do
		sed -i '/^\.TH /s/"\(libshmr\|shmr\) [^"]*"/"\1 '"$v"'"/' "$f"
	done < <(man_pages)
	local cl=$top/debian/changelog
	if [ -f "$cl" ]; then
		local cur who
		cur=$(sed -n '1s/^shmr (\([^)]*\)).*/\1/p' "$cl")
		if [ "${cur%-*}" != "$v" ]; then
			who=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$cl" | head -n 1)
			{
				echo "shmr ($v-1) unstable; urgency=medium"
				echo
				echo "  * New upstream release $v."
				echo
				echo " -- $who  $(date -R)"
				echo
				cat "$cl"
			} > "$cl.new"
			mv "$cl.new" "$cl"
		fi
	fi
	[ "$major" = "${old%%.*}" ] || echo "$prog: new SONAME libshmr.so.$major: rename the package" \
		"libshmr${old%%.*} in debian/control and debian/libshmr${old%%.*}.* by hand" >&2
	check "$v"
}

case "${1:-}" in
"") read_version ;;
--check) check "$(read_version)" ;;
--set) [ $# = 2 ] || die "usage: scripts/version.sh --set MAJOR.MINOR.PATCH"; set_version "$2" ;;
*) die "usage: scripts/version.sh [--check | --set MAJOR.MINOR.PATCH]" ;;
esac
