// SPDX-License-Identifier: GPL-2.0
/*
 * shmr_mutex owner death: thread exit, SIGKILL with and without waiters,
 * SIGKILL in the middle of lock and unlock, consistent vs unrecoverable,
 * and glibc robust mutexes held by the same dying thread.
 */
/* the hook points of the test build of the library (libshmr-test.a) */
#define SHMR_TEST_HOOKS 1
#include "lock_util.h"

struct shm {
	struct shmr_mutex m;
	pthread_mutex_t g;
	volatile int flag;
	volatile int started;
	volatile int go;
	int res[8];
};

static struct shm *shm_new(void)
{
	struct shm *s = shared_alloc(sizeof(*s));
	pthread_mutexattr_t a;

	if (!s || shmr_mutex_init(&s->m, 0))
		return NULL;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (pthread_mutex_init(&s->g, &a))
		return NULL;
	return s;
}

static int hold_forever(void *arg)
{
	struct shm *s = arg;

	if (shmr_mutex_lock(&s->m))
		return 1;
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static void *exit_holding(void *arg)
{
	struct shm *s = arg;

	return (void *)(intptr_t)shmr_mutex_lock(&s->m);
}

TEST(thread_exit_while_holding)
{
	struct shm *s = shm_new();
	pid_t pid, tid;
	pthread_t t;
	void *ret;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, pthread_create(&t, NULL, exit_holding, s));
	pthread_join(t, &ret);
	ASSERT_EQ(0, (int)(intptr_t)ret);
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_owner(&s->m, &pid, &tid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(0, tid);
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, shmr_mutex_owner(&s->m, &pid, &tid));
	EXPECT_EQ(my_tid(), tid);
	EXPECT_EQ(0, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(-EINVAL, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

TEST(sigkill_holder_no_waiters)
{
	struct shm *s = shm_new();
	pid_t pid;

	ASSERT_NE(NULL, s);
	pid = spawn(hold_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&s->m));
	kill_reap(pid);
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

/* Block in lock; report what it returned in res[idx]; repair and unlock. */
static int waiter(struct shm *s, int idx)
{
	int r;

	__atomic_add_fetch(&s->started, 1, __ATOMIC_SEQ_CST);
	r = shmr_mutex_lock(&s->m);
	s->res[idx] = r;
	if (r == -EOWNERDEAD && shmr_mutex_consistent(&s->m))
		return 10;
	if (r == 0 || r == -EOWNERDEAD)
		return shmr_mutex_unlock(&s->m) ? 11 : 0;
	return 0;
}

static int waiter0(void *arg) { return waiter(arg, 0); }
static int waiter1(void *arg) { return waiter(arg, 1); }
static int waiter2(void *arg) { return waiter(arg, 2); }

TEST(sigkill_holder_wakes_blocked_waiters)
{
	struct shm *s = shm_new();
	pid_t holder, w[3];
	int i, dead = 0, ok = 0;

	ASSERT_NE(NULL, s);
	holder = spawn(hold_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	s->res[0] = s->res[1] = s->res[2] = 99;
	w[0] = spawn(waiter0, s);
	w[1] = spawn(waiter1, s);
	w[2] = spawn(waiter2, s);
	/* all three asleep in the kernel before the holder dies */
	ASSERT_TRUE(wait_sleepers(&s->m, 3, WAIT_MS));
	kill_reap(holder);
	alarm(10);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, reap(w[i]));
	for (i = 0; i < 3; i++) {
		dead += s->res[i] == -EOWNERDEAD;
		ok += s->res[i] == 0;
	}
	EXPECT_EQ(1, dead);
	EXPECT_EQ(2, ok);
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

TEST(unrecoverable_after_unlock_without_consistent)
{
	struct shm *s = shm_new();
	pid_t holder, w;

	ASSERT_NE(NULL, s);
	holder = spawn(hold_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	kill_reap(holder);
	ASSERT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	/* a waiter blocked now is woken with ENOTRECOVERABLE */
	s->res[0] = 99;
	w = spawn(waiter0, s);
	ASSERT_TRUE(wait_sleepers(&s->m, 1, WAIT_MS));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	alarm(10);
	EXPECT_EQ(0, reap(w));
	EXPECT_EQ(-ENOTRECOVERABLE, s->res[0]);
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_lock(&s->m));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_owner(&s->m, NULL, NULL));
	EXPECT_EQ(-EPERM, shmr_mutex_unlock(&s->m));
	/* re-initialising is the way out */
	EXPECT_EQ(0, shmr_mutex_init(&s->m, 0));
	EXPECT_EQ(0, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

static int recover_and_park(void *arg)
{
	struct shm *s = arg;

	if (shmr_mutex_lock(&s->m) != -EOWNERDEAD)
		return 1;
	__atomic_store_n(&s->flag, 2, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

TEST(recoverer_dies_before_consistent)
{
	struct shm *s = shm_new();
	pid_t p;

	ASSERT_NE(NULL, s);
	p = spawn(hold_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	kill_reap(p);
	/* the second holder gets EOWNERDEAD and dies too without repairing */
	p = spawn(recover_and_park, s);
	ASSERT_TRUE(wait_flag(&s->flag, 2, WAIT_MS));
	kill_reap(p);
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

/*
 * SIGKILL in the middle of lock and unlock: the child stops itself at a
 * hook point inside the library (reporting through the shared flag) and
 * is killed there.
 */
static struct shm *hook_shm;
static int hook_at;

static void stop_here(int point, const void *lock)
{
	if (point != hook_at || lock != &hook_shm->m)
		return;
	__atomic_store_n(&hook_shm->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int lock_and_stop(void *arg)
{
	hook_shm = arg;
	shmr__lock_test_hook = stop_here;
	shmr_mutex_lock(&hook_shm->m);
	shmr_mutex_unlock(&hook_shm->m);
	return 1;	/* never reached: killed at the hook */
}

FIXTURE(midway) {
	struct shm *s;
};

FIXTURE_VARIANT(midway) {
	int point;
	int expect;		/* what the next locker gets */
	bool waiter;		/* a waiter blocked during the death */
};

FIXTURE_VARIANT_ADD(midway, lock_before_cas) {
	.point = LP_LOCK_PENDING, .expect = 0,
};
FIXTURE_VARIANT_ADD(midway, lock_before_enqueue) {
	.point = LP_LOCK_TAKEN, .expect = -EOWNERDEAD,
};
FIXTURE_VARIANT_ADD(midway, unlock_after_dequeue) {
	.point = LP_UNLOCK_DEQUEUED, .expect = -EOWNERDEAD,
};
FIXTURE_VARIANT_ADD(midway, unlock_before_wake) {
	.point = LP_UNLOCK_RELEASED, .expect = 0,
};
FIXTURE_VARIANT_ADD(midway, unlock_after_dequeue_waiter) {
	.point = LP_UNLOCK_DEQUEUED, .expect = -EOWNERDEAD, .waiter = true,
};
FIXTURE_VARIANT_ADD(midway, unlock_before_wake_waiter) {
	.point = LP_UNLOCK_RELEASED, .expect = 0, .waiter = true,
};

FIXTURE_SETUP(midway)
{
	self->s = shm_new();
	ASSERT_NE(NULL, self->s);
}

FIXTURE_TEARDOWN(midway)
{
}

static int lock_hold_unlock_stop(void *arg)
{
	struct shm *s = arg;

	hook_shm = s;
	if (shmr_mutex_lock(&s->m))
		return 1;
	__atomic_store_n(&s->go, 1, __ATOMIC_SEQ_CST);
	/* hold until the parent has a waiter asleep, then unlock */
	while (__atomic_load_n(&s->go, __ATOMIC_SEQ_CST) != 2)
		msleep(1);
	shmr__lock_test_hook = stop_here;
	shmr_mutex_unlock(&s->m);
	return 2;
}

TEST_F(midway, killed_at_point)
{
	struct shm *s = self->s;
	pid_t p, w = 0;

	hook_at = variant->point;
	if (variant->waiter) {
		s->res[0] = 99;
		p = spawn(lock_hold_unlock_stop, s);
		ASSERT_TRUE(wait_flag(&s->go, 1, WAIT_MS));
		w = spawn(waiter0, s);
		ASSERT_TRUE(wait_sleepers(&s->m, 1, WAIT_MS));
		s->go = 2;
	} else {
		p = spawn(lock_and_stop, s);
	}
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	kill_reap(p);
	if (w) {
		/* the blocked waiter was woken and took the lock */
		alarm(10);
		EXPECT_EQ(0, reap(w));
		EXPECT_EQ(variant->expect, s->res[0]);
		EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	} else {
		EXPECT_EQ(variant->expect, shmr_mutex_trylock(&s->m));
		if (variant->expect == -EOWNERDEAD)
			EXPECT_EQ(0, shmr_mutex_consistent(&s->m));
	}
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

/*
 * Coexistence with glibc: a thread holds a glibc robust mutex and a shmr
 * mutex (both orders, with one unlocked again in between to exercise the
 * shared list's prev links) and dies; both must be recovered.
 */
FIXTURE(glibc) {
	struct shm *s;
	pthread_mutex_t *g2;
};

FIXTURE_VARIANT(glibc) {
	bool shmr_first;
	bool unlock_extra;	/* take and drop a second glibc mutex */
	bool sigkill;		/* else: thread exit */
};

FIXTURE_VARIANT_ADD(glibc, glibc_then_shmr_exit) { .shmr_first = false };
FIXTURE_VARIANT_ADD(glibc, shmr_then_glibc_exit) { .shmr_first = true };
FIXTURE_VARIANT_ADD(glibc, glibc_then_shmr_kill) { .sigkill = true };
FIXTURE_VARIANT_ADD(glibc, shmr_then_glibc_kill) {
	.shmr_first = true, .sigkill = true,
};
FIXTURE_VARIANT_ADD(glibc, interleaved_exit) {
	.shmr_first = true, .unlock_extra = true,
};
FIXTURE_VARIANT_ADD(glibc, interleaved_kill) {
	.unlock_extra = true, .sigkill = true,
};

FIXTURE_SETUP(glibc)
{
	pthread_mutexattr_t a;

	self->s = shm_new();
	ASSERT_NE(NULL, self->s);
	self->g2 = shared_alloc(sizeof(*self->g2));
	ASSERT_NE(NULL, self->g2);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	ASSERT_EQ(0, pthread_mutex_init(self->g2, &a));
}

FIXTURE_TEARDOWN(glibc)
{
}

struct both_arg {
	struct shm *s;
	pthread_mutex_t *g2;
	bool shmr_first, unlock_extra, park;
};

static void *take_both(void *arg)
{
	struct both_arg *b = arg;
	struct shm *s = b->s;
	intptr_t err = 0;

	if (b->unlock_extra && pthread_mutex_lock(b->g2))
		err |= 1;
	if (b->shmr_first) {
		if (shmr_mutex_lock(&s->m))
			err |= 2;
		if (pthread_mutex_lock(&s->g))
			err |= 4;
	} else {
		if (pthread_mutex_lock(&s->g))
			err |= 4;
		if (shmr_mutex_lock(&s->m))
			err |= 2;
	}
	/* unlocking the first-taken mutex rewires the neighbours' links */
	if (b->unlock_extra && pthread_mutex_unlock(b->g2))
		err |= 8;
	if (b->park) {
		__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
		for (;;)
			pause();
	}
	return (void *)err;
}

static int take_both_child(void *arg)
{
	struct both_arg *b = arg;
	pthread_t t;

	b->park = true;
	/* in a second thread, so that only the holder's list matters */
	if (pthread_create(&t, NULL, take_both, b))
		return 1;
	pthread_join(t, NULL);
	return 2;
}

TEST_F(glibc, both_recovered)
{
	struct both_arg b = {
		.s = self->s, .g2 = self->g2,
		.shmr_first = variant->shmr_first,
		.unlock_extra = variant->unlock_extra,
	};
	struct shm *s = self->s;
	pthread_t t;
	void *ret;
	pid_t p;

	if (variant->sigkill) {
		p = spawn(take_both_child, &b);
		ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
		kill_reap(p);
	} else {
		ASSERT_EQ(0, pthread_create(&t, NULL, take_both, &b));
		pthread_join(t, &ret);
		ASSERT_EQ(0, (intptr_t)ret);
	}
	EXPECT_EQ(EOWNERDEAD, pthread_mutex_lock(&s->g));
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, pthread_mutex_consistent(&s->g));
	EXPECT_EQ(0, shmr_mutex_consistent(&s->m));
	/* the extra glibc mutex was released properly: not owner-dead */
	EXPECT_EQ(0, pthread_mutex_trylock(self->g2));
	EXPECT_EQ(0, pthread_mutex_unlock(self->g2));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, pthread_mutex_unlock(&s->g));
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, pthread_mutex_trylock(&s->g));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, pthread_mutex_unlock(&s->g));
}

/* Many shmr and glibc mutexes held and released in mixed order, then death. */
static void *mixed(void *arg)
{
	struct shmr_mutex *m = arg;
	pthread_mutex_t *g = (pthread_mutex_t *)(m + 8);
	int i;

	for (i = 0; i < 8; i++) {
		if (shmr_mutex_lock(&m[i]) || pthread_mutex_lock(&g[i]))
			return (void *)1;
	}
	/* release every other one, odd ones first */
	for (i = 1; i < 8; i += 2)
		if (shmr_mutex_unlock(&m[i]) || pthread_mutex_unlock(&g[i]))
			return (void *)2;
	return NULL;
}

TEST(mixed_list_thread_exit)
{
	struct shmr_mutex *m = shared_alloc(8 * sizeof(*m) + 8 * sizeof(pthread_mutex_t));
	pthread_mutex_t *g = (pthread_mutex_t *)(m + 8);
	pthread_mutexattr_t a;
	pthread_t t;
	void *ret;
	int i;

	ASSERT_NE(NULL, m);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, shmr_mutex_init(&m[i], 0));
		ASSERT_EQ(0, pthread_mutex_init(&g[i], &a));
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, mixed, m));
	pthread_join(t, &ret);
	ASSERT_EQ(NULL, ret);
	for (i = 0; i < 8; i++) {
		int want = (i & 1) ? 0 : EOWNERDEAD;

		EXPECT_EQ(-want, shmr_mutex_trylock(&m[i]));
		EXPECT_EQ(want, pthread_mutex_trylock(&g[i]));
		if (want) {
			EXPECT_EQ(0, shmr_mutex_consistent(&m[i]));
			EXPECT_EQ(0, pthread_mutex_consistent(&g[i]));
		}
		EXPECT_EQ(0, shmr_mutex_unlock(&m[i]));
		EXPECT_EQ(0, pthread_mutex_unlock(&g[i]));
	}
}

TEST_HARNESS_MAIN
