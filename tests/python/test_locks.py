# SPDX-License-Identifier: LGPL-2.1-or-later
"""Robust locks inside a region, across processes, and recovery after SIGKILL."""
import errno
import multiprocessing
import os
import signal
import time

import pytest

import shmr

ctx = multiprocessing.get_context("fork")


@pytest.fixture
def shm():
    s = shmr.SharedMemory(create=True, size=8192)
    yield s
    import gc
    gc.collect()
    try:
        s.close()
    finally:
        s.unlink()


def _hold_forever(shm, kind, offset, ready):
    if kind == "lock":
        shmr.Lock(shm, offset).acquire()
    elif kind == "write":
        shmr.RWLock(shm, offset).acquire_write()
    elif kind == "read":
        shmr.RWLock(shm, offset).acquire_read()
    shm.buf[4000] = 1  # "mid-update"
    ready.set()
    time.sleep(600)


def _start_holder(shm, kind="lock", offset=0):
    ready = ctx.Event()
    p = ctx.Process(target=_hold_forever, args=(shm, kind, offset, ready), daemon=True)
    p.start()
    assert ready.wait(30)
    return p


def _kill(p):
    os.kill(p.pid, signal.SIGKILL)
    p.join(30)
    assert p.exitcode == -signal.SIGKILL


def test_lock_basic(shm):
    lock = shmr.Lock(shm, 0, create=True)
    assert lock.acquire() is True
    assert lock.locked() and lock.owner()[:1] == (os.getpid(),)
    with pytest.raises(RuntimeError):  # not recursive
        lock.acquire()
    lock.release()
    assert lock.owner() is None and not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    lock.close()


def test_lock_excludes_other_process(shm):
    lock = shmr.Lock(shm, 0, create=True)
    p = _start_holder(shm)
    assert lock.acquire(blocking=False) is False
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.2) is False
    assert time.monotonic() - t0 >= 0.19
    with pytest.raises(ValueError):
        lock.acquire(False, 1.0)
    _kill(p)
    with pytest.raises(shmr.OwnerDead):
        lock.acquire()
    lock.consistent()
    lock.release()
    lock.close()


def test_owner_dead_after_sigkill(shm):
    lock = shmr.Lock(shm, 0, create=True)
    p = _start_holder(shm)
    owner = lock.owner()
    assert owner == (p.pid, owner[1], "alive")
    _kill(p)
    assert lock.owner() == (p.pid, 0, "dead")
    with pytest.raises(shmr.OwnerDead) as e:
        lock.acquire()
    assert isinstance(e.value, RuntimeError) and e.value.errno == errno.EOWNERDEAD
    assert lock.owner()[0] == os.getpid()  # held by the survivor
    assert shm.buf[4000] == 1  # the half-done update
    shm.buf[4000] = 0  # repair
    lock.consistent()
    lock.release()
    assert lock.acquire(blocking=False) is True  # normal again
    lock.release()
    lock.close()
    if shmr.backend() == "kernel":  # the module recorded the death
        recs = [r for r in shmr.exit_records() if r["pid"] == p.pid]
        assert recs and recs[0]["signal"] == signal.SIGKILL
        assert recs[0]["name"] == shm.name and recs[0]["mappings"] >= 1
    else:
        with pytest.raises(OSError) as e:
            shmr.exit_records()
        assert e.value.errno == errno.EOPNOTSUPP


def test_not_recoverable(shm):
    lock = shmr.Lock(shm, 0, create=True)
    _kill(_start_holder(shm))
    with pytest.raises(shmr.OwnerDead):
        lock.acquire()
    lock.release()  # without consistent()
    with pytest.raises(shmr.NotRecoverable):
        lock.acquire()
    with pytest.raises(shmr.NotRecoverable):
        lock.acquire(blocking=False)
    assert lock.owner() == (0, 0, "unrecoverable")
    assert lock.locked()
    lock.close()


def _attach_unrecoverable(shm, q):
    """Another process attaches to the unrecoverable lock: attaching works,
    owner() answers, acquire() raises."""
    try:
        lock = shmr.Lock(shm, 0)
    except Exception as e:  # the bug: NotRecoverable from the constructor
        q.put(("attach", repr(e)))
        return
    owner = lock.owner()
    try:
        lock.acquire(timeout=5)
        got = "acquired"
    except shmr.NotRecoverable:
        got = "NotRecoverable"
    rlock = shmr.RLock(shm, 0)
    try:
        rlock.acquire()
        rgot = "acquired"
    except shmr.NotRecoverable:
        rgot = "NotRecoverable"
    cond = shmr.Condition(shm, 0)
    q.put((owner, got, rgot, lock.locked()))
    cond.close()
    rlock.close()
    lock.close()


def test_attach_to_unrecoverable_lock(shm):
    lock = shmr.Lock(shm, 0, create=True)
    _kill(_start_holder(shm))
    with pytest.raises(shmr.OwnerDead):
        lock.acquire()
    lock.release()  # without consistent(): unrecoverable for everyone
    q = ctx.Queue()
    p = ctx.Process(target=_attach_unrecoverable, args=(shm, q))
    p.start()
    assert q.get(timeout=30) == ((0, 0, "unrecoverable"), "NotRecoverable", "NotRecoverable", True)
    p.join(30)
    assert p.exitcode == 0
    lock.close()


def test_attach_to_unrecoverable_rwlock(shm):
    rw = shmr.RWLock(shm, 0, create=True)
    _kill(_start_holder(shm, "write"))
    with pytest.raises(shmr.OwnerDead):
        rw.acquire_read()
    rw.release()  # without consistent()
    again = shmr.RWLock(shm, 0)  # used to raise NotRecoverable
    assert again.owner() == (0, 0, "unrecoverable")
    with pytest.raises(shmr.NotRecoverable):
        again.acquire_write(blocking=False)
    again.close()
    rw.close()


def _wait_lock(shm, q):
    lock = shmr.Lock(shm, 0)
    try:
        lock.acquire()
        q.put("acquired")
    except shmr.OwnerDead:
        lock.consistent()
        q.put("ownerdead")
    lock.release()


def test_blocked_waiter_is_woken_by_death(shm):
    lock = shmr.Lock(shm, 0, create=True)
    holder = _start_holder(shm)
    q = ctx.Queue()
    waiter = ctx.Process(target=_wait_lock, args=(shm, q))
    waiter.start()
    time.sleep(0.3)
    assert q.empty()
    _kill(holder)
    assert q.get(timeout=30) == "ownerdead"
    waiter.join(30)
    assert waiter.exitcode == 0
    assert lock.acquire(blocking=False)
    lock.release()
    lock.close()


def test_rlock(shm):
    r = shmr.RLock(shm, 0, create=True)
    assert r.acquire() and r.acquire()
    r.release()
    assert r.owner() is not None
    r.release()
    assert r.owner() is None
    with pytest.raises(RuntimeError):
        r.release()
    r.close()


def test_rlock_owner_dead(shm):
    r = shmr.RLock(shm, 0, create=True)
    _kill(_start_holder(shm))  # holds the same mutex layout
    with pytest.raises(shmr.OwnerDead):
        r.acquire()
    r.consistent()
    assert r.acquire()  # held: recursion works after recovery
    r.release()
    r.release()
    r.close()


def _cond_child(shm):
    c = shmr.Condition(shm, 0)
    with c:
        c.wait_for(lambda: shm.buf[200] == 1, timeout=30)
        shm.buf[201] = 1
        c.notify_all()


def test_condition_across_processes(shm):
    c = shmr.Condition(shm, 0, create=True)
    p = ctx.Process(target=_cond_child, args=(shm,))
    p.start()
    time.sleep(0.2)
    with c:
        shm.buf[200] = 1
        c.notify()
        assert c.wait_for(lambda: shm.buf[201] == 1, timeout=30)
    p.join(30)
    assert p.exitcode == 0
    with c:
        t0 = time.monotonic()
        assert c.wait(0.2) is False
        assert time.monotonic() - t0 >= 0.19
    c.close()


def test_condition_with_explicit_lock(shm):
    lock = shmr.Lock(shm, 0, create=True)
    c = shmr.Condition(shm, 64, lock, create=True)
    assert c.lock is lock
    with c:
        assert lock.locked()
        assert c.wait(0.01) is False
    with pytest.raises(TypeError):
        shmr.Condition(shm, 128, lock=object(), create=True)
    c.close()


def test_rwlock_readers_share_writers_exclude(shm):
    rw = shmr.RWLock(shm, 0, create=True)
    p = _start_holder(shm, "read")
    assert rw.acquire_read(blocking=False)
    rw.release()
    assert rw.acquire_write(timeout=0.1) is False
    _kill(p)  # a reader's death is silent
    with rw.write():
        assert rw.owner()[0] == os.getpid()
    assert rw.owner() is None
    rw.close()


def test_rwlock_writer_death(shm):
    rw = shmr.RWLock(shm, 0, create=True)
    _kill(_start_holder(shm, "write"))
    with pytest.raises(shmr.OwnerDead):
        rw.acquire_read()  # the reader now holds it exclusively
    assert rw.owner()[0] == os.getpid()
    rw.consistent()
    rw.release()
    with rw.read():
        pass
    rw.close()


BAD_PLACES = [
    ("offset past the end", lambda s: shmr.Lock(s, 8192 - 32, create=True), ValueError),
    ("negative offset", lambda s: shmr.Lock(s, -8, create=True), ValueError),
    ("misaligned", lambda s: shmr.Lock(s, 4, create=True), ValueError),
    ("read-only buffer", lambda s: shmr.Lock(bytes(128), 0, create=True), BufferError),
    ("not a buffer", lambda s: shmr.Lock(42, 0, create=True), TypeError),
    ("not initialised", lambda s: shmr.Lock(s, 512), ValueError),
    ("rwlock past the end", lambda s: shmr.RWLock(s, 8192 - 1024, create=True), ValueError),
    ("rwlock not initialised", lambda s: shmr.RWLock(s, 2048), ValueError),
]


@pytest.mark.parametrize("case,make,exc", BAD_PLACES, ids=[b[0] for b in BAD_PLACES])
def test_bad_lock_placement(shm, case, make, exc):
    with pytest.raises(exc):
        make(shm)


def test_lock_pins_the_mapping(shm):
    lock = shmr.Lock(shm, 0, create=True)
    with pytest.raises(BufferError):
        shm.close()
    lock.close()
    with pytest.raises(ValueError):
        lock.acquire()


def test_lock_in_stdlib_shared_memory():
    from multiprocessing import shared_memory
    s = shared_memory.SharedMemory(create=True, size=4096)
    lock = shmr.Lock(s.buf, 0, create=True)
    with lock:
        pass
    lock.close()
    s.close()
    s.unlink()
