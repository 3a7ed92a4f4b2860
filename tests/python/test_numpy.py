# SPDX-License-Identifier: LGPL-2.1-or-later
"""numpy views a region through the buffer protocol without copying."""
import multiprocessing

import pytest

import shmr

np = pytest.importorskip("numpy", reason="numpy (python3-numpy) not installed")


def test_frombuffer_is_the_mapping():
    a = shmr.SharedMemory(create=True, size=4096)
    arr = np.frombuffer(a.buf, dtype=np.int64)
    assert arr.ctypes.data == a._region.address  # the mapping itself, not a copy
    assert not arr.flags.owndata
    arr[3] = 123456789
    assert int.from_bytes(a.buf[24:32], "little") == 123456789
    b = shmr.SharedMemory(a.name)  # a second, separate mapping of the region
    barr = np.ndarray((512,), dtype=np.int64, buffer=b.buf)
    assert barr.ctypes.data == b._region.address
    assert barr[3] == 123456789
    barr[4] = -1
    assert arr[4] == -1
    assert np.shares_memory(arr, np.frombuffer(a.buf, dtype=np.int64))
    assert not np.shares_memory(arr, barr)  # two mappings, same pages
    del arr, barr
    b.close()
    a.close()
    a.unlink()


def test_close_refused_while_array_alive():
    a = shmr.SharedMemory(create=True, size=4096)
    arr = np.ndarray((4,), dtype=np.float64, buffer=a.buf)
    with pytest.raises(BufferError):
        a.close()
    del arr
    a.close()
    a.unlink()


def _double(name, n):
    shm = shmr.SharedMemory(name)
    arr = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
    arr *= 2
    del arr
    shm.close()


def test_worker_writes_visible():
    n = 1000
    a = shmr.SharedMemory(create=True, size=n * 8)
    arr = np.ndarray((n,), dtype=np.float64, buffer=a.buf)
    arr[:] = np.arange(n)
    p = multiprocessing.get_context("fork").Process(target=_double, args=(a.name, n))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    assert np.array_equal(arr, np.arange(n) * 2.0)
    del arr
    a.close()
    a.unlink()
