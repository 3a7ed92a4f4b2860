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

/*
 * ctrl: the object's type and layout version in the high 24 bits, state
 * flags in the low 8. The fast paths compare the futex word and ctrl as
 * one 64-bit value, so one compare-and-swap checks that the object is a
 * lock of the expected type and layout, free, consistent and uncontended.
 * Layout 2; layout 1 (a separate magic and state word) is refused.
 */
#define LT_MASK		0xffffff00u
#define LT_MUTEX	0x584d3200u	/* "\0" "2MX" */
#define LT_RWLOCK	0x574d3200u	/* "\0" "2MW": rwlock header */
#define LT_RSLOT	0x524d3200u	/* "\0" "2MR": rwlock reader slot */
#define LT_COND		0x434d3200u	/* "\0" "2MC" */

#define LC_INCONSISTENT		0x01u	/* -EOWNERDEAD given, not repaired */
#define LC_NOTRECOVERABLE	0x02u
#define LC_HANDOFF		0x04u	/* the holder's batch is over: take it */
#define LC_ALL			0x07u

/* Fair handoff (lock.c, docs/locks.md): batch, waits in TSC ticks */
#ifndef FAIR_BATCH
#define FAIR_BATCH	1000	/* wanted unlocks in a row, then hand off */
#endif
#ifndef FAIR_YIELD
#define FAIR_YIELD	26000	/* ~10 us: how long a handoff waits */
#endif
#ifndef FAIR_SPIN_MAX
#define FAIR_SPIN_MAX	260000	/* ~100 us: a waiter's spin while the holder moves */
#endif
#ifndef FAIR_NAP
#define FAIR_NAP	26000	/* ~10 us: the longest pause between a waiter's polls */
#endif
#ifndef FAIR_QUIET
#define FAIR_QUIET	2600	/* ~1 us: a heartbeat this still means the holder is away */
#endif

/* lock_word: the kernel's robust futex format */
#define LW_TID		0x3fffffffu	/* FUTEX_TID_MASK */
#define LW_DIED		0x40000000u	/* FUTEX_OWNER_DIED */
#define LW_WAITERS	0x80000000u	/* FUTEX_WAITERS */

struct __attribute__((may_alias)) lock {
	uint32_t word;		/* 0: futex word, glibc __lock */
	uint32_t ctrl;		/* 4: LT_* | LC_*, glibc __count */
	uint32_t want;		/* 8: non-zero: somebody spins for the word */
	uint32_t pid;		/* 12: owner's pid (tid is in word) */
	uint32_t nwaiters;	/* 16: threads asleep in FUTEX_WAIT */
	uint32_t wwait;		/* 20: rwlock slot: index + 1 */
	void *prev;		/* 24: glibc __list.__prev */
	void *next;		/* 32: glibc __list.__next; the list entry */
	uint32_t spin;		/* 40: adaptive spin budget (a hint), 0 default */
	uint32_t last;		/* 44: tid of the holder streak counts for */
	uint32_t streak;	/* 48: unlocks in a row by last while wanted */
	uint32_t beat;		/* 52: bumped at each such unlock */
	uint32_t reserved0;	/* 56 */
	uint32_t reserved1;
};

struct __attribute__((may_alias)) cond {
	uint32_t seq;		/* futex word, bumped by signal/broadcast */
	uint32_t magic;		/* LT_COND */
	uint32_t nwaiters;
	uint32_t pad;
	uint64_t reserved[2];
};

#ifdef SHMR_TEST_HOOKS
/*
 * Test-only hook points (tests/host/lock_*.c stop the process there).
 * Only the test build of the library (lib.mk: libshmr-test.a) has them.
 */
enum shmr__lock_point {
	LP_LOCK_PENDING = 1,	/* about to take the word, list_op_pending set */
	LP_LOCK_TAKEN,		/* word taken, list bookkeeping not finished */
	LP_UNLOCK_DEQUEUED,	/* off the list, word still held */
	LP_UNLOCK_RELEASED,	/* word released, waiters not yet woken */
	LP_HANDOFF,		/* an unlock ended its batch: LC_HANDOFF set */
	LP_HANDOFF_TIMEOUT,	/* a handoff nobody took: took the lock back */
};

extern void (*shmr__lock_test_hook)(int point, const void *lock)
	__attribute__((visibility("hidden")));
#endif

#endif /* SHMR_LOCK_H */
