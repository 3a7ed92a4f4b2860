// SPDX-License-Identifier: GPL-2.0
/*
 * Robust-lock torture, after glibc's tst-robust*: processes x threads doing
 * random lock / trylock / timedlock over shared mutexes and an rwlock,
 * every critical section checked against a model (one owner at a time; a
 * per-lock counter equal to the per-thread completion counts it protects),
 * processes SIGKILLed in rounds and respawned; kills at each injected
 * point of the library (shmr__lock_test_hook) while other processes sleep
 * on the lock; a holder that unmaps the lock and dies; holders in another
 * PID namespace. docs/locks.md ("Tests"), docs/testing.md.
 *
 * Seeded: SHMR_LOCK_TORTURE_SEED=N replays the random choices (not the
 * timing). SHMR_TEST_SCALE scales the rounds (lock_util.h's scaled()).
 */
/* the hook points of the test build of the library (libshmr-test.a) */
#define SHMR_TEST_HOOKS 1
#include "lock_util.h"

#include <sched.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/resource.h>

#define MAXP	4		/* processes */
#define MAXT	4		/* threads per process */
#define NLOCK	4		/* mutexes; plus one rwlock */

/* One mutex and the data it protects. */
struct plock {
	struct shmr_mutex m;
	volatile int owner;		/* id of the thread inside, 0 */
	volatile long count;		/* completed critical sections */
	volatile long done[MAXP][MAXT];	/* ... per thread; sum == count */
	volatile long incomplete;	/* counted by a thread that died */
	volatile long deaths;		/* EOWNERDEAD seen */
};

struct shm {
	struct plock lk[NLOCK];
	struct shmr_rwlock rwl;
	struct plock rw;		/* rw.m unused: the rwlock's data */
	volatile int reading[MAXP][MAXT];	/* id while in a read section */
	volatile int gen[MAXP];		/* generation of the process in slot */
	volatile int killed_gen[MAXP];	/* set before the kill */
	int nproc, nthr;
	unsigned int seed;
	volatile int stop;
	int errors;
	char err[256];
	long ops, busy, timedout, reads;
	/* injection (test inject_point) */
	int victim;			/* slot that carries the hook, -1 */
	int inj_point, inj_count_point, inj_n;
	volatile int rally, rallying, rallied, rally_timeout;
	volatile int in_x;		/* other processes' blocking lk[0] ops */
	volatile int stopped;
	volatile int stopped_tid;
	volatile int rally_res[MAXP][MAXT];
};

static struct shm *S;

#define ID(gen, slot, t)	((gen) * 256 + (slot) * 16 + (t) + 1)
#define ID_GEN(id)		(((id) - 1) / 256)
#define ID_SLOT(id)		((((id) - 1) / 16) % 16)
#define PARENT_SLOT		15	/* the test process itself */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&S->errors, 1, __ATOMIC_SEQ_CST) == 0) {
		va_start(ap, fmt);
		vsnprintf(S->err, sizeof(S->err), fmt, ap);
		va_end(ap);
	}
}

/* A thread id that may be dead: is its process known to be killed? */
static bool id_killed(int id)
{
	int slot = ID_SLOT(id);

	if (slot == PARENT_SLOT || slot >= MAXP)
		return false;
	return S->killed_gen[slot] >= ID_GEN(id);
}

static unsigned int seed_from_env(void)
{
	const char *e = getenv("SHMR_LOCK_TORTURE_SEED");

	if (e && *e)
		return (unsigned int)strtoul(e, NULL, 0);
	return (unsigned int)(now_ns(CLOCK_REALTIME) ^ (uint64_t)getpid() * 2654435761u);
}

/*
 * Repair after -EOWNERDEAD (lock held): the dead holder may have counted
 * its section without recording it; roll that back and remember it.
 */
static void repair(struct plock *p, const char *what)
{
	long sum = 0, diff;
	int i, j, o = p->owner;

	for (i = 0; i < MAXP; i++)
		for (j = 0; j < MAXT; j++)
			sum += p->done[i][j];
	diff = p->count - sum;
	if (diff < 0 || diff > 1 || (diff && !o))
		fail("%s: repair: count %ld, sections %ld, owner %#x",
		     what, p->count, sum, o);
	if (o && !id_killed(o))
		fail("%s: EOWNERDEAD but the owner %#x (slot %d gen %d) was never killed",
		     what, o, ID_SLOT(o), ID_GEN(o));
	p->incomplete += diff;
	p->count = sum;
	p->owner = 0;
	p->deaths++;
}

struct ctx {
	int slot, t, gen, id;
	unsigned int seed;
};

static int rnd(struct ctx *c, int n)
{
	return (int)(rand_r(&c->seed) % (unsigned int)n);
}

static void section(struct ctx *c, struct plock *p, const char *what)
{
	if (p->owner)
		fail("%s: two owners: %#x inside while %#x got the lock",
		     what, p->owner, c->id);
	p->owner = c->id;
	p->count++;
	if (rnd(c, 16) == 0)
		sched_yield();		/* widen the window for a kill inside */
	p->done[c->slot][c->t]++;
	if (p->owner != c->id)
		fail("%s: owner changed to %#x inside %#x's section", what,
		     p->owner, c->id);
	p->owner = 0;
}

/* Lock with a random method; 1 if held (data repaired), 0 if not. */
static int take_mutex(struct ctx *c, struct plock *p, int mode, int *res)
{
	struct timespec ts;
	clockid_t clk;
	int r;

	switch (mode) {
	case 0:
		r = shmr_mutex_lock(&p->m);
		break;
	case 1:
		r = shmr_mutex_trylock(&p->m);
		break;
	default:
		clk = rnd(c, 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
		ts = abs_in(clk, rnd(c, 4));
		r = shmr_mutex_timedlock(&p->m, clk, &ts);
		break;
	}
	if (res)
		*res = r;
	if (r == -EBUSY && mode == 1) {
		__atomic_add_fetch(&S->busy, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r == -ETIMEDOUT && mode == 2) {
		__atomic_add_fetch(&S->timedout, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (r == -EOWNERDEAD) {
		repair(p, "mutex");
		if ((r = shmr_mutex_consistent(&p->m)))
			fail("mutex consistent: %d", r);
		return 1;
	}
	if (r) {
		fail("mutex lock mode %d: %d (%s)", mode, r, strerror(-r));
		return 0;
	}
	return 1;
}

static void mutex_op(struct ctx *c, struct plock *p, int mode)
{
	bool count = p == &S->lk[0] && mode == 0 && S->victim >= 0 &&
		S->victim != c->slot;
	int r, held;

	if (count)
		__atomic_add_fetch(&S->in_x, 1, __ATOMIC_SEQ_CST);
	held = take_mutex(c, p, mode, NULL);
	if (count)
		__atomic_sub_fetch(&S->in_x, 1, __ATOMIC_SEQ_CST);
	if (!held)
		return;
	section(c, p, "mutex");
	if ((r = shmr_mutex_unlock(&p->m)))
		fail("mutex unlock: %d", r);
}

static void rw_op(struct ctx *c, bool write, int mode)
{
	struct shmr_rwlock *rw = &S->rwl;
	struct timespec ts;
	clockid_t clk = rnd(c, 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	int r, i, j, v;

	ts = abs_in(clk, rnd(c, 4));
	if (write)
		r = mode == 0 ? shmr_rwlock_wrlock(rw) : mode == 1 ?
			shmr_rwlock_trywrlock(rw) : shmr_rwlock_timedwrlock(rw, clk, &ts);
	else
		r = mode == 0 ? shmr_rwlock_rdlock(rw) : mode == 1 ?
			shmr_rwlock_tryrdlock(rw) : shmr_rwlock_timedrdlock(rw, clk, &ts);
	if ((r == -EBUSY && mode == 1) || (r == -ETIMEDOUT && mode == 2))
		return;
	if (r == -EOWNERDEAD) {
		/* exclusive now, whatever was asked for */
		repair(&S->rw, "rwlock");
		if ((r = shmr_rwlock_consistent(rw)))
			fail("rwlock consistent: %d", r);
		write = true;
	} else if (r) {
		fail("rwlock %s mode %d: %d (%s)", write ? "wr" : "rd", mode, r,
		     strerror(-r));
		return;
	}
	if (write) {
		for (i = 0; i < MAXP; i++)
			for (j = 0; j < MAXT; j++) {
				v = S->reading[i][j];
				if (v && !id_killed(v))
					fail("rwlock: writer %#x inside with reader %#x",
					     c->id, v);
			}
		section(c, &S->rw, "rwlock");
	} else {
		S->reading[c->slot][c->t] = c->id;
		if (S->rw.owner)
			fail("rwlock: reader %#x inside with writer %#x", c->id,
			     S->rw.owner);
		__atomic_add_fetch(&S->reads, 1, __ATOMIC_RELAXED);
		S->reading[c->slot][c->t] = 0;
	}
	if ((r = shmr_rwlock_unlock(rw)))
		fail("rwlock unlock: %d", r);
}

/* inject_point: the other processes' threads all lock lk[0] once. */
static void rally(struct ctx *c)
{
	int r = 99;

	__atomic_add_fetch(&S->rallying, 1, __ATOMIC_SEQ_CST);
	if (take_mutex(c, &S->lk[0], 0, &r)) {
		section(c, &S->lk[0], "rally");
		if (shmr_mutex_unlock(&S->lk[0].m))
			fail("rally unlock");
	}
	S->rally_res[c->slot][c->t] = r;
	__atomic_add_fetch(&S->rallied, 1, __ATOMIC_SEQ_CST);
}

static void *thread_main(void *arg)
{
	struct ctx *c = arg;
	bool rallied = false, x_only;
	int op;

	/* under injection the victim's thread 0 is the only one of its
	 * process on lk[0]; its other threads keep off lk[0] */
	x_only = S->victim == c->slot && c->t == 0;
	while (!S->stop) {
		if (S->rally) {
			if (S->victim != c->slot && !rallied) {
				rally(c);
				rallied = true;
			}
			msleep(1);	/* parked: holding nothing */
			continue;
		}
		__atomic_add_fetch(&S->ops, 1, __ATOMIC_RELAXED);
		if (x_only) {
			mutex_op(c, &S->lk[0], rnd(c, 3));
			continue;
		}
		op = rnd(c, 8);
		if (op < 6) {
			int k = rnd(c, NLOCK);

			if (S->victim == c->slot && k == 0)
				k = 1 + rnd(c, NLOCK - 1);
			mutex_op(c, &S->lk[k], rnd(c, 3));
		} else {
			rw_op(c, rnd(c, 3) == 0, rnd(c, 3));
		}
	}
	return NULL;
}

/* ---- injected stop (the victim's thread 0 only) --------------------------- */

static __thread bool inj_armed;
static int inj_passes;

static void __attribute__((noreturn)) stop_forever(void)
{
	S->stopped_tid = my_tid();
	__atomic_store_n(&S->stopped, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static void inj_hook(int point, const void *lock)
{
	int need = (S->nproc - 1) * S->nthr;
	uint64_t end;

	if (lock != &S->lk[0].m)
		return;
	if (inj_armed) {
		if (point == S->inj_point)
			stop_forever();
		return;
	}
	if (point != S->inj_count_point || ++inj_passes != S->inj_n)
		return;
	/* everybody else onto the lock, and asleep on it if it is held */
	__atomic_store_n(&S->rally, 1, __ATOMIC_SEQ_CST);
	end = now_ns(CLOCK_MONOTONIC) + 10000000000ull;
	for (;;) {
		if (now_ns(CLOCK_MONOTONIC) > end) {
			S->rally_timeout = 1;
			break;
		}
		if (point == LP_LOCK_PENDING ? S->rallied == need :
		    S->rallying + S->in_x == need && sleepers(lock) >= need)
			break;
		msleep(1);
	}
	msleep(10);
	if (point == S->inj_point)
		stop_forever();
	inj_armed = true;
}

static int proc_main(void *arg)
{
	int slot = (int)(intptr_t)arg, t;
	struct ctx c[MAXT];
	pthread_t th[MAXT];

	if (slot == S->victim)
		shmr__lock_test_hook = inj_hook;
	for (t = 0; t < S->nthr; t++) {
		c[t].slot = slot;
		c[t].t = t;
		c[t].gen = S->gen[slot];
		c[t].id = ID(c[t].gen, slot, t);
		c[t].seed = S->seed ^ (unsigned int)(c[t].id * 0x9e3779b9u);
		if (pthread_create(&th[t], NULL, thread_main, &c[t]))
			return 1;
	}
	for (t = 0; t < S->nthr; t++)
		pthread_join(th[t], NULL);
	return 0;
}

static struct shm *torture_new(int nproc, int nthr, unsigned int seed)
{
	struct shm *s = shared_alloc(sizeof(*s));
	int k;

	if (!s)
		return NULL;
	for (k = 0; k < NLOCK; k++)
		if (shmr_mutex_init(&s->lk[k].m, 0))
			return NULL;
	if (shmr_rwlock_init(&s->rwl, 0))
		return NULL;
	s->nproc = nproc;
	s->nthr = nthr;
	s->seed = seed;
	s->victim = -1;
	for (k = 0; k < MAXP; k++) {
		s->gen[k] = 1;
		s->killed_gen[k] = 0;
	}
	S = s;
	return s;
}

static long sum_done(struct plock *p)
{
	long sum = 0;
	int i, j;

	for (i = 0; i < MAXP; i++)
		for (j = 0; j < MAXT; j++)
			sum += p->done[i][j];
	return sum;
}

/*
 * Everyone stopped: every lock is free or owner-dead (then repaired),
 * nothing is stuck, and each counter equals the sections recorded.
 */
static void final_check(struct __test_metadata *_metadata, struct shm *s,
			long *deaths, long *incomplete)
{
	int k, r;

	for (k = 0; k <= NLOCK; k++) {
		struct plock *p = k < NLOCK ? &s->lk[k] : &s->rw;
		const char *what = k < NLOCK ? "mutex" : "rwlock";

		r = k < NLOCK ? shmr_mutex_trylock(&p->m) : shmr_rwlock_trywrlock(&s->rwl);
		if (r != 0 && r != -EOWNERDEAD) {
			TH_LOG("%s %d: trylock after the run: %d", what, k, r);
			EXPECT_EQ(0, r);
			continue;
		}
		if (r == -EOWNERDEAD) {
			repair(p, what);
			EXPECT_EQ(0, k < NLOCK ? shmr_mutex_consistent(&p->m) :
				  shmr_rwlock_consistent(&s->rwl));
		} else {
			EXPECT_EQ(0, p->owner);
		}
		EXPECT_EQ(sum_done(p), p->count);
		*deaths += p->deaths;
		*incomplete += p->incomplete;
		EXPECT_EQ(0, k < NLOCK ? shmr_mutex_unlock(&p->m) :
			  shmr_rwlock_unlock(&s->rwl));
		/* free now, and consistent */
		EXPECT_EQ(0, k < NLOCK ? shmr_mutex_trylock(&p->m) :
			  shmr_rwlock_trywrlock(&s->rwl));
		EXPECT_EQ(0, k < NLOCK ? shmr_mutex_unlock(&p->m) :
			  shmr_rwlock_unlock(&s->rwl));
	}
	if (s->errors)
		TH_LOG("%d errors, first: %s", s->errors, s->err);
	EXPECT_EQ(0, s->errors);
}

static void stop_all(struct __test_metadata *_metadata, struct shm *s,
		     pid_t *pid)
{
	int i;

	s->stop = 1;
	alarm(20);
	for (i = 0; i < s->nproc; i++)
		if (pid[i] > 0)
			EXPECT_EQ(0, reap(pid[i]));	/* nobody stuck */
	alarm(0);
}

TEST(rounds)
{
	unsigned int seed = seed_from_env(), rs = seed;
	int nproc = 4, nthr = 4, i;
	long rounds = scaled(150), round, kills = 0, deaths = 0, incomplete = 0;
	/* and a time bound (the VM's TCG is not always detected as slow) */
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), budget = 2000000000ull;
	struct shm *s = torture_new(nproc, nthr, seed);
	pid_t pid[MAXP];

	ASSERT_NE(NULL, s);
	printf("# lock_torture rounds seed=%u rounds=%ld (replay: SHMR_LOCK_TORTURE_SEED=%u)\n",
	       seed, rounds, seed);
	for (i = 0; i < nproc; i++)
		pid[i] = spawn(proc_main, (void *)(intptr_t)i);
	for (round = 0; round < rounds; round++) {
		int victims = 0;
		bool dead[MAXP] = { false };

		/* a random subset (at least one), each at a random time */
		while (!victims)
			for (i = 0; i < nproc; i++)
				if (rand_r(&rs) % 2) {
					dead[i] = true;
					victims++;
				}
		for (i = 0; i < nproc; i++) {
			if (!dead[i])
				continue;
			msleep(rand_r(&rs) % 8);
			s->killed_gen[i] = s->gen[i];
			kill(pid[i], SIGKILL);
			kills++;
		}
		for (i = 0; i < nproc; i++) {
			if (!dead[i])
				continue;
			ASSERT_EQ(128 + SIGKILL, reap(pid[i]));
			s->gen[i]++;
			pid[i] = spawn(proc_main, (void *)(intptr_t)i);
		}
		if (now_ns(CLOCK_MONOTONIC) - t0 > budget)
			break;
	}
	msleep(20);
	stop_all(_metadata, s, pid);
	final_check(_metadata, s, &deaths, &incomplete);
	/* every EOWNERDEAD is some killed thread's lock */
	EXPECT_LE(deaths, kills * nthr);
	EXPECT_GT(s->ops, 0);
	TH_LOG("seed %u: %ld rounds, %ld kills, %ld ops (%ld busy, %ld timed out, %ld reads), "
	       "%ld owner deaths, %ld incomplete sections rolled back, %.2f s",
	       seed, round, kills, s->ops, s->busy, s->timedout, s->reads, deaths,
	       incomplete, (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

/*
 * Kill at each injected point under load: the victim process's thread 0
 * works on lk[0] alone (its other threads on the other locks) with the
 * hook installed; on the Nth pass of the point it calls every other
 * process's threads onto lk[0], waits until they sleep on it (when it is
 * held there) and stops for ever; it is SIGKILLed there. The sleepers must
 * all be woken and get the result lock_robust's midway variants document.
 */
FIXTURE(inject) {
	struct shm *s;
};

FIXTURE_VARIANT(inject) {
	int point;
	int count_point;	/* the pass counted (the wait happens there) */
	int deaths;		/* EOWNERDEAD among the woken sleepers */
};

FIXTURE_VARIANT_ADD(inject, lock_before_cas) {
	.point = LP_LOCK_PENDING, .count_point = LP_LOCK_PENDING, .deaths = 0,
};
FIXTURE_VARIANT_ADD(inject, lock_before_enqueue) {
	.point = LP_LOCK_TAKEN, .count_point = LP_LOCK_TAKEN, .deaths = 1,
};
FIXTURE_VARIANT_ADD(inject, unlock_after_dequeue) {
	.point = LP_UNLOCK_DEQUEUED, .count_point = LP_UNLOCK_DEQUEUED, .deaths = 1,
};
FIXTURE_VARIANT_ADD(inject, unlock_before_wake) {
	.point = LP_UNLOCK_RELEASED, .count_point = LP_UNLOCK_DEQUEUED, .deaths = 0,
};

FIXTURE_SETUP(inject)
{
	unsigned int seed = seed_from_env();

	self->s = torture_new(3, 4, seed);
	ASSERT_NE(NULL, self->s);
	printf("# lock_torture inject seed=%u (replay: SHMR_LOCK_TORTURE_SEED=%u)\n",
	       seed, seed);
}

FIXTURE_TEARDOWN(inject)
{
}

TEST_F(inject, killed_at_point_under_load)
{
	struct shm *s = self->s;
	unsigned int rs = s->seed;
	int i, j, need = (s->nproc - 1) * s->nthr, dead = 0, ok = 0;
	long deaths = 0, incomplete = 0;
	uint32_t word;
	pid_t pid[MAXP];

	s->victim = 0;
	s->inj_point = variant->point;
	s->inj_count_point = variant->count_point;
	s->inj_n = 1 + (int)(rand_r(&rs) % 40);
	for (i = 0; i < s->nproc; i++)
		pid[i] = spawn(proc_main, (void *)(intptr_t)i);
	ASSERT_TRUE(wait_flag(&s->stopped, 1, WAIT_MS));
	EXPECT_EQ(0, s->rally_timeout) {
		TH_LOG("rally: %d+%d of %d in, %d through, %d asleep, word %#x",
		       s->rallying, s->in_x, need, s->rallied, sleepers(&s->lk[0].m),
		       *(uint32_t *)&s->lk[0].m);
	}
	word = __atomic_load_n((uint32_t *)&s->lk[0].m, __ATOMIC_SEQ_CST);
	if (variant->point == LP_LOCK_TAKEN || variant->point == LP_UNLOCK_DEQUEUED) {
		/* held by the stopped thread, sleepers flagged */
		EXPECT_EQ((uint32_t)s->stopped_tid | LW_WAITERS, word);
		EXPECT_LE(need, sleepers(&s->lk[0].m));
	} else if (variant->point == LP_UNLOCK_RELEASED) {
		/* released with sleepers nobody woke: only the kernel will */
		EXPECT_EQ(0u, word);
		EXPECT_LE(need, sleepers(&s->lk[0].m));
		EXPECT_EQ(0, s->rallied);
	} else {
		EXPECT_EQ(0u, word);
		EXPECT_EQ(need, s->rallied);
	}
	s->killed_gen[0] = s->gen[0];
	kill_reap(pid[0]);
	pid[0] = 0;
	/* every sleeper woken and through */
	EXPECT_TRUE(wait_flag(&s->rallied, need, WAIT_MS));
	/* (a sleeper in its own blocking lock of lk[0] rallies after it) */
	for (i = 1; i < s->nproc; i++)
		for (j = 0; j < s->nthr; j++) {
			dead += s->rally_res[i][j] == -EOWNERDEAD;
			ok += s->rally_res[i][j] == 0;
		}
	EXPECT_EQ(need, dead + ok);
	EXPECT_LE(dead, variant->deaths);
	/* exactly the documented number of owner deaths, all on lk[0],
	 * seen by one of the woken sleepers */
	EXPECT_EQ(variant->deaths, s->lk[0].deaths);
	stop_all(_metadata, s, pid);
	final_check(_metadata, s, &deaths, &incomplete);
	/* nothing else was held at the kill */
	EXPECT_EQ(variant->deaths, deaths);
	EXPECT_EQ(0, incomplete);
	TH_LOG("seed %u: stopped on pass %d, %ld ops, %d sleepers woken",
	       s->seed, s->inj_n, s->ops, need);
}

/*
 * A holder that unmaps the lock's memory and dies (docs/locks.md, Limits,
 * "Memory unmapped while held"): the kernel's walk stops at the unmapped
 * entry, so that lock and every lock taken before it stay locked for
 * ever, the ones taken after it are recovered; a waiter is not woken.
 */
struct unmap_shm {
	struct shmr_mutex before, after;
	volatile int flag;
	volatile int tid, res;
};

static struct unmap_shm *U;
static struct shmr_mutex *UA;	/* in its own mapping */

static int unmap_holder(void *arg)
{
	bool unlock_after = arg != NULL;
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	if (shmr_mutex_lock(&U->before) || shmr_mutex_lock(UA) ||
	    shmr_mutex_lock(&U->after))
		return 1;
	U->tid = my_tid();
	if (munmap(UA, 4096))
		return 2;
	if (unlock_after) {
		/* unlinking the neighbour of the unmapped entry faults */
		__atomic_store_n(&U->flag, 1, __ATOMIC_SEQ_CST);
		shmr_mutex_unlock(&U->after);
		return 3;
	}
	__atomic_store_n(&U->flag, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int unmap_waiter(void *arg)
{
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 400);

	(void)arg;
	U->res = shmr_mutex_timedlock(UA, CLOCK_MONOTONIC, &ts);
	return 0;
}

FIXTURE(unmapped) {
	int dummy;
};

FIXTURE_VARIANT(unmapped) {
	bool unlock_after;
};

FIXTURE_VARIANT_ADD(unmapped, killed) { .unlock_after = false };
FIXTURE_VARIANT_ADD(unmapped, unlock_neighbour) { .unlock_after = true };

FIXTURE_SETUP(unmapped)
{
	U = shared_alloc(sizeof(*U));
	UA = shared_alloc(4096);
	ASSERT_NE(NULL, U);
	ASSERT_NE(NULL, UA);
	ASSERT_EQ(0, shmr_mutex_init(&U->before, 0));
	ASSERT_EQ(0, shmr_mutex_init(&U->after, 0));
	ASSERT_EQ(0, shmr_mutex_init(UA, 0));
}

FIXTURE_TEARDOWN(unmapped)
{
}

TEST_F(unmapped, holder_unmaps_and_dies)
{
	struct timespec ts;
	pid_t p, w, opid, otid;
	int st;

	p = spawn(unmap_holder, variant->unlock_after ? (void *)1 : NULL);
	ASSERT_TRUE(wait_flag(&U->flag, 1, WAIT_MS));
	if (variant->unlock_after) {
		st = reap(p);
		EXPECT_EQ(128 + SIGSEGV, st);
	} else {
		U->res = 99;
		w = spawn(unmap_waiter, NULL);
		ASSERT_TRUE(wait_sleepers(UA, 1, WAIT_MS));
		kill_reap(p);
		/* the sleeper is not woken: it times out */
		EXPECT_EQ(0, reap(w));
		EXPECT_EQ(-ETIMEDOUT, U->res);
	}
	/* the unmapped lock: locked for ever by the dead TID */
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(UA));
	ts = abs_in(CLOCK_MONOTONIC, 20);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(UA, CLOCK_MONOTONIC, &ts));
	ts = abs_in(CLOCK_REALTIME, 20);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(UA, CLOCK_REALTIME, &ts));
	EXPECT_EQ(0, shmr_mutex_owner(UA, &opid, &otid));
	EXPECT_EQ(p, opid);
	EXPECT_EQ(U->tid, otid);
	/* taken before it (linked after it): never reached by the walk */
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&U->before));
	if (variant->unlock_after) {
		/*
		 * The unlock set list_op_pending to it and faulted before
		 * unlinking: the walk skips the pending entry (to handle it
		 * after the list), stops at the unmapped one and never
		 * gets to the pending one: stuck as well.
		 */
		EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&U->after));
	} else {
		/* taken after it (walked first): recovered */
		EXPECT_EQ(-EOWNERDEAD, shmr_mutex_trylock(&U->after));
		EXPECT_EQ(0, shmr_mutex_consistent(&U->after));
		EXPECT_EQ(0, shmr_mutex_unlock(&U->after));
	}
	/* re-initialising is the way out */
	EXPECT_EQ(0, shmr_mutex_init(UA, 0));
	EXPECT_EQ(0, shmr_mutex_trylock(UA));
	EXPECT_EQ(0, shmr_mutex_unlock(UA));
}

/*
 * Holders in another PID namespace. The lock word holds the TID as the
 * holder sees it (its own namespace) and the kernel compares it with the
 * dying thread's TID in *its* namespace (task_pid_vnr), so death detection
 * works across namespaces and distinct numbers are told apart; equal
 * numbers in two namespaces are confused (docs/locks.md, Limits).
 */
struct ns_shm {
	struct shmr_mutex m;
	volatile int want_tid;		/* ns TID for the holder, 0: init holds */
	volatile int init_pid;		/* the namespace's init, global pid */
	volatile int tid, pid;		/* the holder's, as it sees them */
	volatile int held, err;
	volatile int setup_failed;	/* unshare() or ns_last_pid: why in err */
	volatile int step, w_step;
	volatile int res[8];
};

static struct ns_shm *N;

static int ns_hold(void)
{
	if (shmr_mutex_lock(&N->m))
		return 1;
	N->tid = my_tid();
	N->pid = getpid();
	__atomic_store_n(&N->held, 1, __ATOMIC_SEQ_CST);
	/* step 2: lock again after it was stolen; step 4: unlock */
	while (N->step < 2)
		msleep(1);
	N->res[5] = shmr_mutex_lock(&N->m);
	__atomic_store_n(&N->held, 2, __ATOMIC_SEQ_CST);
	while (N->step < 4)
		msleep(1);
	N->res[6] = shmr_mutex_unlock(&N->m);
	__atomic_store_n(&N->held, 3, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

/* pid 1 of the new namespace */
static int ns_init(void)
{
	char buf[32];
	pid_t p;
	int fd, n;

	if (!N->want_tid)
		return ns_hold();
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	if (fd < 0) {
		N->err = errno;
		N->setup_failed = 1;
		return 1;
	}
	n = snprintf(buf, sizeof(buf), "%d", N->want_tid - 1);
	if (write(fd, buf, (size_t)n) != n) {
		N->err = errno;
		N->setup_failed = 1;
		return 1;
	}
	close(fd);
	p = fork();
	if (p == 0)
		_exit(ns_hold());
	if (p != N->want_tid)
		N->err = ESRCH;
	for (;;)
		pause();
}

static int ns_parent(void *arg)
{
	pid_t p;

	(void)arg;
	if (unshare(CLONE_NEWPID)) {
		N->err = errno;
		N->setup_failed = 1;
		return 1;
	}
	p = fork();
	if (p == 0)
		_exit(ns_init());
	N->init_pid = p;
	return reap(p) == 128 + SIGKILL ? 0 : 2;
}

static int ns_blocked_waiter(void *arg)
{
	(void)arg;
	N->res[0] = shmr_mutex_lock(&N->m);
	if (N->res[0] == -EOWNERDEAD)
		shmr_mutex_consistent(&N->m);
	shmr_mutex_unlock(&N->m);
	return 0;
}

/* pidns_tid_collision: a parent-namespace process with the holder's number */
static void ns_stop_pending(int point, const void *lock)
{
	if (point != LP_LOCK_PENDING || lock != &N->m)
		return;
	__atomic_store_n(&N->w_step, 3, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int ns_twin(void *arg)
{
	(void)arg;
	/* any lock call, so that our TID is cached before the holder exists */
	N->res[0] = shmr_mutex_trylock(&N->m);
	shmr_mutex_unlock(&N->m);
	__atomic_store_n(&N->w_step, 1, __ATOMIC_SEQ_CST);
	while (N->step < 1)
		msleep(1);
	N->res[1] = shmr_mutex_trylock(&N->m);
	N->res[2] = shmr_mutex_lock(&N->m);
	N->res[3] = shmr_mutex_unlock(&N->m);
	__atomic_store_n(&N->w_step, 2, __ATOMIC_SEQ_CST);
	while (N->step < 3)
		msleep(1);
	shmr__lock_test_hook = ns_stop_pending;
	shmr_mutex_lock(&N->m);
	return 1;
}

static bool ns_supported(struct __test_metadata *_metadata, const char **why)
{
	if (geteuid() != 0) {
		*why = "needs root for unshare(CLONE_NEWPID)";
		return false;
	}
	if (access("/proc/self/ns/pid", F_OK)) {
		*why = "no PID namespaces (/proc/self/ns/pid)";
		return false;
	}
	(void)_metadata;
	return true;
}

/* Wait until the holder holds; false if the namespace set-up failed. */
static bool ns_wait_held(void)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 5000000000ull;

	while (!N->held && !N->setup_failed && now_ns(CLOCK_MONOTONIC) < end)
		msleep(1);
	return N->held;
}

TEST(pidns_holder)
{
	const char *why;
	pid_t c, w, opid, otid;
	struct timespec ts;

	if (!ns_supported(_metadata, &why))
		SKIP(return, "%s", why);
	N = shared_alloc(sizeof(*N));
	ASSERT_NE(NULL, N);
	ASSERT_EQ(0, shmr_mutex_init(&N->m, 0));
	c = spawn(ns_parent, NULL);
	if (!ns_wait_held() && N->setup_failed) {
		reap(c);
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(N->err));
	}
	ASSERT_EQ(1, N->held);
	/* (fork() returned there after the holder took the lock, maybe) */
	ASSERT_TRUE(wait_flag(&N->init_pid, 1, WAIT_MS));
	/* the holder is pid 1 there: numbers differ from ours */
	EXPECT_EQ(1, N->tid);
	EXPECT_EQ(1, N->pid);
	EXPECT_NE(0, N->init_pid);
	EXPECT_NE(1, N->init_pid);
	/* a live holder is alive: not a false owner death */
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&N->m));
	ts = abs_in(CLOCK_MONOTONIC, 20);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(&N->m, CLOCK_MONOTONIC, &ts));
	/* the owner query reports the holder's own numbers */
	EXPECT_EQ(0, shmr_mutex_owner(&N->m, &opid, &otid));
	EXPECT_EQ(1, opid);
	EXPECT_EQ(1, otid);
	EXPECT_EQ(-EPERM, shmr_mutex_unlock(&N->m));
	/* killed with a waiter asleep here: woken, EOWNERDEAD */
	N->res[0] = 99;
	w = spawn(ns_blocked_waiter, NULL);
	ASSERT_TRUE(wait_sleepers(&N->m, 1, WAIT_MS));
	kill(N->init_pid, SIGKILL);
	EXPECT_EQ(0, reap(c));
	alarm(10);
	EXPECT_EQ(0, reap(w));
	alarm(0);
	EXPECT_EQ(-EOWNERDEAD, N->res[0]);
	EXPECT_EQ(0, shmr_mutex_trylock(&N->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&N->m));
	/* and without a waiter: the next locker */
	N->held = 0;
	N->init_pid = 0;
	c = spawn(ns_parent, NULL);
	ASSERT_TRUE(wait_flag(&N->held, 1, WAIT_MS));
	ASSERT_TRUE(wait_flag(&N->init_pid, 1, WAIT_MS));
	kill(N->init_pid, SIGKILL);
	EXPECT_EQ(0, reap(c));
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_lock(&N->m));
	EXPECT_EQ(0, shmr_mutex_consistent(&N->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&N->m));
}

/*
 * The documented limit: a holder in the child namespace whose TID equals
 * the TID of a thread here (made so with ns_last_pid). That thread's
 * trylock says EBUSY, but its lock says EDEADLK and its unlock releases
 * the other's lock; and if it dies with the lock as its list_op_pending
 * (here: stopped before the CAS), the kernel marks the live holder's lock
 * owner-dead: the next locker gets EOWNERDEAD beside the live owner.
 */
TEST(pidns_tid_collision)
{
	const char *why;
	pid_t c, w;

	if (!ns_supported(_metadata, &why))
		SKIP(return, "%s", why);
	N = shared_alloc(sizeof(*N));
	ASSERT_NE(NULL, N);
	ASSERT_EQ(0, shmr_mutex_init(&N->m, 0));
	w = spawn(ns_twin, NULL);
	ASSERT_TRUE(wait_flag(&N->w_step, 1, WAIT_MS));
	EXPECT_EQ(0, N->res[0]);
	N->want_tid = w;
	c = spawn(ns_parent, NULL);
	if (!ns_wait_held() && N->setup_failed) {
		if (N->init_pid > 0)
			kill(N->init_pid, SIGKILL);
		reap(c);
		kill_reap(w);
		SKIP(return, "a holder with a chosen TID in a new PID namespace "
		     "(unshare, ns_last_pid): %s", strerror(N->err));
	}
	ASSERT_EQ(1, N->held) {
		kill_reap(w);
	}
	ASSERT_EQ(w, N->tid);
	ASSERT_EQ(0, N->err);
	ASSERT_TRUE(wait_flag(&N->init_pid, 1, WAIT_MS));
	/* the twin: EBUSY by luck, EDEADLK, and its unlock steals the lock */
	N->step = 1;
	ASSERT_TRUE(wait_flag(&N->w_step, 2, WAIT_MS));
	EXPECT_EQ(-EBUSY, N->res[1]);
	EXPECT_EQ(-EDEADLK, N->res[2]);
	EXPECT_EQ(0, N->res[3]);
	/* free although its holder never unlocked it */
	EXPECT_EQ(0, shmr_mutex_trylock(&N->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&N->m));
	/* the holder takes it again */
	N->step = 2;
	ASSERT_TRUE(wait_flag(&N->held, 2, WAIT_MS));
	EXPECT_EQ(0, N->res[5]);
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&N->m));
	/* the twin dies with the lock pending: a false owner death */
	N->step = 3;
	ASSERT_TRUE(wait_flag(&N->w_step, 3, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&N->m));
	kill_reap(w);
	EXPECT_EQ(-EOWNERDEAD, shmr_mutex_trylock(&N->m));
	EXPECT_EQ(0, shmr_mutex_consistent(&N->m));
	/* the live holder has lost it */
	N->step = 4;
	ASSERT_TRUE(wait_flag(&N->held, 3, WAIT_MS));
	EXPECT_EQ(-EPERM, N->res[6]);
	EXPECT_EQ(0, shmr_mutex_unlock(&N->m));
	kill(N->init_pid, SIGKILL);
	EXPECT_EQ(0, reap(c));
	EXPECT_EQ(0, shmr_mutex_trylock(&N->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&N->m));
}

TEST_HARNESS_MAIN
