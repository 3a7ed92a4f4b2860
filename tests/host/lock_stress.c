// SPDX-License-Identifier: GPL-2.0
/*
 * Random SIGKILLs against processes hammering a shmr mutex and an rwlock:
 * never two owners at once, never a deadlock, every death recovered.
 */
#include "lock_util.h"

#define NWORKERS	4

struct shm {
	struct shmr_mutex m;
	struct shmr_rwlock rw;
	volatile pid_t inside;	/* who is in the mutex's critical section */
	volatile int writers_in, readers_in;
	long ops[NWORKERS];
	long recovered;
	long rw_recovered;
	int violations;
	int errors;
	volatile int stop;
};

static void bad(struct shm *s, int *what)
{
	__atomic_add_fetch(what, 1, __ATOMIC_SEQ_CST);
	(void)s;
}

static void mutex_round(struct shm *s, pid_t me)
{
	int r = shmr_mutex_lock(&s->m);
	int i;

	if (r == -EOWNERDEAD) {
		/* the dead owner may have left its mark: repair it */
		s->inside = 0;
		s->recovered++;
		if (shmr_mutex_consistent(&s->m))
			bad(s, &s->errors);
	} else if (r) {
		bad(s, &s->errors);
		return;
	}
	if (s->inside != 0)
		bad(s, &s->violations);
	s->inside = me;
	for (i = 0; i < 50; i++)
		__asm__ __volatile__("" ::: "memory");
	if ((me ^ s->ops[0]) % 8 == 0)
		sched_yield();	/* widen the window for a kill inside */
	if (s->inside != me)
		bad(s, &s->violations);
	s->inside = 0;
	if (shmr_mutex_unlock(&s->m))
		bad(s, &s->errors);
}

static void rw_round(struct shm *s, bool write)
{
	int r = write ? shmr_rwlock_wrlock(&s->rw) : shmr_rwlock_rdlock(&s->rw);

	if (r == -EOWNERDEAD) {
		/* exclusive now, whichever was asked for */
		s->writers_in = 0;
		s->rw_recovered++;
		if (shmr_rwlock_consistent(&s->rw))
			bad(s, &s->errors);
		write = true;
	} else if (r) {
		bad(s, &s->errors);
		return;
	}
	if (write) {
		if (s->writers_in)
			bad(s, &s->violations);
		s->writers_in = 1;
		sched_yield();
		s->writers_in = 0;
	} else if (s->writers_in) {
		bad(s, &s->violations);
	}
	if (shmr_rwlock_unlock(&s->rw))
		bad(s, &s->errors);
}

static int worker(struct shm *s, int idx)
{
	pid_t me = getpid();
	unsigned int seed = (unsigned int)me;

	while (!s->stop) {
		if (rand_r(&seed) % 4)
			mutex_round(s, me);
		else
			rw_round(s, rand_r(&seed) % 3 == 0);
		__atomic_add_fetch(&s->ops[idx], 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static struct shm *g;
static int w0(void *a) { (void)a; return worker(g, 0); }
static int w1(void *a) { (void)a; return worker(g, 1); }
static int w2(void *a) { (void)a; return worker(g, 2); }
static int w3(void *a) { (void)a; return worker(g, 3); }
static int (*const wfn[NWORKERS])(void *) = { w0, w1, w2, w3 };

TEST(random_kills)
{
	struct shm *s = shared_alloc(sizeof(*s));
	pid_t pid[NWORKERS];
	unsigned int seed = (unsigned int)getpid();
	long kills = 0, rounds = scaled(800), r;
	struct timespec ts;
	uint64_t end;
	int i;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, shmr_mutex_init(&s->m, 0));
	ASSERT_EQ(0, shmr_rwlock_init(&s->rw, 0));
	g = s;
	for (i = 0; i < NWORKERS; i++)
		pid[i] = spawn(wfn[i], NULL);
	/*
	 * Bounded in time too: a kill and a respawn cost 10-40 ms on a debug
	 * kernel (KASAN) under TCG, which scaled()'s userspace loop does not see.
	 */
	end = now_ns(CLOCK_MONOTONIC) + 10000000000ULL;
	for (r = 0; r < rounds && now_ns(CLOCK_MONOTONIC) < end; r++) {
		/* a random pause of 0-4 ms, then kill a random worker */
		struct timespec d = { 0, (long)(rand_r(&seed) % 4000) * 1000L };

		nanosleep(&d, NULL);
		i = (int)(rand_r(&seed) % NWORKERS);
		kill_reap(pid[i]);
		kills++;
		pid[i] = spawn(wfn[i], NULL);
	}
	s->stop = 1;
	for (i = 0; i < NWORKERS; i++) {
		/* the survivors finish: nobody is stuck */
		alarm(20);
		EXPECT_EQ(0, reap(pid[i]));
	}
	alarm(0);
	/* and the locks are free or recoverable */
	ts = abs_in(CLOCK_MONOTONIC, 2000);
	r = shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts);
	EXPECT_TRUE(r == 0 || r == -EOWNERDEAD);
	ts = abs_in(CLOCK_MONOTONIC, 2000);
	r = shmr_rwlock_timedwrlock(&s->rw, CLOCK_MONOTONIC, &ts);
	EXPECT_TRUE(r == 0 || r == -EOWNERDEAD);
	EXPECT_EQ(0, s->violations);
	EXPECT_EQ(0, s->errors);
	for (i = 0; i < NWORKERS; i++)
		EXPECT_GT(s->ops[i], 0);
	TH_LOG("%ld kills, %ld mutex and %ld rwlock recoveries, ops %ld %ld %ld %ld",
	       kills, s->recovered, s->rw_recovered,
	       s->ops[0], s->ops[1], s->ops[2], s->ops[3]);
}

TEST_HARNESS_MAIN
