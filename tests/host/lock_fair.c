// SPDX-License-Identifier: GPL-2.0
/*
 * shmr_mutex fairness (docs/locks.md, "Fairness"), counted, not timed:
 * a holder that takes its lock back while another process spins for it
 * hands it off after exactly FAIR_BATCH unlocks, to that process; nobody
 * waiting, no handoff; a handoff to a waiter that was killed times out
 * once and is not tried again for a waiter that is not there.
 *
 * The test process is the holder; the library's test hooks (libshmr-test.a)
 * tell it when its unlock ended a batch (LP_HANDOFF) and when a handoff
 * went untaken (LP_HANDOFF_TIMEOUT). What the scheduler does cannot make
 * these tests fail: an attempt disturbed by it (the waiter not running
 * within the handoff's wait, or taking the lock while the holder was
 * preempted between its unlock and its lock) is recognised and repeated,
 * up to 400 times (on the host the first attempt is usually clean; in the
 * TCG guest one in 1 to 28 was).
 */
/* the hook points of the test build of the library (libshmr-test.a) */
#define SHMR_TEST_HOOKS 1
#include "lock_util.h"

struct fair {
	struct shmr_mutex m;
	volatile long count;	/* the holder's acquisitions in this attempt */
	volatile long b_saw;	/* count when the waiter got the lock */
	volatile int b_state;	/* 1: calling lock, 2: got it */
	volatile int b_ret;
};

static struct fair *F;
static long handoff_at, handoffs;
static int timeouts;

static void fair_hook(int point, const void *lock)
{
	if (lock != &F->m)
		return;
	if (point == LP_HANDOFF) {
		if (!handoffs++)
			handoff_at = F->count;
	} else if (point == LP_HANDOFF_TIMEOUT) {
		timeouts++;
	}
}

static void reset_hooks(void)
{
	handoff_at = -1;
	handoffs = 0;
	timeouts = 0;
}

/* The waiter: one blocking lock; note the holder's count when it got it. */
static int waiter(void *arg)
{
	(void)arg;
	__atomic_store_n(&F->b_state, 1, __ATOMIC_SEQ_CST);
	F->b_ret = shmr_mutex_lock(&F->m);
	F->b_saw = F->count;
	__atomic_store_n(&F->b_state, 2, __ATOMIC_SEQ_CST);
	if (F->b_ret)
		return 1;
	return shmr_mutex_unlock(&F->m) ? 2 : 0;
}

/* Wait until somebody spins for the lock (want set), at most ms. */
static bool wait_want(long ms)
{
	const struct lock *l = (const struct lock *)&F->m;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	while (!__atomic_load_n(&l->want, __ATOMIC_SEQ_CST)) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			return false;
		sched_yield();
	}
	return true;
}

/* Unlock and lock again n times, counting; stop early when *stop >= 2. */
static void cycles(struct __test_metadata *_metadata, long n, volatile int *stop)
{
	long i;

	for (i = 0; i < n && (!stop || *stop < 2); i++) {
		ASSERT_EQ(0, shmr_mutex_unlock(&F->m));
		ASSERT_EQ(0, shmr_mutex_lock(&F->m));
		F->count++;
	}
}

FIXTURE(fair) {
	int unused;
};

FIXTURE_SETUP(fair)
{
	F = shared_alloc(sizeof(*F));
	ASSERT_NE(NULL, F);
	shmr__lock_test_hook = fair_hook;
}

FIXTURE_TEARDOWN(fair)
{
	shmr__lock_test_hook = NULL;
}

/*
 * With a waiter spinning, the holder's FAIR_BATCH-th unlock in a row ends
 * its batch, and its next lock leaves the word to the waiter: the waiter
 * gets the lock while the holder's count is FAIR_BATCH - 1, and the
 * holder's lock returns after the waiter's unlock.
 */
TEST_F(fair, handoff_after_batch)
{
	int attempt, clean = 0, stolen = 0, late = 0;
	pid_t b;

	for (attempt = 0; attempt < 400 && !clean; attempt++) {
		ASSERT_EQ(0, shmr_mutex_init(&F->m, 0));
		F->count = 0;
		F->b_saw = -1;
		F->b_state = 0;
		reset_hooks();
		ASSERT_EQ(0, shmr_mutex_lock(&F->m));
		b = spawn(waiter, NULL);
		ASSERT_TRUE(wait_want(WAIT_MS));
		/* room for a few handoffs the waiter is too late for */
		cycles(_metadata, 31L * FAIR_BATCH, &F->b_state);
		ASSERT_EQ(0, shmr_mutex_unlock(&F->m));
		ASSERT_EQ(0, reap(b));
		ASSERT_EQ(0, F->b_ret);
		/* a batch ends only at its FAIR_BATCH-th wanted unlock */
		if (handoffs)
			EXPECT_EQ(FAIR_BATCH - 1, handoff_at);
		if (!handoffs) {
			/* the waiter took it while we were preempted */
			EXPECT_LT(F->b_saw, FAIR_BATCH - 1);
			stolen++;
		} else if (timeouts) {
			/* the waiter did not run within the handoff's wait */
			late++;
		} else {
			EXPECT_EQ(1, handoffs);
			EXPECT_EQ(FAIR_BATCH - 1, F->b_saw);
			clean++;
		}
	}
	TH_LOG("%d attempts: %d clean, %d taken while the holder was preempted, "
	       "%d handoffs the waiter was too late for", attempt, clean, stolen, late);
	EXPECT_EQ(1, clean);
}

/* Nobody waiting: no handoff, however long the holder keeps taking it. */
TEST_F(fair, no_handoff_without_waiters)
{
	const struct lock *l = (const struct lock *)&F->m;

	ASSERT_EQ(0, shmr_mutex_init(&F->m, 0));
	F->count = 0;
	reset_hooks();
	ASSERT_EQ(0, shmr_mutex_lock(&F->m));
	cycles(_metadata, 4L * FAIR_BATCH, NULL);
	ASSERT_EQ(0, shmr_mutex_unlock(&F->m));
	EXPECT_EQ(0, handoffs);
	EXPECT_EQ(0, timeouts);
	EXPECT_EQ(0u, l->want);
	EXPECT_EQ(0u, l->ctrl & LC_HANDOFF);
}

/*
 * A waiter killed while spinning leaves want set: the holder hands off
 * once, nobody takes it, the holder takes it back after FAIR_YIELD and
 * withdraws want, and then takes it without handoffs (no waiter sets want
 * again).
 */
TEST_F(fair, killed_waiter_costs_one_handoff)
{
	const struct lock *l = (const struct lock *)&F->m;
	pid_t b;

	ASSERT_EQ(0, shmr_mutex_init(&F->m, 0));
	F->count = 0;
	F->b_state = 0;
	reset_hooks();
	ASSERT_EQ(0, shmr_mutex_lock(&F->m));
	b = spawn(waiter, NULL);
	ASSERT_TRUE(wait_want(WAIT_MS));
	kill_reap(b);
	EXPECT_NE(0u, l->want);
	cycles(_metadata, 10L * FAIR_BATCH, NULL);
	ASSERT_EQ(0, shmr_mutex_unlock(&F->m));
	EXPECT_EQ(1, handoffs);
	EXPECT_EQ(FAIR_BATCH - 1, handoff_at);
	EXPECT_EQ(1, timeouts);
	EXPECT_EQ(0u, l->want);
	EXPECT_EQ(0u, l->ctrl & LC_HANDOFF);
	EXPECT_EQ(1, F->b_state);	/* it never got the lock */
}

TEST_HARNESS_MAIN
