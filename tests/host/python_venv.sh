#!/bin/sh
# The Python package as users install it: `pip install .` into a fresh
# venv builds the extension from the library's sources for that venv's
# interpreter, and `python3 -m build` makes an sdist and a wheel (built from
# the sdist, so the sdist holds everything it needs). Offline: setuptools
# and wheel come from Debian's wheels in /usr/share/python-wheels
# (python3-setuptools-whl, python3-wheel-whl) through pip's usual isolated
# build environment. Host only. Prints TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." 2>/dev/null && pwd)
py=/usr/bin/python3
wheels=/usr/share/python-wheels

TAP_WHAT="pip install . in a venv"
TAP_TAIL=25
. "$here/../tap.sh"
[ -f "$top/pyproject.toml" ] && [ -f "$top/VERSION" ] || skip_all "no source tree here ($top)"
[ -x "$py" ] || skip_all "no $py"
"$py" -c 'import ensurepip, venv' 2>/dev/null || skip_all "no venv/ensurepip (python3-venv)"
ls "$wheels"/setuptools-*.whl "$wheels"/wheel-*.whl >/dev/null 2>&1 ||
	skip_all "no setuptools and wheel wheels in $wheels (python3-setuptools-whl python3-wheel-whl)"
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"

tap_tmpdir
ver=$(cat "$top/VERSION")
# Only what this test says: no user or site pip configuration, no cache.
export PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PYTHONPATH
offline="--no-index --find-links $wheels"
cd "$tmp" || exit 1

venv=$tmp/venv
check "python3 -m venv (fresh)" "$py" -m venv "$venv"
# shellcheck disable=SC2086
check "pip install . (extension built for the venv's python)" "$venv/bin/pip" install $offline "$top"
check "python -c 'import shmr; shmr.SharedMemory(create=True, size=4096).unlink()'" \
	"$venv/bin/python" -c "import shmr; shmr.SharedMemory(create=True, size=4096).unlink()"
check "shmr and _shmr come from the venv" "$venv/bin/python" -c "
import shmr, _shmr, sys
for m in (shmr, _shmr):
    assert m.__file__.startswith(sys.prefix + '/'), m.__file__"
check "shmr.__version__ is $ver" "$venv/bin/python" -c "
import shmr; assert shmr.__version__ == '$ver', shmr.__version__"
check "pip show: version $ver, license LGPL-2.1-or-later" sh -c "
	'$venv/bin/pip' show shmr > '$tmp/show' && grep -qx 'Version: $ver' '$tmp/show' &&
	grep -qx 'License: LGPL-2.1-or-later' '$tmp/show'"
# A region made by one process, read by another, then gone; no leak report.
check "a region crosses processes, then is unlinked (SHMR_LEAK=fatal)" env SHMR_LEAK=fatal \
	"$venv/bin/python" -c "
import shmr, subprocess, sys
m = shmr.SharedMemory(create=True, size=4096)
m.buf[:5] = b'hello'
code = ('import shmr; m = shmr.SharedMemory(%r); ok = bytes(m.buf[:5]) == b\"hello\"; '
        'm.close(); raise SystemExit(0 if ok else 1)' % m.name)
rc = subprocess.call([sys.executable, '-c', code])
m.close(); m.unlink()
assert rc == 0, rc
try:
    shmr.SharedMemory(m.name)
except FileNotFoundError:
    pass
else:
    raise SystemExit('still there after unlink')"
# process=True on the posix backend: the tracker helper is built into the
# package (setup.py), where the library inside _shmr looks for it.
check "pip install . puts the tracker helper in the package" sh -c "
	test -x '$venv'/lib/python3*/site-packages/shmr/shmr-tracker"
check "process=True on the posix backend: the name goes with its SIGKILLed creator" \
	env SHMR_BACKEND=posix "$venv/bin/python" -c "
import os, shmr, signal, time
assert shmr.features() & 8, 'no PROCESS (SHMR_FEATURE_PROCESS) on the posix backend'
name = 'pyvenv-%d' % os.getpid()
pid = os.fork()
if pid == 0:
    shmr.SharedMemory(name, create=True, size=4096, process=True)
    os.kill(os.getpid(), signal.SIGKILL)
os.waitpid(pid, 0)
for _ in range(200):
    try:
        shmr.SharedMemory(name).close()
    except FileNotFoundError:
        break
    time.sleep(0.01)
else:
    raise SystemExit('name outlived its killed creator')"
check "pip uninstall removes it" sh -c "
	'$venv/bin/pip' uninstall -y shmr && ! '$venv/bin/python' -c 'import shmr' 2>/dev/null &&
	! ls '$venv'/lib/python3*/site-packages/_shmr* 2>/dev/null"

if "$py" -c 'import build' 2>/dev/null; then
	check "python3 -m build: sdist and a wheel built from it" env PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" \
		"$py" -m build --outdir "$tmp/dist" "$top"
	sdist=$(ls "$tmp"/dist/shmr-"$ver".tar.gz 2>/dev/null)
	check "the sdist holds the library's sources, VERSION and the license, not the module or tests" sh -c "
		tar -tzf '${sdist:-/nonexistent}' > '$tmp/list' &&
		grep -qx 'shmr-$ver/lib/region.c' '$tmp/list' &&
		grep -qx 'shmr-$ver/include/uapi/linux/shmr.h' '$tmp/list' &&
		grep -qx 'shmr-$ver/VERSION' '$tmp/list' &&
		grep -qx 'shmr-$ver/LICENSES/LGPL-2.1' '$tmp/list' &&
		! grep -e '/kmod/' -e '/tests/' -e '/debian/' '$tmp/list'"
	check "the wheel installs into a second venv and works" sh -c "
		'$py' -m venv '$tmp/venv2' &&
		'$tmp/venv2/bin/pip' install --no-index '$tmp'/dist/shmr-$ver-*.whl &&
		SHMR_LEAK=fatal '$tmp/venv2/bin/python' -c \"
import shmr
m = shmr.SharedMemory(create=True, size=8192)
assert m.size == 8192 and shmr.__version__ == '$ver'
m.close(); m.unlink()\""
else
	n=$((n + 1)); echo "ok $n - python3 -m build # SKIP python3-build not installed"
fi

tap_done
