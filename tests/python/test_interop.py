# SPDX-License-Identifier: LGPL-2.1-or-later
"""Names shared with POSIX shm (posix backend): shmr opens what
multiprocessing.shared_memory.SharedMemory made ("/NAME"), and the standard
library opens a shmr region by its posix_name ("shmr.NAME"). Each test runs
in an interpreter with SHMR_BACKEND=posix, so it runs in the VM too, where
the module is loaded."""
import errno

import pytest

import shmr


def run_posix(py, code):
    r = py(code, env={"SHMR_BACKEND": "posix"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n", r.stdout
    # Python 3.11's SharedMemory registers with its resource tracker even
    # when it only attaches; the tests unregister what they attached to, so
    # the tracker has nothing to warn about
    assert "resource_tracker" not in r.stderr, r.stderr


def test_shmr_opens_a_stdlib_segment(py):
    run_posix(py, """
from multiprocessing import shared_memory
import shmr
std = shared_memory.SharedMemory(create=True, size=10000)
try:
    std.buf[:5] = b"hello"
    mine = shmr.SharedMemory("/" + std.name)        # the raw POSIX name
    assert mine.name == "/" + std.name
    assert mine.posix_name == std.name
    assert mine.size == std.size == 10000            # the file's size, not rounded
    assert bytes(mine.buf[:5]) == b"hello"
    mine.buf[5:11] = b" shmr!"
    assert bytes(std.buf[:11]) == b"hello shmr!"
    assert mine.stat()["name"] == "/" + std.name
    mine.close()
finally:
    std.close()
    std.unlink()
try:
    shmr.SharedMemory("/" + std.name)
except FileNotFoundError:
    print("ok")
""")


def test_stdlib_opens_a_shmr_region(py, uname):
    run_posix(py, f"""
from multiprocessing import resource_tracker, shared_memory
import shmr
name = {uname()!r}
mine = shmr.SharedMemory(name, create=True, size=4096)
try:
    assert mine.posix_name == "shmr." + name
    mine.buf[:4] = b"shmr"
    std = shared_memory.SharedMemory(mine.posix_name)
    resource_tracker.unregister(std._name, "shared_memory")   # attached, not created
    assert bytes(std.buf[:4]) == b"shmr"
    std.buf[4:8] = b"+std"
    assert bytes(mine.buf[:8]) == b"shmr+std"
    std.close()
finally:
    mine.close()
    mine.unlink()
print("ok")
""")


def test_raw_names_with_process_and_pickling(py, uname):
    """A raw name created by shmr (stdlib sees it), with process=True: the
    name goes with the creator; pickled by name into a worker."""
    run_posix(py, f"""
import multiprocessing, os, time
from multiprocessing import resource_tracker, shared_memory
import shmr
raw = {uname()!r}

def worker(shm):
    shm.buf[0] = 42
    shm.close()

def creator(q):
    shm = shmr.SharedMemory("/" + raw, create=True, size=4096, process=True)
    p = multiprocessing.get_context("fork").Process(target=worker, args=(shm,))
    p.start(); p.join()
    std = shared_memory.SharedMemory(raw)
    resource_tracker.unregister(std._name, "shared_memory")
    q.put(std.buf[0])
    std.close()
    shm.close()

ctx = multiprocessing.get_context("fork")
q = ctx.Queue()
c = ctx.Process(target=creator, args=(q,))
c.start()
assert q.get(timeout=30) == 42
c.join(30)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and os.path.exists("/dev/shm/" + raw):
    time.sleep(0.01)
assert not os.path.exists("/dev/shm/" + raw)
print("ok")
""")


def test_bad_raw_names(py):
    run_posix(py, """
import errno, shmr
for bad in ("/", "/a/b", "//a", "/.", "/.."):
    try:
        shmr.SharedMemory(bad, create=True, size=4096)
    except OSError as e:
        assert e.errno == errno.EINVAL, (bad, e)
    else:
        raise AssertionError(bad)
print("ok")
""")


def test_kernel_backend_refuses_raw_names():
    if shmr.backend() != "kernel":
        pytest.skip("the module is not loaded")
    with pytest.raises(OSError) as e:
        shmr.SharedMemory("/psm_raw", create=True, size=4096)
    assert e.value.errno == errno.EINVAL
    a = shmr.SharedMemory(create=True, size=4096)
    try:
        assert a.posix_name is None
    finally:
        a.close()
        a.unlink()
