#!/bin/bash
# vm-python.sh ROOT: put what the test VM needs to run the shmr Python
# binding's tests and example into the staging root ROOT (tests/run/shmr-vm's
# initramfs tree): Debian's /usr/bin/python3, the shared libraries it and
# numpy's extensions need, only the stdlib and dist-packages files that the
# suite and the example actually import (with their .pyc), and under
# /opt/shmr/python: the built package (on sys.path through a .pth file),
# tests/ and examples/.
#
# The import list is found by running the suite and the example once on the
# host with a sitecustomize that records every loaded module's file (also
# in multiprocessing children, which leave with os._exit); it is cached in
# build/python/vm-files.list and redone when the Python sources change.
# Needs `make python` first. Prints the bytes it added on stderr.
set -euo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
root=${1:?usage: vm-python.sh STAGING_ROOT}
PYTHON=${PYTHON:-/usr/bin/python3}
out=$top/build/python
list=$out/vm-files.list

[ -d "$root" ] || { echo "vm-python.sh: $root: no such directory" >&2; exit 1; }
ls "$out"/_shmr*.so >/dev/null 2>&1 || { echo "vm-python.sh: run 'make python' first" >&2; exit 1; }

stale=1
if [ -s "$list" ]; then
	stale=0
	while IFS= read -r -d '' f; do
		[ "$f" -nt "$list" ] && { stale=1; break; }
	done < <(find "$top/lib/python" "$top/tests/python" "$top/examples/python" \
		"$0" -type f -print0)
fi

if [ "$stale" = 1 ]; then
	tmp=$(mktemp -d)
	cat > "$tmp/sitecustomize.py" <<'PY'
import atexit, os, sys
_log = os.environ["SHMR_PY_MODLOG"]
def _dump():
    with open(_log, "a") as f:
        for m in list(sys.modules.values()):
            p = getattr(m, "__file__", None)
            if p:
                f.write(os.path.realpath(p) + "\n")
atexit.register(_dump)
_real_exit = os._exit
def _exit(code):
    try:
        _dump()
    except Exception:
        pass
    _real_exit(code)
os._exit = _exit
PY
	echo "vm-python.sh: finding the modules the suite imports (once)" >&2
	(
		cd "$top" || exit 1
		export SHMR_PY_MODLOG=$tmp/mods PYTHONPATH=$tmp:$out
		"$PYTHON" -m pytest -q -p no:cacheprovider tests/python >/dev/null 2>&1
		"$PYTHON" examples/python/numpy_pool.py >/dev/null 2>&1
	) || true
	# Only system files: the package, tests and sitecustomize go separately.
	# (not _hashlib: hashlib falls back to its builtin hashes, and OpenSSL's
	# libcrypto would add 4.7 MB)
	grep -E '^/usr/lib/python3' "$tmp/mods" | grep -v '/_hashlib\.' | sort -u > "$list.tmp"
	# Always: the landmark the interpreter looks for, and site's helpers.
	# The guest has no locale: ASCII (the host's may be UTF-8).
	printf '%s\n' /usr/lib/python3.11/os.py /usr/lib/python3.11/site.py \
		/usr/lib/python3.11/_sitebuiltins.py \
		/usr/lib/python3.11/encodings/{__init__,aliases,ascii,latin_1,utf_8,utf_8_sig}.py \
		>> "$list.tmp"
	sort -u "$list.tmp" > "$list"
	rm -f "$list.tmp"
	rm -rf "$tmp"
fi

before=$(du -sb "$root" | cut -f1)

files=$(mktemp)
trap 'rm -f "$files"' EXIT
py=$(readlink -f "$PYTHON")
{
	echo "$py"
	while IFS= read -r f; do
		[ -f "$f" ] || continue
		echo "$f"
		case "$f" in
		*.py)
			b=${f##*/}
			pyc="${f%/*}/__pycache__/${b%.py}.cpython-311.pyc"
			[ -f "$pyc" ] && echo "$pyc"
			;;
		esac
	done < "$list"
	# the shared libraries of the interpreter and the extension modules (one ldd)
	# shellcheck disable=SC2046
	ldd "$py" $(grep '\.so$' "$list") 2>/dev/null |
		awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'
	# numpy reads its version and config from package data at import
	find /usr/lib/python3/dist-packages/numpy -maxdepth 1 -name '*.json' 2>/dev/null
} | sort -u | while IFS= read -r f; do
	[ -e "$root$f" ] || echo "${f#/}"
done > "$files"
# one tar for all (-h: libraries are often symlinks; copy their targets)
tar -C / -chf - -T "$files" | tar -C "$root" -xf -
mkdir -p "$root/usr/bin" "$root/usr/lib/python3.11/lib-dynload"
ln -sfn "$(basename "$py")" "$root/usr/bin/python3"

dst=$root/opt/shmr/python
mkdir -p "$dst/tests" "$dst/examples"
cp -a "$out"/_shmr*.so "$out/shmr" "$dst/"
cp -a "$top"/tests/python/*.py "$dst/tests/"
cp -a "$top"/examples/python/*.py "$dst/examples/"
rm -rf "$dst/shmr/__pycache__"
# `import shmr` without PYTHONPATH in the guest
mkdir -p "$root/usr/lib/python3/dist-packages"
echo /opt/shmr/python > "$root/usr/lib/python3/dist-packages/shmr-vm.pth"

after=$(du -sb "$root" | cut -f1)
echo "vm-python.sh: added $(( (after - before) / 1024 )) KiB to $root" >&2
