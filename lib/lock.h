/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private layout of the shmr locks (docs/locks.md). The word and the list
 * linkage sit where glibc's robust pthread_mutex_t keeps __lock and
 * __list (x86_64), so that the kernel's robust-list walk at thread exit,
 * which uses glibc's futex_offset, treats a shmr lock like a glibc one.
 */
#ifndef SHMR_LOCK_H
#define SHMR_LOCK_H

#include <stdint.h>
#include <stddef.h>

/* Layout version 1. A new layout gets new magics; old ones are refused. */
#define SHMR_MUTEX_MAGIC	0x584d5331u	/* "1SMX" */
#define SHMR_RWLOCK_MAGIC	0x574d5331u	/* "1SMW" */
#define SHMR_RSLOT_MAGIC	0x524d5331u	/* "1SMR" */
#define SHMR_COND_MAGIC		0x434d5331u	/* "1SMC" */

/* lock_word: the kernel's robust futex format */
#define LW_TID		0x3fffffffu	/* FUTEX_TID_MASK */
#define LW_DIED		0x40000000u	/* FUTEX_OWNER_DIED */
#define LW_WAITERS	0x80000000u	/* FUTEX_WAITERS */

/* state */
#define LS_CONSISTENT		0
#define LS_INCONSISTENT		1	/* -EOWNERDEAD given, not repaired */
#define LS_NOTRECOVERABLE	2

struct __attribute__((may_alias)) lock {
	uint32_t word;		/* 0: futex word, glibc __lock */
	uint32_t magic;		/* 4: glibc __count */
	uint32_t state;		/* 8 */
	uint32_t pid;		/* 12: owner's pid (tid is in word) */
	uint32_t nwaiters;	/* 16: threads asleep in FUTEX_WAIT */
	uint32_t wwait;		/* 20: rwlock: writers waiting (header) */
	void *prev;		/* 24: glibc __list.__prev */
	void *next;		/* 32: glibc __list.__next; the list entry */
	uint32_t spin;		/* 40: adaptive spin budget (a hint), 0 default */
	uint32_t reserved0;
	uint64_t reserved[2];
};

struct __attribute__((may_alias)) cond {
	uint32_t seq;		/* futex word, bumped by signal/broadcast */
	uint32_t magic;
	uint32_t nwaiters;
	uint32_t pad;
	uint64_t reserved[2];
};

/* Test-only hook points (tests/host/lock_*.c stop the process there). */
enum shmr__lock_point {
	LP_LOCK_PENDING = 1,	/* list_op_pending set, word not yet taken */
	LP_LOCK_TAKEN,		/* word taken, not yet on the robust list */
	LP_UNLOCK_DEQUEUED,	/* off the list, word still held */
	LP_UNLOCK_RELEASED,	/* word released, waiters not yet woken */
};

/* Set only by tests; one well-predicted branch in the lock paths. */
extern void (*shmr__lock_test_hook)(int point, const void *lock)
	__attribute__((visibility("hidden")));

#endif /* SHMR_LOCK_H */
