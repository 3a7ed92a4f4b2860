// SPDX-License-Identifier: GPL-2.0
/*
 * shmr_cond: signal wakes one, broadcast wakes all, timeouts on both
 * clocks, spurious wakeups are harmless in a predicate loop, a dead waiter
 * blocks nobody, a dead mutex owner is reported to the woken waiter.
 */
#include "lock_util.h"

struct shm {
	struct shmr_mutex m;
	struct shmr_cond c;
	volatile int waiting;
	volatile int woken;
	int tokens;		/* predicate, under m */
	int wakeups;		/* returns from wait, under m */
	int res[8];
	volatile int flag;
};

static struct shm *shm_new(void)
{
	struct shm *s = shared_alloc(sizeof(*s));

	if (!s || shmr_mutex_init(&s->m, 0) || shmr_cond_init(&s->c, 0))
		return NULL;
	return s;
}

/* Wait until n waiters are registered on c, at most ms milliseconds. */
static bool wait_cond(struct shmr_cond *c, int n, long ms)
{
	const struct cond *cv = (const struct cond *)c;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	while ((int)__atomic_load_n(&cv->nwaiters, __ATOMIC_SEQ_CST) < n) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			return false;
		msleep(1);
	}
	msleep(5);	/* registered under the mutex; let it reach the kernel */
	return true;
}

TEST(validation)
{
	struct shm *s = shm_new();
	struct shmr_cond c;
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 10);

	ASSERT_NE(NULL, s);
	EXPECT_EQ(-EINVAL, shmr_cond_init(&c, 1));
	EXPECT_EQ(-EINVAL, shmr_cond_init(NULL, 0));
	EXPECT_EQ(-EINVAL, shmr_cond_init((struct shmr_cond *)((char *)&c + 4), 0));
	memset(&c, 0, sizeof(c));
	EXPECT_EQ(-EINVAL, shmr_cond_signal(&c));
	EXPECT_EQ(-EINVAL, shmr_cond_broadcast(&c));
	EXPECT_EQ(-EINVAL, shmr_cond_wait(&c, &s->m));
	/* waiting without holding the mutex */
	EXPECT_EQ(-EPERM, shmr_cond_wait(&s->c, &s->m));
	ASSERT_EQ(0, shmr_mutex_lock(&s->m));
	EXPECT_EQ(-EINVAL, shmr_cond_timedwait(&s->c, &s->m, CLOCK_BOOTTIME, &ts));
	EXPECT_EQ(-EINVAL, shmr_cond_timedwait(&s->c, &s->m, CLOCK_MONOTONIC, NULL));
	ts.tv_nsec = -5;
	EXPECT_EQ(-EINVAL, shmr_cond_timedwait(&s->c, &s->m, CLOCK_MONOTONIC, &ts));
	/* still held after the refused calls */
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	/* signal with nobody waiting is fine */
	EXPECT_EQ(0, shmr_cond_signal(&s->c));
	EXPECT_EQ(0, shmr_cond_broadcast(&s->c));
}

static void timedwait_on(struct __test_metadata *_metadata, clockid_t clk)
{
	struct shm *s = shm_new();
	struct timespec ts;
	uint64_t t0, el;
	pid_t tid;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, shmr_mutex_lock(&s->m));
	ts = abs_in(clk, 100);
	t0 = now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(-ETIMEDOUT, shmr_cond_timedwait(&s->c, &s->m, clk, &ts));
	el = now_ns(CLOCK_MONOTONIC) - t0;
	EXPECT_GE(el, 95000000ull);
	EXPECT_LT(el, 3000000000ull);
	/* the mutex is held again */
	EXPECT_EQ(0, shmr_mutex_owner(&s->m, NULL, &tid));
	EXPECT_EQ(my_tid(), tid);
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

TEST(timedwait_monotonic)
{
	timedwait_on(_metadata, CLOCK_MONOTONIC);
}

TEST(timedwait_realtime)
{
	timedwait_on(_metadata, CLOCK_REALTIME);
}

/* Wait for a token; count wakeups; return 0 on success. */
static int consumer(void *arg)
{
	struct shm *s = arg;
	int r;

	if (shmr_mutex_lock(&s->m))
		return 1;
	__atomic_add_fetch(&s->waiting, 1, __ATOMIC_SEQ_CST);
	while (s->tokens == 0) {
		r = shmr_cond_wait(&s->c, &s->m);
		if (r)
			return 2;
		s->wakeups++;
	}
	s->tokens--;
	__atomic_add_fetch(&s->woken, 1, __ATOMIC_SEQ_CST);
	return shmr_mutex_unlock(&s->m) ? 3 : 0;
}

static void produce(struct shm *s, int n, bool all)
{
	shmr_mutex_lock(&s->m);
	s->tokens += n;
	shmr_mutex_unlock(&s->m);
	if (all)
		shmr_cond_broadcast(&s->c);
	else
		shmr_cond_signal(&s->c);
}

TEST(signal_wakes_one_at_a_time)
{
	struct shm *s = shm_new();
	pid_t p[3];
	int i;

	ASSERT_NE(NULL, s);
	for (i = 0; i < 3; i++)
		p[i] = spawn(consumer, s);
	ASSERT_TRUE(wait_flag(&s->waiting, 3, WAIT_MS));
	ASSERT_TRUE(wait_cond(&s->c, 3, WAIT_MS));
	for (i = 1; i <= 3; i++) {
		produce(s, 1, false);
		ASSERT_TRUE(wait_flag(&s->woken, i, WAIT_MS));
		msleep(30);
		/* one token: exactly one more consumer got through */
		EXPECT_EQ(i, s->woken);
	}
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, reap(p[i]));
	EXPECT_EQ(0, s->tokens);
}

TEST(broadcast_wakes_all)
{
	struct shm *s = shm_new();
	pid_t p[4];
	int i;

	ASSERT_NE(NULL, s);
	for (i = 0; i < 4; i++)
		p[i] = spawn(consumer, s);
	ASSERT_TRUE(wait_cond(&s->c, 4, WAIT_MS));
	produce(s, 4, true);
	alarm(10);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, reap(p[i]));
	EXPECT_EQ(4, s->woken);
}

TEST(spurious_wakeups_are_harmless)
{
	struct shm *s = shm_new();
	pid_t p;
	int i;

	ASSERT_NE(NULL, s);
	p = spawn(consumer, s);
	ASSERT_TRUE(wait_cond(&s->c, 1, WAIT_MS));
	/* wakeups without the predicate: the consumer must keep waiting */
	for (i = 0; i < 20; i++) {
		shmr_cond_broadcast(&s->c);
		msleep(2);
	}
	EXPECT_EQ(0, s->woken);
	/* the consumer may not have run yet on a loaded host: wait for it */
	EXPECT_TRUE(wait_flag(&s->wakeups, 1, WAIT_MS));
	produce(s, 1, false);
	alarm(10);
	EXPECT_EQ(0, reap(p));
	EXPECT_EQ(1, s->woken);
}

static int wait_forever(void *arg)
{
	struct shm *s = arg;

	if (shmr_mutex_lock(&s->m))
		return 1;
	for (;;)
		shmr_cond_wait(&s->c, &s->m);
}

TEST(dead_waiter_blocks_nobody)
{
	struct shm *s = shm_new();
	pid_t dead, p;

	ASSERT_NE(NULL, s);
	dead = spawn(wait_forever, s);
	ASSERT_TRUE(wait_cond(&s->c, 1, WAIT_MS));
	p = spawn(consumer, s);
	ASSERT_TRUE(wait_flag(&s->waiting, 1, WAIT_MS));
	ASSERT_TRUE(wait_cond(&s->c, 2, WAIT_MS));
	kill_reap(dead);
	/* the mutex is free and a signal reaches the live waiter */
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	produce(s, 1, false);
	alarm(10);
	EXPECT_EQ(0, reap(p));
	EXPECT_EQ(1, s->woken);
}

static int wait_result(void *arg)
{
	struct shm *s = arg;
	int r;

	if (shmr_mutex_lock(&s->m))
		return 1;
	__atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
	r = shmr_cond_wait(&s->c, &s->m);
	s->res[0] = r;
	if (r == -EOWNERDEAD && shmr_mutex_consistent(&s->m))
		return 2;
	return shmr_mutex_unlock(&s->m) ? 3 : 0;
}

static int signal_and_die(void *arg)
{
	struct shm *s = arg;

	if (shmr_mutex_lock(&s->m))
		return 1;
	shmr_cond_signal(&s->c);
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

TEST(waiter_told_when_mutex_owner_dies)
{
	struct shm *s = shm_new();
	pid_t w, d;

	ASSERT_NE(NULL, s);
	s->res[0] = 99;
	w = spawn(wait_result, s);
	ASSERT_TRUE(wait_cond(&s->c, 1, WAIT_MS));
	d = spawn(signal_and_die, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	kill_reap(d);
	alarm(10);
	EXPECT_EQ(0, reap(w));
	EXPECT_EQ(-EOWNERDEAD, s->res[0]);
}

static int lock_and_exit(void *arg)
{
	struct shm *s = arg;

	return shmr_mutex_lock(&s->m) ? 1 : 0;	/* exits holding it */
}

/*
 * Waiting releases the mutex; released while inconsistent (-EOWNERDEAD not
 * followed by consistent), it becomes unrecoverable, as for an unlock, and
 * the wait returns -ENOTRECOVERABLE without it. Found by fuzz_lock.
 */
TEST(wait_on_inconsistent_mutex_makes_it_unrecoverable)
{
	struct shm *s = shm_new();
	struct timespec ts = abs_in(CLOCK_MONOTONIC, -10);
	pid_t pid, tid;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, reap(spawn(lock_and_exit, s)));
	ASSERT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	EXPECT_EQ(1, shmr_leak_count());
	EXPECT_EQ(-ENOTRECOVERABLE,
		  shmr_cond_timedwait(&s->c, &s->m, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(0, shmr_leak_count());
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_owner(&s->m, &pid, &tid));
	EXPECT_EQ(-EPERM, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_mutex_lock(&s->m));

	/* repaired before the wait: an ordinary timeout, mutex held */
	ASSERT_EQ(0, shmr_mutex_init(&s->m, 0));
	ASSERT_EQ(0, reap(spawn(lock_and_exit, s)));
	ASSERT_EQ(-EOWNERDEAD, shmr_mutex_lock(&s->m));
	ASSERT_EQ(0, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(-ETIMEDOUT,
		  shmr_cond_timedwait(&s->c, &s->m, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(1, shmr_leak_count());
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, shmr_leak_count());
}

TEST_HARNESS_MAIN
