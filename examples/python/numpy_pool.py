#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A numpy array shared by a multiprocessing pool under a robust shmr lock.

One worker is SIGKILLed in the middle of an update, holding the lock. The
parent takes the lock, is told the owner died (shmr.OwnerDead), repairs the
half-updated array, marks the lock consistent, and the pool carries on.
Then it prints the leak report (shmr.leak_report()) before and after it
closes its own handle.

Run: make python-example  (or PYTHONPATH=build/python /usr/bin/python3 examples/python/numpy_pool.py)
"""
import multiprocessing
import os
import signal
import sys
import time

import numpy as np

import shmr

N = 100_000                 # float64 elements
LOCK_OFF = 0                # shmr.Lock (64 bytes)
HDR_OFF = 64                # committed (int64), victim pid (int64), victim mid-update flag (int64)
DATA_OFF = 4096             # the array, page aligned
SIZE = DATA_OFF + N * 8


def header(buf):
    return np.ndarray((3,), dtype=np.int64, buffer=buf, offset=HDR_OFF)


def add_one(shm, victim=False):
    """Add 1 to every element, in two halves, under the lock."""
    lock = shmr.Lock(shm, LOCK_OFF)
    arr = np.ndarray((N,), dtype=np.float64, buffer=shm.buf, offset=DATA_OFF)
    hdr = header(shm.buf)
    try:
        lock.acquire()
        try:
            arr[: N // 2] += 1
            if victim:                  # stop half way and wait to be killed
                hdr[1] = os.getpid()
                hdr[2] = 1
                time.sleep(60)
            arr[N // 2:] += 1
            hdr[0] += 1                 # the update is committed
        finally:
            lock.release()
        return os.getpid()
    finally:
        del arr, hdr
        lock.close()
        shm.close()


def main():
    print(f"shmr backend: {shmr.backend()}")
    shm = shmr.SharedMemory(create=True, size=SIZE)
    lock = shmr.Lock(shm, LOCK_OFF, create=True)
    arr = np.ndarray((N,), dtype=np.float64, buffer=shm.buf, offset=DATA_OFF)
    hdr = header(shm.buf)
    print(f"region {shm.name}: {shm.size} bytes, array of {N} float64 at offset {DATA_OFF}")

    with multiprocessing.get_context("fork").Pool(4) as pool:
        pids = pool.starmap(add_one, [(shm,)] * 8)
        print(f"8 updates by {len(set(pids))} workers: "
              f"committed={hdr[0]}, array all {arr[0]:.0f}: {bool((arr == hdr[0]).all())}")

        victim = pool.apply_async(add_one, (shm, True))
        while hdr[2] == 0:
            time.sleep(0.01)
        pid = int(hdr[1])
        os.kill(pid, signal.SIGKILL)
        print(f"worker {pid} SIGKILLed mid-update, holding the lock "
              f"(array now {arr[0]:.0f} in the first half, {arr[-1]:.0f} in the second)")
        time.sleep(0.2)

        try:
            lock.acquire()
            print("lock acquired normally (unexpected)")
        except shmr.OwnerDead:
            print(f"parent: shmr.OwnerDead (owner now {lock.owner()[:2]}: this process holds it)")
            # repair: undo the half-done update, back to the committed count
            arr[:] = hdr[0]
            hdr[2] = 0
            lock.consistent()
            print(f"parent: repaired to committed={hdr[0]}, lock marked consistent")
        lock.release()

        pool.starmap(add_one, [(shm,)] * 4)
        ok = bool((arr == hdr[0]).all()) and hdr[0] == 12
        print(f"4 more updates after recovery: committed={hdr[0]}, array consistent: {ok}")
        del victim              # its result never comes: the worker is dead
        pool.terminate()

    print("leak report while the parent still holds the region:")
    for leak in shmr.leak_report():
        print(f"  {leak.kind:8} name={leak.name} size={leak.size} where={leak.where}")
    del arr, hdr
    lock.close()
    shm.close()
    shm.unlink()
    print(f"leak report after close: {shmr.leak_report()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
