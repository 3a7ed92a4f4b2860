# SPDX-License-Identifier: LGPL-2.1-or-later
"""shmr: refcounted shared memory regions and robust locks for Python.

A drop-in for multiprocessing.shared_memory.SharedMemory built on libshmr
(the kernel module /dev/shmr when loaded, POSIX shm otherwise), robust
process-shared locks that live inside a region, and the library's exact
leak report. See docs/python.md.
"""
import collections
import errno
import multiprocessing.reduction
import multiprocessing.util
import operator
import os
import re
import secrets
import sys
import threading

import _shmr

__all__ = [
    "SharedMemory", "Lock", "RLock", "Condition", "RWLock",
    "OwnerDead", "NotRecoverable", "leak_report", "leak_report_text",
    "leak_count", "registry", "backend", "features", "unlink", "exit_records",
]

__version__ = _shmr.__version__   # the library's, which _shmr has built in

OwnerDead = _shmr.OwnerDead
NotRecoverable = _shmr.NotRecoverable
OwnerDead.errno = errno.EOWNERDEAD
NotRecoverable.errno = errno.ENOTRECOVERABLE
OwnerDead.__module__ = NotRecoverable.__module__ = __name__

unlink = _shmr.unlink
leak_report_text = _shmr.leak_report_text
leak_count = _shmr.leak_count
registry = _shmr.registry
features = _shmr.features


def exit_records(clear=False):
    """The module's records of processes that exited or were killed while
    attached to a region of this IPC namespace (dicts: pid, signal, status,
    handles, mappings, comm, name, region_id, when_ns), oldest first;
    clear=True forgets the ones returned. OSError(EOPNOTSUPP) on posix."""
    return _shmr.exit_records(clear)


def backend():
    """'kernel' (the module) or 'posix' (the fallback), or 'none'."""
    return _shmr.backend()


def backend_error():
    """None when a backend is in use, else why there is none (e.g. /dev/shmr
    exists but this user may not open it: the device, its group, what to do).
    Every call that needs a backend then raises OSError with this message."""
    return _shmr.backend_error()


def _caller(depth=2):
    """file:line of the user code that called into shmr (for the leak report)."""
    f = sys._getframe(depth)
    here = os.path.dirname(__file__)
    while f is not None and os.path.dirname(f.f_code.co_filename) == here:
        f = f.f_back
    if f is None:
        return None, 0
    return f.f_code.co_filename, f.f_lineno


_SAFE_NAME_LENGTH = 14
_NAME_PREFIX = "psm_"


def _make_name():
    return _NAME_PREFIX + secrets.token_hex((_SAFE_NAME_LENGTH - len(_NAME_PREFIX)) // 2)


class SharedMemory:
    """A shmr region, mapped: a drop-in for multiprocessing.shared_memory.SharedMemory.

    SharedMemory(name=None, create=False, size=0, *, anonymous=False,
                 mode=0o600, process=False)

    name=None with create=True makes a random name (like the standard
    library); anonymous=True makes a region without a name that lives while
    some process holds it (it travels to multiprocessing workers by fd).
    process=True unlinks the name when the creating process ends, however it
    ends (the module does it, or on the posix backend the library's tracker
    process). size is the region's size, rounded up to the page size.

    On the posix backend a name "/NAME" is the POSIX shm object NAME itself:
    SharedMemory("/psm_1234") opens what
    multiprocessing.shared_memory.SharedMemory("psm_1234") made; the other
    way round, posix_name is the name the standard library knows a region by.
    """

    _region = None
    _buf = None
    _name = None

    def __init__(self, name=None, create=False, size=0, *, anonymous=False, mode=0o600,
                 process=False, _adopt_fd=None):
        file, line = _caller()
        if _adopt_fd is not None:
            self._region = _shmr.Region.adopt(_adopt_fd, file, line)
            self._buf = memoryview(self._region)
            return
        if not size >= 0:
            raise ValueError("'size' must be a positive integer")
        if create:
            if size == 0:
                raise ValueError("'size' must be a positive number different from zero")
        if name is None and not create:
            raise ValueError("'name' can only be None if create=True")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be str, not {type(name).__name__}")
        if create:
            size = operator.index(size)
            if size > 2**63 - 1:    # what os.ftruncate() says in the standard library
                raise OverflowError("Python int too large to convert to C long")
            flags = _shmr.REGION_EXCL | (_shmr.REGION_PROCESS if process else 0)
            if anonymous:
                if name is not None:
                    raise ValueError("an anonymous region has no name")
                flags &= ~(_shmr.REGION_EXCL | _shmr.REGION_PROCESS)
                self._region = _shmr.Region.create(None, size, mode, flags, file, line)
            elif name is None:
                while True:
                    name = _make_name()
                    try:
                        self._region = _shmr.Region.create(name, size, mode, flags, file, line)
                    except FileExistsError:
                        continue
                    break
            else:
                self._region = _shmr.Region.create(name, size, mode, flags, file, line)
        else:
            # No handle (no fd) until fileno() or stat() needs one: a named
            # region travels to other processes by name.
            self._region = _shmr.Region.attach(name, 0, file, line)
        self._name = name
        self._buf = memoryview(self._region)

    def __reduce__(self):
        if self._name is not None:
            return (self.__class__, (self._name, False, self.size))
        if self._region is None or self._region.closed:
            raise ValueError("cannot pickle a closed anonymous SharedMemory")
        # Anonymous: pass the fd (multiprocessing's fd passing; the receiver
        # gets its own handle through shmr_region_recv()).
        return (_rebuild_anonymous,
                (multiprocessing.reduction.DupFd(self._region.fileno()),))

    def __repr__(self):
        return f"{self.__class__.__name__}({self.name!r}, size={self.size})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def buf(self):
        "A memoryview of the region's contents (no copy)."
        return self._buf

    @property
    def name(self):
        "The region's name (None for an anonymous region)."
        return self._name

    @property
    def posix_name(self):
        """The name multiprocessing.shared_memory.SharedMemory(name) opens this
        region by (shm_open() takes it with a leading '/'): "shmr.NAME" for a
        region NAME, "NAME" for "/NAME". None on the kernel backend, whose
        regions are not POSIX shm objects, and for anonymous regions."""
        if self._name is None or _shmr.backend() != "posix":
            return None
        if self._name.startswith("/"):
            return self._name[1:]
        return "shmr." + self._name

    @property
    def size(self):
        "Size in bytes (the region's size, rounded up to the page size)."
        return self._region.size if self._region is not None else 0

    @property
    def closed(self):
        return self._region is None or self._region.closed

    def fileno(self):
        """The handle's fd (owned by the handle). SharedMemory(name) attaches
        without a handle: the first fileno() or stat() opens one by name
        (FileNotFoundError if the name no longer leads to this region)."""
        return self._region.fileno()

    def stat(self):
        "shmr_region_stat() as a dict (see fileno() for attached regions)."
        return self._region.stat()

    def close(self):
        """Unmap, and close the handle if there is one; the region lives on
        while others use it.

        Raises BufferError while other objects (numpy arrays, memoryviews
        made from buf, locks) still use the memory, like the standard library;
        also while buf itself is referenced elsewhere (numpy's
        ndarray(buffer=shm.buf) keeps the region object as its base without
        holding a buffer export, and would crash on the unmapped memory with
        the standard library)."""
        if self._buf is not None:
            # references: self._region, self._buf's export, getrefcount's argument
            if sys.getrefcount(self._region) > 3:
                raise BufferError("cannot close: buf is still referenced "
                                  "(e.g. by a numpy array); delete it first")
            self._buf.release()
            self._buf = None
        if self._region is not None:
            self._region.close()

    def unlink(self):
        """Remove the name; the region is freed when the last user is gone."""
        if self._name is not None:
            _shmr.unlink(self._name)


def _rebuild_anonymous(dupfd):
    return SharedMemory(_adopt_fd=dupfd.detach())


# ---- locks -------------------------------------------------------------------

def _buffer_of(shm):
    return shm.buf if isinstance(shm, SharedMemory) else shm


class Lock:
    """A robust process-shared mutex (struct shmr_mutex, Lock.SIZE bytes) at
    offset in shm (a SharedMemory or any writable buffer), 8-byte aligned.

    create=True initialises it (once, before any process uses it);
    create=False attaches to one already initialised, whatever its state
    (ValueError if there is none).

    acquire() raises OwnerDead when the previous owner died holding it: the
    caller then HOLDS the lock, repairs the data and calls consistent()
    (releasing without it makes the lock unrecoverable: every later
    acquire() raises NotRecoverable, while attaching and owner() still work).
    Owned by the acquiring thread: another thread cannot release it.
    """
    SIZE = _shmr.MUTEX_SIZE

    def __init__(self, shm, offset=0, *, create=False):
        self._m = _shmr.Mutex(_buffer_of(shm), offset)
        if create:
            self._m.init()
        else:
            self._m.owner()     # ValueError if nothing initialised is there

    def acquire(self, blocking=True, timeout=-1):
        return self._m.acquire(blocking, timeout)

    def release(self):
        self._m.release()

    def consistent(self):
        self._m.consistent()

    def owner(self):
        """None when free; else (pid, tid, 'alive') while held, (pid, 0, 'dead')
        when the owner died and nobody took it since, (0, 0, 'unrecoverable')
        when it can no longer be acquired."""
        return self._m.owner()

    def locked(self):
        "True while held, and when unrecoverable (nobody can take it)."
        return self._m.owner() is not None

    def close(self):
        "Let go of the buffer (so that SharedMemory.close() can unmap)."
        self._m.close()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()


class RLock:
    """A reentrant Lock (the same SIZE and memory layout as Lock): the
    recursion count is kept by this object, per process and thread."""
    SIZE = Lock.SIZE

    def __init__(self, shm, offset=0, *, create=False):
        self._lock = Lock(shm, offset, create=create)
        self._owner = None
        self._count = 0

    def _me(self):
        return (os.getpid(), threading.get_ident())

    def acquire(self, blocking=True, timeout=-1):
        if self._owner == self._me():
            self._count += 1
            return True
        try:
            ok = self._lock.acquire(blocking, timeout)
        except OwnerDead:
            self._owner, self._count = self._me(), 1
            raise
        if ok:
            self._owner, self._count = self._me(), 1
        return ok

    def release(self):
        if self._owner != self._me():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            self._lock.release()

    def consistent(self):
        self._lock.consistent()

    def owner(self):
        return self._lock.owner()

    def close(self):
        self._lock.close()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()


class Condition:
    """A process-shared condition variable (struct shmr_cond) used with a
    shmr Lock, with threading.Condition's methods.

    Condition(shm, offset, lock=None, create=False): with lock=None a new
    Lock is placed at offset and the condition after it (Condition.SIZE
    bytes in all); with a Lock, only the condition is at offset
    (Condition.COND_SIZE bytes).
    """
    COND_SIZE = _shmr.COND_SIZE
    SIZE = Lock.SIZE + COND_SIZE

    def __init__(self, shm, offset=0, lock=None, *, create=False):
        if lock is None:
            lock = Lock(shm, offset, create=create)
            offset += Lock.SIZE
        if not isinstance(lock, Lock):
            raise TypeError("lock must be a shmr.Lock")
        self._lock = lock
        self._c = _shmr.Cond(_buffer_of(shm), offset)
        if create:
            self._c.init()

    @property
    def lock(self):
        return self._lock

    def acquire(self, *args, **kw):
        return self._lock.acquire(*args, **kw)

    def release(self):
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def wait(self, timeout=None):
        """Release the lock, wait for a notify, re-take the lock.
        False when timeout passed; wakeups may be spurious: re-check the
        predicate (wait_for does). OwnerDead if the lock's owner died
        meanwhile (the lock is held)."""
        if timeout is None:
            return self._c.wait(self._lock._m)
        import time
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            if not self._c.wait(self._lock._m, left):
                return False
            return True

    def wait_for(self, predicate, timeout=None):
        import time
        end = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.wait(left)
            else:
                self.wait()
            result = predicate()
        return result

    def notify(self, n=1):
        "Wake one waiter (n == 1) or all of them (n > 1: the futex cannot count)."
        if n > 1:
            self._c.signal(True)
        elif n == 1:
            self._c.signal(False)

    def notify_all(self):
        self._c.signal(True)

    def close(self):
        self._c.close()
        self._lock.close()


class RWLock:
    """A robust process-shared reader-writer lock (struct shmr_rwlock,
    RWLock.SIZE bytes), writers preferred. A writer's death is reported to
    the next locker (reader or writer) as OwnerDead, who then holds it
    EXCLUSIVELY; a reader's death is silent. Read locks are not recursive.

    with rw.read(): ...   with rw.write(): ...
    """
    SIZE = _shmr.RWLOCK_SIZE

    def __init__(self, shm, offset=0, *, create=False):
        self._rw = _shmr.RWLock(_buffer_of(shm), offset)
        if create:
            self._rw.init()
        else:
            self._rw.owner()

    def acquire_read(self, blocking=True, timeout=-1):
        return self._rw.acquire_read(blocking, timeout)

    def acquire_write(self, blocking=True, timeout=-1):
        return self._rw.acquire_write(blocking, timeout)

    def release(self):
        self._rw.release()

    def consistent(self):
        self._rw.consistent()

    def owner(self):
        return self._rw.owner()

    def close(self):
        self._rw.close()

    def read(self):
        return _Held(self, self.acquire_read)

    def write(self):
        return _Held(self, self.acquire_write)


class _Held:
    def __init__(self, rw, acquire):
        self._rw, self._acquire = rw, acquire

    def __enter__(self):
        self._acquire()
        return self._rw

    def __exit__(self, *exc):
        self._rw.release()


# ---- leak report ---------------------------------------------------------------

Leak = collections.namedtuple(
    "Leak", "kind name size fd addr id where lock_kind tid",
    defaults=(None,) * 9)

_FIELD = re.compile(r"(\w+)=(\S*)")


def _unescape(name):
    if name == "(anonymous)":
        return None
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), name)


def leak_report():
    """What this process made and still holds, exactly as the library's
    report lists it: a list of Leak(kind='handle'|'mapping'|'lock', ...)."""
    out = []
    for line in _shmr.leak_report_text().splitlines():
        if not line.startswith("shmr-leak: "):
            continue
        rest = line[len("shmr-leak: "):]
        kind, _, rest = rest.partition(" ")
        if kind.startswith("pid="):
            continue
        where = None
        if " where=" in rest:
            rest, _, where = rest.partition(" where=")
        elif rest.startswith("where="):
            where, rest = rest[len("where="):], ""
        f = dict(_FIELD.findall(rest))
        if kind == "lock":
            out.append(Leak(kind="lock", addr=int(f["addr"], 16), tid=int(f["tid"]),
                            lock_kind=f.get("kind"), where=where))
        else:
            out.append(Leak(kind=kind, name=_unescape(f.get("name", "")),
                            size=int(f["size"]),
                            fd=int(f["fd"]) if "fd" in f else None,
                            addr=int(f["addr"], 16) if "addr" in f else None,
                            id=int(f["id"]), where=where))
    return out


# multiprocessing's children leave with os._exit(), which skips the
# library's atexit report: run the same report from multiprocessing's own
# exit hook (the last finalizer) in every child it starts.
class _ChildHook:
    pass


_child_hook = _ChildHook()


def _arm_child_report(_obj):
    multiprocessing.util.Finalize(None, _shmr.exit_report, exitpriority=-(1 << 30))


multiprocessing.util.register_after_fork(_child_hook, _arm_child_report)
