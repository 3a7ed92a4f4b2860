#!/bin/sh
# Print "alias:page" for every name in the NAME section of the given man
# pages other than the page's own: one .so link per documented function,
# made by `make install` (lib/lib.mk), so that the NAME line is the one
# place that says which page documents a function.
for page in "$@"; do
	base=$(basename "$page")
	sec=${base##*.}
	self=${base%.*}
	sed -n '/^\.SH NAME/,/\\-/p' "$page" | sed -e '1d' -e 's/\\-.*//' |
		tr ',' ' ' | tr -s ' \t' '\n' | grep . |
		while read -r name; do
			[ "$name" = "$self" ] || echo "$name:$self.$sec"
		done
done
