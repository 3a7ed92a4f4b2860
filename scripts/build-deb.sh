#!/bin/bash
# make deb: build the Debian packages (debian/) into build/deb/ and run
# lintian on them.
#
# dpkg-buildpackage writes its results beside the source directory and its
# work files into debian/, so it runs on a copy of the tree (the files git
# knows, as they are now, or the whole tree but build/ outside git) in
# build/deb/src/. Logs: build/deb/build.log, build/deb/lintian.txt; what
# each package holds: build/deb/contents.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
ver=$("$top/scripts/version.sh")
src=$out/src/shmr-$ver

rm -rf "$out"
mkdir -p "$src"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z -c -o --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

echo "build-deb: dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
t0=$(date +%s)
# Debian's own tools and interpreters only (pybuild runs "python3.X" from
# PATH: not a python3.X of pyenv or a venv that lacks Debian's modules).
if ! (cd "$src" && PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg-buildpackage -us -uc -b) \
	> "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (see $out/build.log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
echo "build-deb: built in $(( $(date +%s) - t0 ))s"

changes=$(ls "$out"/*.changes)
lintian --info --display-info "$changes" > "$out/lintian.txt" 2>&1 || true
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
for deb in "$out"/*.deb; do
	printf 'build-deb: %-44s %7s bytes\n' "${deb##*/}" "$(stat -c %s "$deb")"
done
for deb in "$out"/*.deb; do
	echo "== ${deb##*/}: $(stat -c %s "$deb") bytes, Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
	echo "Depends: $(dpkg-deb -f "$deb" Depends)"
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { $2 = $4 = $5 = ""; print }'
done > "$out/contents.txt"
echo "build-deb: lintian: $errors errors, $warnings warnings (see $out/lintian.txt)"
if [ "$errors" != 0 ]; then
	grep '^E: ' "$out/lintian.txt" >&2
	exit 1
fi
