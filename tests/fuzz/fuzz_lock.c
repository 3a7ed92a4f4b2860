// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the locks read state that other processes write. A mutex,
 * an rwlock and a condition variable in a MAP_SHARED page are filled with
 * arbitrary bytes (the list linkage aside: it is only ever written by the
 * holder), then driven with the calls that never block: trylock, timed
 * lock with a deadline in the past, owner, consistent, unlock of what was
 * taken, timed wait, signal, broadcast. Every call returns one of its
 * documented results; whatever was acquired unlocks with 0; afterwards
 * this thread holds no lock (shmr_leak_count() is 0).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shmr.h"

#define FUZZ_NAME "fuzz_lock"
#include "fuzz.h"

struct shared {
	struct shmr_mutex m;
	struct shmr_cond c;
	struct shmr_rwlock rw;
};

static struct shared *sh;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	return 0;
}

/* Copy fuzz bytes over a lock, keeping the list linkage (bytes 24..39) zero. */
static size_t fill(void *lock, size_t size, const uint8_t *data, size_t len)
{
	size_t n = len < size ? len : size;

	memset(lock, 0, size);
	memcpy(lock, data, n);
	if (size == sizeof(struct shmr_mutex))
		memset((char *)lock + 24, 0, 16);
	return n;
}

static void fill_rwlock(struct shmr_rwlock *rw, const uint8_t *data, size_t len)
{
	struct shmr_mutex *parts = (struct shmr_mutex *)rw;
	size_t i, off = 0;

	for (i = 0; i < 1 + SHMR_RWLOCK_READERS; i++)
		off += fill(&parts[i], sizeof(parts[i]), data + off, len - off);
}

static struct timespec past(clockid_t clk)
{
	struct timespec ts;

	CHECK(clock_gettime(clk, &ts) == 0);
	ts.tv_sec -= 1;
	return ts;
}

/*
 * Did a lock call that returned err take the lock? Counted as accepted or
 * refused; a refused call must leave this thread holding nothing.
 */
static bool acquired(int err)
{
	if (err == 0 || err == -EOWNERDEAD) {
		accepted++;
		return true;
	}
	CHECK(shmr_leak_count() == 0);
	refused++;
	return false;
}

static void mutex_ops(uint8_t op)
{
	struct timespec ts = past(op & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC);
	pid_t pid, tid;
	int err;

	err = shmr_mutex_owner(&sh->m, &pid, &tid);
	CHECK(err == 0 || err == -ENOENT || err == -EOWNERDEAD || err == -ENOTRECOVERABLE ||
	      err == -EINVAL);
	if (op & 2)
		err = shmr_mutex_trylock(&sh->m);
	else
		err = shmr_mutex_timedlock(&sh->m, op & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
	CHECK(err == 0 || err == -EOWNERDEAD || err == -ENOTRECOVERABLE || err == -EDEADLK ||
	      err == -EINVAL || err == -EBUSY || err == -ETIMEDOUT);
	if (!acquired(err))
		return;
	if (err == -EOWNERDEAD && (op & 4))
		CHECK(shmr_mutex_consistent(&sh->m) == 0);
	if (op & 8) {
		/* a timed wait on the fuzzed condition variable, mutex held */
		struct timespec cts = past(CLOCK_MONOTONIC);

		err = shmr_cond_timedwait(&sh->c, &sh->m, CLOCK_MONOTONIC, &cts);
		CHECK(err == -ETIMEDOUT || err == -EINVAL || err == 0 || err == -EOWNERDEAD ||
		      err == -ENOTRECOVERABLE);
		if (err == -ENOTRECOVERABLE) {
			/*
			 * Waiting released a mutex left inconsistent: that
			 * made it unrecoverable, and it is not held now.
			 */
			CHECK(shmr_leak_count() == 0);
			CHECK(shmr_mutex_unlock(&sh->m) == -EPERM);
			return;
		}
		err = shmr_cond_signal(&sh->c);
		CHECK(err == 0 || err == -EINVAL);
		err = shmr_cond_broadcast(&sh->c);
		CHECK(err == 0 || err == -EINVAL);
	}
	CHECK(shmr_mutex_owner(&sh->m, &pid, &tid) == 0 || (op & 4) == 0);
	CHECK(shmr_mutex_unlock(&sh->m) == 0);
	CHECK(shmr_leak_count() == 0);
	/* a second unlock is refused: the lock is no longer ours */
	err = shmr_mutex_unlock(&sh->m);
	CHECK(err == -EPERM || err == -EINVAL || err == -ENOTRECOVERABLE);
}

static void rwlock_ops(uint8_t op)
{
	struct timespec ts = past(CLOCK_MONOTONIC);
	int err;

	switch (op & 3) {
	case 0:
		err = shmr_rwlock_tryrdlock(&sh->rw);
		break;
	case 1:
		err = shmr_rwlock_trywrlock(&sh->rw);
		break;
	case 2:
		err = shmr_rwlock_timedrdlock(&sh->rw, CLOCK_MONOTONIC, &ts);
		break;
	default:
		err = shmr_rwlock_timedwrlock(&sh->rw, CLOCK_MONOTONIC, &ts);
		break;
	}
	CHECK(err == 0 || err == -EOWNERDEAD || err == -ENOTRECOVERABLE || err == -EDEADLK ||
	      err == -EINVAL || err == -EBUSY || err == -ETIMEDOUT || err == -EAGAIN);
	if (!acquired(err))
		return;
	if (err == -EOWNERDEAD && (op & 4))
		CHECK(shmr_rwlock_consistent(&sh->rw) == 0);
	CHECK(shmr_rwlock_unlock(&sh->rw) == 0);
	CHECK(shmr_leak_count() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t op;

	if (len < 1)
		return 0;
	op = data[0];
	data++;
	len--;
	if (op & 0x80) {
		/* start from valid locks and let the bytes overwrite a prefix */
		CHECK(shmr_mutex_init(&sh->m, 0) == 0);
		CHECK(shmr_cond_init(&sh->c, 0) == 0);
		CHECK(shmr_rwlock_init(&sh->rw, 0) == 0);
		if (op & 0x40) {
			memcpy(&sh->m, data, len < 24 ? len : 24);
		} else {
			size_t n = len < 24 ? len : 24;
			struct shmr_mutex *first = (struct shmr_mutex *)&sh->rw;

			memcpy(first, data, n);
			if (len > n)
				memcpy(&sh->c, data + n, len - n < 16 ? len - n : 16);
		}
	} else {
		size_t off = fill(&sh->m, sizeof(sh->m), data, len);

		off += fill(&sh->c, sizeof(sh->c), data + off, len - off);
		fill_rwlock(&sh->rw, data + off, len - off);
	}
	if (op & 0x10)
		rwlock_ops(op);
	else
		mutex_ops(op);
	return 0;
}
