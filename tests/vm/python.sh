#!/bin/sh
# The Python binding's pytest suite (tests/python) in the guest, as TAP: one
# "ok N - test id" per pytest test. The guest has Python only when
# tests/run/vm-python.sh staged it; otherwise the whole file is skipped.
py=/usr/bin/python3
dir=/opt/shmr/python
if [ ! -x "$py" ] || [ ! -d "$dir/tests" ]; then
	echo "1..1"
	echo "ok 1 - python # SKIP python3 or the shmr package absent in this system (tests/run/vm-python.sh stages them)"
	exit 0
fi
tap=${TMPDIR:-/tmp}/shmr-python.$$.tap
rm -f "$tap"
# pytest's own output as TAP comments, the TAP from tests/python/conftest.py
cd "$dir" && SHMR_TAP_FILE=$tap PYTHONPATH=$dir PYTHONDONTWRITEBYTECODE=1 \
	"$py" -m pytest -q -p no:cacheprovider tests 2>&1 | sed 's/^/# /'
if [ -s "$tap" ]; then
	cat "$tap"
	rm -f "$tap"
else
	echo "1..1"
	echo "not ok 1 - python: pytest produced no results"
fi
