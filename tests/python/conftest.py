# SPDX-License-Identifier: LGPL-2.1-or-later
"""pytest configuration of the shmr Python tests.

SHMR_TAP_FILE=PATH writes TAP (one "ok N - test id" per test, skips as
"# SKIP reason", failures as "not ok") to PATH at the end of the session;
tests/vm/python.sh uses it.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_results = {}
_order = []


def pytest_runtest_logreport(report):
    nid = report.nodeid
    if nid not in _results:
        _order.append(nid)
        _results[nid] = ("ok", "")
    state = _results[nid][0]
    if report.failed:
        _results[nid] = ("not ok", report.when)
    elif report.skipped and state == "ok":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _results[nid] = ("skip", reason)


def pytest_sessionfinish(session, exitstatus):
    # The killed workers left exit records in the module: leave none behind.
    import shmr
    if shmr.backend() == "kernel":
        shmr.exit_records(clear=True)
    path = os.environ.get("SHMR_TAP_FILE")
    if not path:
        return
    with open(path, "w") as f:
        f.write(f"1..{len(_order)}\n")
        for i, nid in enumerate(_order, 1):
            state, info = _results[nid]
            if state == "skip":
                f.write(f"ok {i} - {nid} # SKIP {info}\n")
            elif state == "not ok":
                f.write(f"not ok {i} - {nid} # failed in {info}\n")
            else:
                f.write(f"ok {i} - {nid}\n")


def run_python(code, env=None, timeout=60):
    """Run code in a fresh interpreter with the same sys.path; returns CompletedProcess."""
    import subprocess
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    e.pop("SHMR_LEAK", None)
    e.pop("SHMR_LEAK_FILE", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def py():
    return run_python


@pytest.fixture
def uname():
    import secrets
    names = []

    def make():
        n = "pytest_" + secrets.token_hex(6)
        names.append(n)
        return n
    yield make
    import shmr
    for n in names:
        try:
            shmr.unlink(n)
        except FileNotFoundError:
            pass
        try:
            import _posixshmem
            _posixshmem.shm_unlink("/" + n)
        except (FileNotFoundError, ImportError):
            pass


@pytest.fixture(autouse=True)
def no_leaks_left():
    """Every test must leave the process's registry as it found it."""
    import shmr
    before = len(shmr.leak_report())
    yield
    after = shmr.leak_report()
    assert len(after) == before, f"test leaked: {after}"
