// SPDX-License-Identifier: GPL-2.0
/*
 * shmr_rwlock: shared/exclusive, try and timed variants, writer preference,
 * reader limit, reader and writer death, exclusion under contention.
 */
#include "lock_util.h"

struct shm {
	struct shmr_rwlock rw;
	volatile int flag;
	volatile int go;
	volatile int readers_in;
	long a, b;		/* writers keep a == b */
	long iters;
	int bad;
	int res[4];
};

static struct shm *shm_new(void)
{
	struct shm *s = shared_alloc(sizeof(*s));

	if (!s || shmr_rwlock_init(&s->rw, 0))
		return NULL;
	return s;
}

TEST(init_and_validation)
{
	struct shmr_rwlock rw;
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 10);

	EXPECT_EQ(-EINVAL, shmr_rwlock_init(&rw, 1));
	EXPECT_EQ(-EINVAL, shmr_rwlock_init(NULL, 0));
	/* misaligned: the words are 8-byte atomics */
	EXPECT_EQ(-EINVAL, shmr_rwlock_init((struct shmr_rwlock *)((char *)&rw + 4), 0));
	memset(&rw, 0, sizeof(rw));
	EXPECT_EQ(-EINVAL, shmr_rwlock_rdlock(&rw));
	EXPECT_EQ(-EINVAL, shmr_rwlock_wrlock(&rw));
	EXPECT_EQ(-EINVAL, shmr_rwlock_unlock(&rw));
	ASSERT_EQ(0, shmr_rwlock_init(&rw, 0));
	EXPECT_EQ(-EINVAL, shmr_rwlock_timedrdlock(&rw, CLOCK_BOOTTIME, &ts));
	EXPECT_EQ(-EINVAL, shmr_rwlock_timedwrlock(&rw, CLOCK_BOOTTIME, &ts));
	ts.tv_nsec = 1000000000L;
	EXPECT_EQ(-EINVAL, shmr_rwlock_timedrdlock(&rw, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(-EINVAL, shmr_rwlock_timedwrlock(&rw, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(-EPERM, shmr_rwlock_unlock(&rw));
}

static void *reader_thread(void *arg)
{
	struct shm *s = arg;
	intptr_t r = shmr_rwlock_rdlock(&s->rw);

	if (r)
		return (void *)r;
	__atomic_add_fetch(&s->readers_in, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->go, __ATOMIC_SEQ_CST))
		msleep(1);
	return (void *)(intptr_t)shmr_rwlock_unlock(&s->rw);
}

TEST(shared_and_exclusive)
{
	struct shm *s = shm_new();
	pid_t pid, tid;
	pthread_t t[3];
	void *ret;
	int i;

	ASSERT_NE(NULL, s);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, reader_thread, s));
	ASSERT_TRUE(wait_flag(&s->readers_in, 3, WAIT_MS));
	/* readers share; a writer must wait */
	EXPECT_EQ(0, shmr_rwlock_tryrdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
	EXPECT_EQ(-EBUSY, shmr_rwlock_trywrlock(&s->rw));
	EXPECT_EQ(-ENOENT, shmr_rwlock_owner(&s->rw, &pid, &tid));
	s->go = 1;
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], &ret);
		EXPECT_EQ(0, (int)(intptr_t)ret);
	}
	ASSERT_EQ(0, shmr_rwlock_wrlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_owner(&s->rw, &pid, &tid));
	EXPECT_EQ(my_tid(), tid);
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(-EDEADLK, shmr_rwlock_wrlock(&s->rw));
	EXPECT_EQ(-EDEADLK, shmr_rwlock_rdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
	EXPECT_EQ(-EPERM, shmr_rwlock_unlock(&s->rw));
}

static int writer_hold(void *arg)
{
	struct shm *s = arg;

	if (shmr_rwlock_wrlock(&s->rw))
		return 1;
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->go, __ATOMIC_SEQ_CST))
		msleep(1);
	return shmr_rwlock_unlock(&s->rw) ? 2 : 0;
}

static void timeouts_on(struct __test_metadata *_metadata, clockid_t clk)
{
	struct shm *s = shm_new();
	struct timespec ts;
	pthread_t t;
	pid_t p;

	ASSERT_NE(NULL, s);
	/* a writer holds: readers and writers time out */
	p = spawn(writer_hold, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_rwlock_tryrdlock(&s->rw));
	ts = abs_in(clk, 50);
	EXPECT_EQ(-ETIMEDOUT, shmr_rwlock_timedrdlock(&s->rw, clk, &ts));
	ts = abs_in(clk, 50);
	EXPECT_EQ(-ETIMEDOUT, shmr_rwlock_timedwrlock(&s->rw, clk, &ts));
	s->go = 1;
	EXPECT_EQ(0, reap(p));
	/* a reader holds: a writer times out, and readers still get in after */
	s->go = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_thread, s));
	ASSERT_TRUE(wait_flag(&s->readers_in, 1, WAIT_MS));
	ts = abs_in(clk, 50);
	EXPECT_EQ(-ETIMEDOUT, shmr_rwlock_timedwrlock(&s->rw, clk, &ts));
	EXPECT_EQ(0, shmr_rwlock_tryrdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
	s->go = 1;
	pthread_join(t, NULL);
	ts = abs_in(clk, 1000);
	EXPECT_EQ(0, shmr_rwlock_timedwrlock(&s->rw, clk, &ts));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
}

TEST(timeouts_monotonic)
{
	timeouts_on(_metadata, CLOCK_MONOTONIC);
}

TEST(timeouts_realtime)
{
	timeouts_on(_metadata, CLOCK_REALTIME);
}

static int writer_blocking(void *arg)
{
	struct shm *s = arg;

	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	if (shmr_rwlock_wrlock(&s->rw))
		return 1;
	s->res[0] = __atomic_load_n(&s->readers_in, __ATOMIC_SEQ_CST);
	return shmr_rwlock_unlock(&s->rw) ? 2 : 0;
}

TEST(writer_preferred)
{
	struct shm *s = shm_new();
	pid_t w;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, shmr_rwlock_rdlock(&s->rw));
	w = spawn(writer_blocking, s);
	/* the writer waits for our read hold to go: new readers wait too */
	ASSERT_TRUE(wait_sleepers(&s->rw.__reader[my_tid() % SHMR_RWLOCK_READERS], 1, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_rwlock_tryrdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
	EXPECT_EQ(0, reap(w));
	EXPECT_EQ(0, shmr_rwlock_tryrdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
}

TEST(reader_limit)
{
	struct shm *s = shm_new();
	pthread_t t[SHMR_RWLOCK_READERS];
	int i;

	ASSERT_NE(NULL, s);
	for (i = 0; i < SHMR_RWLOCK_READERS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, reader_thread, s));
	ASSERT_TRUE(wait_flag(&s->readers_in, SHMR_RWLOCK_READERS, WAIT_MS));
	/* every slot is held: one more reader has to wait */
	EXPECT_EQ(-EBUSY, shmr_rwlock_tryrdlock(&s->rw));
	s->go = 1;
	for (i = 0; i < SHMR_RWLOCK_READERS; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, shmr_rwlock_tryrdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
}

static int reader_forever(void *arg)
{
	struct shm *s = arg;

	if (shmr_rwlock_rdlock(&s->rw))
		return 1;
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int writer_forever(void *arg)
{
	struct shm *s = arg;

	if (shmr_rwlock_wrlock(&s->rw))
		return 1;
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

TEST(reader_death_is_silent)
{
	struct shm *s = shm_new();
	pid_t r;

	ASSERT_NE(NULL, s);
	r = spawn(reader_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_rwlock_trywrlock(&s->rw));
	kill_reap(r);
	EXPECT_EQ(0, shmr_rwlock_trywrlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
}

static int writer_result(void *arg)
{
	struct shm *s = arg;
	int r = shmr_rwlock_wrlock(&s->rw);

	s->res[0] = r;
	return r ? 1 : (shmr_rwlock_unlock(&s->rw) ? 2 : 0);
}

TEST(reader_death_wakes_blocked_writer)
{
	struct shm *s = shm_new();
	pid_t r, w;

	ASSERT_NE(NULL, s);
	r = spawn(reader_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	s->res[0] = 99;
	w = spawn(writer_result, s);
	ASSERT_TRUE(wait_sleepers(&s->rw.__reader[r % SHMR_RWLOCK_READERS], 1, WAIT_MS));
	kill_reap(r);
	alarm(10);
	EXPECT_EQ(0, reap(w));
	EXPECT_EQ(0, s->res[0]);
}

static int reader_result(void *arg)
{
	struct shm *s = arg;
	int r = shmr_rwlock_rdlock(&s->rw);

	s->res[1] = r;
	if (r == -EOWNERDEAD && shmr_rwlock_consistent(&s->rw))
		return 3;
	return shmr_rwlock_unlock(&s->rw) ? 2 : 0;
}

TEST(writer_death_reported_to_reader)
{
	struct shm *s = shm_new();
	pid_t w, r, tid;

	ASSERT_NE(NULL, s);
	w = spawn(writer_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	/* a reader blocked at the time of the death is woken and told */
	s->res[1] = 99;
	r = spawn(reader_result, s);
	ASSERT_TRUE(wait_sleepers(&s->rw.__writer, 1, WAIT_MS));
	kill_reap(w);
	alarm(10);
	EXPECT_EQ(0, reap(r));
	EXPECT_EQ(-EOWNERDEAD, s->res[1]);
	EXPECT_EQ(0, shmr_rwlock_rdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));

	/* a reader that gets EOWNERDEAD holds the lock exclusively */
	s->flag = 0;
	w = spawn(writer_forever, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	kill_reap(w);
	EXPECT_EQ(-EOWNERDEAD, shmr_rwlock_rdlock(&s->rw));
	EXPECT_EQ(0, shmr_rwlock_owner(&s->rw, NULL, &tid));
	EXPECT_EQ(my_tid(), tid);
	/* without consistent: unrecoverable for readers and writers */
	EXPECT_EQ(0, shmr_rwlock_unlock(&s->rw));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_rwlock_rdlock(&s->rw));
	EXPECT_EQ(-ENOTRECOVERABLE, shmr_rwlock_trywrlock(&s->rw));
}

static int rw_worker(void *arg)
{
	struct shm *s = arg;
	long i;
	int r;

	for (i = 0; i < s->iters; i++) {
		if (i % 4 == 0) {
			r = shmr_rwlock_wrlock(&s->rw);
			if (r)
				return 1;
			s->a++;
			if ((i & 31) == 0)
				sched_yield();
			s->b++;
		} else {
			r = shmr_rwlock_rdlock(&s->rw);
			if (r)
				return 2;
			if (s->a != s->b)
				__atomic_add_fetch(&s->bad, 1, __ATOMIC_SEQ_CST);
		}
		if (shmr_rwlock_unlock(&s->rw))
			return 3;
	}
	return 0;
}

TEST(exclusion_under_contention)
{
	struct shm *s = shm_new();
	pid_t p[4];
	int i;

	ASSERT_NE(NULL, s);
	s->iters = scaled(20000);
	for (i = 0; i < 4; i++)
		p[i] = spawn(rw_worker, s);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, reap(p[i]));
	EXPECT_EQ(0, s->bad);
	EXPECT_EQ(s->a, s->b);
	EXPECT_EQ(4 * ((s->iters + 3) / 4), s->a);
}

TEST_HARNESS_MAIN
