# SPDX-License-Identifier: LGPL-2.1-or-later
"""shmr.SharedMemory side by side with multiprocessing.shared_memory.SharedMemory."""
import errno
import multiprocessing
import os
import pickle
import signal
import sys
import time
from multiprocessing import shared_memory

import pytest

import shmr

IMPLS = [pytest.param(shared_memory.SharedMemory, id="stdlib"),
         pytest.param(shmr.SharedMemory, id="shmr")]


def _cleanup(impl, name):
    import _posixshmem
    try:
        if impl is shared_memory.SharedMemory:
            _posixshmem.shm_unlink("/" + name)
        else:
            shmr.unlink(name)
    except (FileNotFoundError, OSError):
        pass


def outcome(fn):
    """What a call does: ('ok', value) or ('raise', exception type)."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return ("raise", type(e))


@pytest.mark.parametrize("impl", IMPLS)
def test_create_attach_share(impl, uname):
    name = uname()
    a = impl(name, create=True, size=100)
    try:
        assert a.name == name
        assert a.size >= 100 and len(a.buf) == a.size
        assert isinstance(a.buf, memoryview) and not a.buf.readonly
        a.buf[:5] = b"hello"
        b = impl(name)
        assert b.name == name and b.size == a.size
        assert bytes(b.buf[:5]) == b"hello"
        b.buf[5] = ord("!")
        assert bytes(a.buf[:6]) == b"hello!"
        b.close()
    finally:
        a.close()
        a.unlink()


@pytest.mark.parametrize("impl", IMPLS)
def test_random_name(impl):
    a = impl(create=True, size=10)
    try:
        assert isinstance(a.name, str) and a.name
        b = impl(a.name)
        assert b.size == a.size
        b.close()
    finally:
        a.close()
        a.unlink()


@pytest.mark.parametrize("impl", IMPLS)
def test_close_twice_and_buf_none(impl):
    a = impl(create=True, size=10)
    a.close()
    assert a.buf is None
    a.close()
    a.unlink()


@pytest.mark.parametrize("impl", IMPLS)
def test_unlink_hides_name_keeps_mapping(impl):
    a = impl(create=True, size=10)
    a.buf[0] = 42
    a.unlink()
    with pytest.raises(FileNotFoundError):
        impl(a.name)
    assert a.buf[0] == 42
    a.close()


BAD = [
    ("open missing", lambda impl, n, keep: impl(n)),
    ("create existing", lambda impl, n, keep: (keep.append(impl(n, create=True, size=10)),
                                               impl(n, create=True, size=10))),
    ("size 0 on create", lambda impl, n, keep: impl(n, create=True, size=0)),
    ("negative size", lambda impl, n, keep: impl(n, create=True, size=-1)),
    ("negative size, open", lambda impl, n, keep: impl(n, size=-1)),
    ("no name, no create", lambda impl, n, keep: impl()),
    ("no name, size only", lambda impl, n, keep: impl(None, False, 10)),
    ("str size", lambda impl, n, keep: impl(n, create=True, size="10")),
    ("float size", lambda impl, n, keep: impl(n, create=True, size=1.5)),
    ("huge size", lambda impl, n, keep: impl(n, create=True, size=2**70)),
    ("int name", lambda impl, n, keep: impl(1234)),
    ("slash in name", lambda impl, n, keep: impl(n + "/x", create=True, size=10)),
]


@pytest.mark.parametrize("case,call", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_same_exception(case, call, uname):
    results = []
    made = []
    for impl in (shared_memory.SharedMemory, shmr.SharedMemory):
        n = uname()
        r = outcome(lambda: call(impl, n, made))
        if r[0] == "ok":
            made.append(r[1])
        results.append(r)
        for o in made:
            o.close()
        made.clear()
        _cleanup(impl, n)
    assert results[0][0] == "raise", f"{case}: the standard library accepted it"
    assert results[1] == results[0], f"{case}: stdlib {results[0]}, shmr {results[1]}"


@pytest.mark.parametrize("impl", IMPLS)
def test_close_with_exported_buffer(impl):
    a = impl(create=True, size=64)
    view = memoryview(a.buf)[:8]  # another export of the same memory
    with pytest.raises(BufferError):
        a.close()
    view.release()
    a.close()
    a.unlink()


def test_bufferror_matches_stdlib():
    got = []
    for impl in (shared_memory.SharedMemory, shmr.SharedMemory):
        a = impl(create=True, size=64)
        v = memoryview(a.buf)[1:3]
        got.append(outcome(a.close))
        v.release()
        a.close()
        a.unlink()
    assert got[0] == got[1] == ("raise", BufferError)


def test_context_manager(uname):
    name = uname()
    with shmr.SharedMemory(name, create=True, size=10) as a:
        a.buf[0] = 1
    assert a.buf is None and a.closed
    shmr.unlink(name)


@pytest.mark.parametrize("impl", IMPLS)
def test_pickle_by_name(impl):
    a = impl(create=True, size=32)
    try:
        b = pickle.loads(pickle.dumps(a))
        assert b.name == a.name
        b.buf[3] = 9
        assert a.buf[3] == 9
        b.close()
    finally:
        a.close()
        a.unlink()


def _worker_write(shm, value):
    shm.buf[0] = value
    ok = shm.buf[1] == 7
    shm.close()
    return ok


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("impl", IMPLS)
def test_pool_worker_attaches(impl, method):
    a = impl(create=True, size=16)
    try:
        a.buf[1] = 7
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(1) as pool:
            assert pool.apply(_worker_write, (a, 5)) is True
        assert a.buf[0] == 5
    finally:
        a.close()
        a.unlink()


def test_anonymous_region_travels_by_fd():
    a = shmr.SharedMemory(create=True, size=16, anonymous=True)
    assert a.name is None
    a.buf[1] = 7
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply(_worker_write, (a, 6)) is True
    assert a.buf[0] == 6
    a.unlink()  # no name: nothing to do
    a.close()


def test_anonymous_process_start(tmp_path):
    a = shmr.SharedMemory(create=True, size=16, anonymous=True)
    a.buf[1] = 7
    p = multiprocessing.get_context("spawn").Process(target=_worker_write, args=(a, 8))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    assert a.buf[0] == 8
    a.close()


def test_anonymous_rejects_name():
    with pytest.raises(ValueError):
        shmr.SharedMemory("x", create=True, size=10, anonymous=True)


def test_closed_anonymous_cannot_pickle():
    a = shmr.SharedMemory(create=True, size=16, anonymous=True)
    a.close()
    with pytest.raises(ValueError):
        pickle.dumps(a)


def test_repr():
    a = shmr.SharedMemory(create=True, size=10)
    assert repr(a) == f"SharedMemory({a.name!r}, size={a.size})"
    a.close()
    a.unlink()


def test_size_is_the_region_size():
    a = shmr.SharedMemory(create=True, size=1)
    assert a.size == a.stat()["size"] and a.size % 4096 == 0
    a.close()
    a.unlink()


def test_backend_is_the_module_when_loaded():
    if os.access("/dev/shmr", os.R_OK | os.W_OK):
        assert shmr.backend() == "kernel"
    else:
        assert shmr.backend() == "posix"


def test_unusable_device_is_an_error_not_a_fallback(py):
    """A control device that opens but is not the module (SHMR_DEVICE points
    the library at /dev/null): an OSError naming it, not POSIX shm."""
    code = (
        "import errno, shmr\n"
        "assert shmr.backend() == 'none', shmr.backend()\n"
        "assert '/dev/null does not answer' in shmr.backend_error(), shmr.backend_error()\n"
        "try:\n"
        "    shmr.SharedMemory(create=True, size=4096)\n"
        "except OSError as e:\n"
        "    assert e.errno == errno.ENOTTY, e\n"
        "    assert '/dev/null does not answer' in str(e), e\n"
        "    print('refused')\n")
    r = py(code, env={"SHMR_DEVICE": "/dev/null", "SHMR_BACKEND": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "refused\n"
    assert shmr.backend_error() is None


def _make_process_region(name, how):
    shm = shmr.SharedMemory(name, create=True, size=4096, process=True)
    shm.buf[:7] = b"creator"
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    shm.close()


def _wait_gone(name, seconds=60):
    # the module unlinks from a work item, the posix backend's tracker
    # process from its poll loop, once the creator is gone; allow 60 s, since
    # a TCG guest on a loaded host can stall for seconds
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            shmr.SharedMemory(name).close()
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_process_lifetime_region(uname, how):
    """process=True: the name goes with its creator, also when it is SIGKILLed
    (the module, or on the posix backend the tracker process)."""
    name = uname()
    assert shmr.features() & 8      # SHMR_FEATURE_PROCESS, on either backend
    p = multiprocessing.get_context("fork").Process(target=_make_process_region,
                                                     args=(name, how))
    p.start()
    p.join(30)
    assert p.exitcode == (-signal.SIGKILL if how == "kill" else 0)
    assert _wait_gone(name), "the name outlived its creator"


def test_process_lifetime_region_on_posix(py, uname):
    """The same on the posix backend wherever the suite runs (in the VM the
    module is loaded): SIGKILLed creator, the name goes; the creator's own
    handle says 'process'; a child that inherited the mapping does not keep
    the name alive but still reads the memory."""
    code = f"""
import multiprocessing, os, signal, time, shmr
assert shmr.backend() == "posix"
name = {uname()!r}

def creator(q):
    shm = shmr.SharedMemory(name, create=True, size=4096, process=True)
    assert shm.stat()["flags"] & 8          # SHMR_STAT_PROCESS
    shm.buf[:7] = b"creator"
    q.put(os.getpid())
    time.sleep(60)

def inheritor(q, go):
    shm = shmr.SharedMemory(name)
    q.put("attached")
    go.get()
    q.put(bytes(shm.buf[:7]))
    shm.close()

ctx = multiprocessing.get_context("fork")
q, go = ctx.Queue(), ctx.Queue()
c = ctx.Process(target=creator, args=(q,))
c.start()
q.get(timeout=30)
i = ctx.Process(target=inheritor, args=(q, go))
i.start()
assert q.get(timeout=30) == "attached"
os.kill(c.pid, signal.SIGKILL)
c.join(30)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and os.path.exists("/dev/shm/shmr." + name):
    time.sleep(0.01)
assert not os.path.exists("/dev/shm/shmr." + name)
go.put(1)
assert q.get(timeout=30) == b"creator"
i.join(30)
assert i.exitcode == 0
print("ok")
"""
    r = py(code, env={"SHMR_BACKEND": "posix"}, timeout=180)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"


def test_attach_counts_with_the_module():
    a = shmr.SharedMemory(create=True, size=4096)
    try:
        st = a.stat()
        if shmr.backend() == "kernel":
            assert (st["handles"], st["mappings"], st["nattach"]) == (1, 1, 1)
            b = shmr.SharedMemory(a.name)       # attached: a mapping, no handle
            st = a.stat()
            assert (st["handles"], st["mappings"], st["nattach"]) == (1, 2, 1)
            assert b.stat()["handles"] == 2 and b.stat()["mappings"] == 2
            b.close()
            assert a.stat()["handles"] == 1 and a.stat()["mappings"] == 1
        else:
            assert st["handles"] == 2**32 - 1  # SHMR_COUNT_UNKNOWN
    finally:
        a.close()
        a.unlink()


def _open_fds():
    """The open fds (without opening one to list them)."""
    fds = []
    for fd in range(4096):
        try:
            os.fstat(fd)
        except OSError:
            continue
        fds.append(fd)
    return fds


def test_attach_by_name_holds_no_fd(uname):
    """SharedMemory(name) maps the region without a handle (one ioctl with
    the module): no fd stays open, the leak report shows one mapping."""
    name = uname()
    a = shmr.SharedMemory(name, create=True, size=8192)
    try:
        a.buf[:4] = b"abcd"
        fds = _open_fds()
        b = shmr.SharedMemory(name); line = sys._getframe().f_lineno  # noqa: E702
        assert _open_fds() == fds
        assert b.size == a.size == 8192 and not b.buf.readonly
        assert bytes(b.buf[:4]) == b"abcd"
        b.buf[4] = ord("e")
        assert a.buf[4] == ord("e")
        mine = [x for x in shmr.leak_report() if x.name == name and x.addr == b._region.address]
        assert [(x.kind, x.size, x.where) for x in mine] == [("mapping", 8192, f"{__file__}:{line}")]
        assert mine[0].id == a.stat()["id"]
        b.close()
        assert b.closed and b.buf is None
        assert [x for x in shmr.leak_report() if x.name == name and x.kind == "mapping"] == [
            x for x in shmr.leak_report() if x.name == name and x.addr == a._region.address]
    finally:
        a.close()
        a.unlink()


def test_attached_fileno_and_stat_open_a_handle(uname):
    name = uname()
    a = shmr.SharedMemory(name, create=True, size=4096)
    try:
        b = shmr.SharedMemory(name)
        fds = _open_fds()
        fd = b.fileno()
        assert _open_fds() == sorted(fds + [fd])
        assert b.fileno() == fd                    # opened once
        assert b.stat()["id"] == a.stat()["id"]
        assert sorted(x.fd for x in shmr.leak_report() if x.kind == "handle" and x.name == name) \
            == sorted([a.fileno(), fd])
        b.close()
        assert _open_fds() == fds
        assert b.closed
        with pytest.raises(ValueError):
            b.fileno()
    finally:
        a.close()
        a.unlink()


def test_attached_handle_only_of_the_same_region(uname):
    """A handle opened later must be the attached region's: after unlink,
    or with another region under the name, FileNotFoundError."""
    name = uname()
    a = shmr.SharedMemory(name, create=True, size=4096)
    b = shmr.SharedMemory(name)
    a.unlink()
    with pytest.raises(FileNotFoundError):
        b.stat()
    c = shmr.SharedMemory(name, create=True, size=4096)
    try:
        with pytest.raises(FileNotFoundError):
            b.fileno()
        b.buf[0] = 3                                # the mapping lives on
        assert a.buf[0] == 3 and c.buf[0] == 0
    finally:
        b.close()
        a.close()
        c.close()
        c.unlink()


def test_attach_errors_match_open(uname):
    name = uname()
    with pytest.raises(FileNotFoundError):
        shmr.SharedMemory(name)
    with pytest.raises(OSError) as e:
        shmr.SharedMemory(name + "/x")
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        shmr.SharedMemory("x" * 300)
    assert e.value.errno == errno.ENAMETOOLONG


def test_attach_more_regions_than_fds(uname):
    """A worker attached to more regions than it may open files."""
    import resource
    names = [uname() for _ in range(64)]
    for n in names:
        shmr.SharedMemory(n, create=True, size=4096).close()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    attached = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(_open_fds()) + 4, hard))
        for i, n in enumerate(names):
            m = shmr.SharedMemory(n)
            m.buf[0] = i
            attached.append(m)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        for m in attached:
            m.close()
        for n in names:
            shmr.unlink(n)
    assert len(attached) == len(names)
