// SPDX-License-Identifier: GPL-2.0
/* shmr_mutex: validation, ownership, trylock, timeouts, mutual exclusion. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "lock_util.h"
#include "../../lib/internal.h"

struct shm {
	struct shmr_mutex m;
	volatile int flag;
	volatile int go;
	long counter;
	long done;
	int res[8];
};

static struct shm *shm_new(void)
{
	struct shm *s = shared_alloc(sizeof(*s));

	if (s && shmr_mutex_init(&s->m, 0))
		return NULL;
	return s;
}

TEST(init_rejects_flags_and_null)
{
	struct shmr_mutex m;

	EXPECT_EQ(-EINVAL, shmr_mutex_init(&m, 1));
	EXPECT_EQ(-EINVAL, shmr_mutex_init(&m, 0x80000000u));
	EXPECT_EQ(-EINVAL, shmr_mutex_init(NULL, 0));
	EXPECT_EQ(0, shmr_mutex_init(&m, 0));
}

/* The word and ctrl are one 8-byte atomic: init refuses a misaligned lock. */
TEST(init_rejects_misaligned)
{
	uint64_t buf[sizeof(struct shmr_mutex) / 8 + 1];
	struct shmr_mutex *m = (struct shmr_mutex *)((char *)buf + 4);

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EINVAL, shmr_mutex_init(m, 0));
	EXPECT_EQ(-EINVAL, shmr_mutex_lock(m));
	EXPECT_EQ(0, shmr_mutex_init((struct shmr_mutex *)buf, 0));
}

/*
 * Another layout or type is refused by every call, the fast paths
 * included: a layout-1 mutex (magic "1SMX" at offset 4), layout 2 with a
 * flag bit it does not define, an rwlock header's type.
 */
TEST(other_layouts_refused)
{
	static const uint32_t ctrls[] = { 0x584d5331u, LT_MUTEX | 0x80u, LT_RWLOCK };
	struct shmr_mutex m;
	struct lock *l = (struct lock *)&m;
	pid_t pid, tid;
	size_t i;

	for (i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		ASSERT_EQ(0, shmr_mutex_init(&m, 0));
		l->ctrl = ctrls[i];
		EXPECT_EQ(-EINVAL, shmr_mutex_lock(&m)) TH_LOG("ctrl %#x", ctrls[i]);
		EXPECT_EQ(-EINVAL, shmr_mutex_trylock(&m));
		EXPECT_EQ(-EINVAL, shmr_mutex_unlock(&m));
		EXPECT_EQ(-EINVAL, shmr_mutex_consistent(&m));
		EXPECT_EQ(-EINVAL, shmr_mutex_owner(&m, &pid, &tid));
		EXPECT_EQ(0u, l->word);
	}
	/* and one held under another layout is not unlocked either */
	ASSERT_EQ(0, shmr_mutex_init(&m, 0));
	ASSERT_EQ(0, shmr_mutex_lock(&m));
	l->ctrl = 0x584d5331u;
	EXPECT_EQ(-EINVAL, shmr_mutex_unlock(&m));
	l->ctrl = LT_MUTEX;
	EXPECT_EQ(0, shmr_mutex_unlock(&m));
}

TEST(uninitialised_refused)
{
	struct shmr_mutex m;
	pid_t pid, tid;

	memset(&m, 0, sizeof(m));
	EXPECT_EQ(-EINVAL, shmr_mutex_lock(&m));
	EXPECT_EQ(-EINVAL, shmr_mutex_trylock(&m));
	EXPECT_EQ(-EINVAL, shmr_mutex_unlock(&m));
	EXPECT_EQ(-EINVAL, shmr_mutex_consistent(&m));
	EXPECT_EQ(-EINVAL, shmr_mutex_owner(&m, &pid, &tid));
	EXPECT_EQ(-EINVAL, shmr_mutex_lock(NULL));
}

TEST(lock_owner_unlock)
{
	struct shm *s = shm_new();
	pid_t pid = 1, tid = 1;

	ASSERT_NE(NULL, s);
	EXPECT_EQ(-ENOENT, shmr_mutex_owner(&s->m, &pid, &tid));
	EXPECT_EQ(0, pid);
	EXPECT_EQ(0, tid);
	ASSERT_EQ(0, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, shmr_mutex_owner(&s->m, &pid, &tid));
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(my_tid(), tid);
	EXPECT_EQ(-EDEADLK, shmr_mutex_lock(&s->m));
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&s->m));
	/* consistent on a consistent lock is refused */
	EXPECT_EQ(-EINVAL, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(-EPERM, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(-EPERM, shmr_mutex_consistent(&s->m));
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

static void *unlock_thread(void *arg)
{
	return (void *)(intptr_t)shmr_mutex_unlock(arg);
}

TEST(unlock_by_other_thread_is_eperm)
{
	struct shm *s = shm_new();
	pthread_t t;
	void *ret;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, shmr_mutex_lock(&s->m));
	ASSERT_EQ(0, pthread_create(&t, NULL, unlock_thread, &s->m));
	pthread_join(t, &ret);
	EXPECT_EQ(-EPERM, (int)(intptr_t)ret);
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

static int hold_until_go(void *arg)
{
	struct shm *s = arg;

	if (shmr_mutex_lock(&s->m))
		return 1;
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->go, __ATOMIC_SEQ_CST))
		msleep(1);
	return shmr_mutex_unlock(&s->m) ? 2 : 0;
}

TEST(other_process_holds)
{
	struct shm *s = shm_new();
	pid_t pid, opid, otid;

	ASSERT_NE(NULL, s);
	pid = spawn(hold_until_go, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	EXPECT_EQ(-EBUSY, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(-EPERM, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, shmr_mutex_owner(&s->m, &opid, &otid));
	EXPECT_EQ(pid, opid);
	EXPECT_EQ(pid, otid);
	s->go = 1;
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(0, shmr_mutex_trylock(&s->m));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

static void timeout_on(struct __test_metadata *_metadata, clockid_t clk)
{
	struct shm *s = shm_new();
	struct timespec ts;
	uint64_t t0, el;
	pid_t pid;

	ASSERT_NE(NULL, s);
	pid = spawn(hold_until_go, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	ts = abs_in(clk, 100);
	t0 = now_ns(CLOCK_MONOTONIC);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(&s->m, clk, &ts));
	el = now_ns(CLOCK_MONOTONIC) - t0;
	EXPECT_GE(el, 95000000ull);
	EXPECT_LT(el, 3000000000ull);
	/* a time already past still times out, without blocking */
	ts = abs_in(clk, -10);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(&s->m, clk, &ts));
	/* released in time: acquired */
	ts = abs_in(clk, WAIT_MS);
	s->go = 1;
	EXPECT_EQ(0, shmr_mutex_timedlock(&s->m, clk, &ts));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
	EXPECT_EQ(0, reap(pid));
	/* free lock and a past time: acquired (no wait needed) */
	ts = abs_in(clk, -1000);
	EXPECT_EQ(0, shmr_mutex_timedlock(&s->m, clk, &ts));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

TEST(timedlock_monotonic)
{
	timeout_on(_metadata, CLOCK_MONOTONIC);
}

TEST(timedlock_realtime)
{
	timeout_on(_metadata, CLOCK_REALTIME);
}

TEST(timedlock_rejects_bad_args)
{
	struct shm *s = shm_new();
	struct timespec ts = abs_in(CLOCK_MONOTONIC, 10);

	ASSERT_NE(NULL, s);
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_PROCESS_CPUTIME_ID, &ts));
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_BOOTTIME, &ts));
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, NULL));
	ts.tv_nsec = 1000000000L;
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts));
	ts.tv_nsec = -1;
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts));
	ts.tv_nsec = 0;
	ts.tv_sec = -1;
	EXPECT_EQ(-EINVAL, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts));
	/* nothing was taken by the refused calls */
	EXPECT_EQ(-ENOENT, shmr_mutex_owner(&s->m, NULL, NULL));
}

#define NPROC	4

static int incrementer(void *arg)
{
	struct shm *s = arg;
	long i, n = s->done;

	for (i = 0; i < n; i++) {
		if (shmr_mutex_lock(&s->m))
			return 1;
		/* a non-atomic read-modify-write with a window */
		long v = s->counter;

		if ((i & 63) == 0)
			sched_yield();
		s->counter = v + 1;
		if (shmr_mutex_unlock(&s->m))
			return 2;
	}
	return 0;
}

TEST(mutual_exclusion_processes)
{
	struct shm *s = shm_new();
	pid_t pids[NPROC];
	int i;

	ASSERT_NE(NULL, s);
	s->done = scaled(20000);
	for (i = 0; i < NPROC; i++)
		pids[i] = spawn(incrementer, s);
	for (i = 0; i < NPROC; i++)
		EXPECT_EQ(0, reap(pids[i]));
	EXPECT_EQ(NPROC * s->done, s->counter);
}

static void *inc_thread(void *arg)
{
	return (void *)(intptr_t)incrementer(arg);
}

TEST(mutual_exclusion_threads)
{
	struct shm *s = shm_new();
	pthread_t t[NPROC];
	void *ret;
	int i;

	ASSERT_NE(NULL, s);
	s->done = scaled(20000);
	for (i = 0; i < NPROC; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, inc_thread, s));
	for (i = 0; i < NPROC; i++) {
		pthread_join(t[i], &ret);
		EXPECT_EQ(0, (int)(intptr_t)ret);
	}
	EXPECT_EQ(NPROC * s->done, s->counter);
}

/*
 * The uncontended path makes no system call: after one warm-up (which
 * finds the thread's robust list), lock and unlock run under a seccomp
 * filter that kills the process on any system call but exit_group.
 */
static int no_syscalls(void *arg)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	struct shm *s = arg;
	int i;

	if (shmr_mutex_lock(&s->m) || shmr_mutex_unlock(&s->m))
		return 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return 2;
	for (i = 0; i < 1000; i++) {
		if (shmr_mutex_lock(&s->m) || shmr_mutex_unlock(&s->m))
			syscall(SYS_exit_group, 3);
		if (shmr_mutex_trylock(&s->m) || shmr_mutex_unlock(&s->m))
			syscall(SYS_exit_group, 4);
	}
	syscall(SYS_exit_group, 0);
	return 5;
}

TEST(uncontended_no_syscalls)
{
	struct shm *s = shm_new();

	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, reap(spawn(no_syscalls, s)));
}

struct held {
	const void *addr[8];
	const char *kind[8];
	pid_t tid[8];
	int n;
};

static void collect(const struct shmr__held_lock *h, void *arg)
{
	struct held *r = arg;

	if (r->n < 8) {
		r->addr[r->n] = h->addr;
		r->kind[r->n] = h->kind;
		r->tid[r->n] = h->tid;
		r->n++;
	}
}

static int find(struct held *r, const void *addr, const char *kind)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->addr[i] == addr && !strcmp(r->kind[i], kind))
			return 1;
	return 0;
}

TEST(held_locks_foreach_lists_held_locks)
{
	struct shmr_mutex *m = shared_alloc(4096);
	struct shmr_rwlock *rw1 = shared_alloc(sizeof(*rw1));
	struct shmr_rwlock *rw2 = shared_alloc(sizeof(*rw2));
	pthread_mutex_t *g = shared_alloc(sizeof(*g));
	pthread_mutexattr_t a;
	struct held r;

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, rw2);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	ASSERT_EQ(0, pthread_mutex_init(g, &a));
	ASSERT_EQ(0, shmr_mutex_init(m, 0));
	ASSERT_EQ(0, shmr_rwlock_init(rw1, 0));
	ASSERT_EQ(0, shmr_rwlock_init(rw2, 0));

	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(0, r.n);

	ASSERT_EQ(0, shmr_mutex_lock(m));
	ASSERT_EQ(0, pthread_mutex_lock(g));
	ASSERT_EQ(0, shmr_rwlock_rdlock(rw1));
	ASSERT_EQ(0, shmr_rwlock_wrlock(rw2));
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(3, r.n);	/* the glibc mutex is not ours to report */
	EXPECT_TRUE(find(&r, m, "mutex"));
	EXPECT_TRUE(find(&r, rw1, "rwlock(read)"));
	EXPECT_TRUE(find(&r, rw2, "rwlock(write)"));
	EXPECT_EQ(my_tid(), r.tid[0]);

	EXPECT_EQ(0, shmr_rwlock_unlock(rw1));
	EXPECT_EQ(0, pthread_mutex_unlock(g));
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(2, r.n);
	EXPECT_TRUE(find(&r, m, "mutex"));
	EXPECT_EQ(0, shmr_mutex_unlock(m));
	EXPECT_EQ(0, shmr_rwlock_unlock(rw2));
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(0, r.n);
}

static void *hold_in_thread(void *arg)
{
	struct shm *s = arg;

	shmr_mutex_lock(&s->m);
	__atomic_store_n(&s->flag, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->go, __ATOMIC_SEQ_CST))
		msleep(1);
	shmr_mutex_unlock(&s->m);
	return NULL;
}

TEST(held_locks_foreach_sees_other_threads)
{
	struct shm *s = shm_new();
	struct held r;
	pthread_t t;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_in_thread, s));
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(1, r.n);
	EXPECT_TRUE(find(&r, &s->m, "mutex"));
	EXPECT_NE(my_tid(), r.tid[0]);
	s->go = 1;
	pthread_join(t, NULL);
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	EXPECT_EQ(0, r.n);
}

static int child_view(void *arg)
{
	struct shm *s = arg;
	struct held r;

	/* the parent's held lock is not the child's */
	memset(&r, 0, sizeof(r));
	shmr__held_locks_foreach(collect, &r);
	if (r.n != 0)
		return 1;
	if (shmr_mutex_unlock(&s->m) != -EPERM)
		return 2;
	if (shmr_mutex_trylock(&s->m) != -EBUSY)
		return 3;
	return 0;
}

TEST(fork_child_does_not_hold)
{
	struct shm *s = shm_new();

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, shmr_mutex_lock(&s->m));
	EXPECT_EQ(0, reap(spawn(child_view, s)));
	EXPECT_EQ(0, shmr_mutex_unlock(&s->m));
}

/*
 * The spin hint lives in the shared lock, where any peer can write it: a
 * huge value must not make waiters busy-wait for it (0xffffffff TSC ticks
 * is over a second). A waiter that fails its first spin stores half the
 * budget it used; with a hostile hint that must be what the default (0)
 * gives, since no budget exceeds the default's.
 */
TEST(spin_hint_is_bounded)
{
	static const uint32_t hints[] = { 0xffffffffu, 0x80000000u };
	struct shm *s = shm_new();
	struct lock *l;
	struct timespec ts;
	uint32_t dflt;
	pid_t pid;
	size_t i;

	ASSERT_NE(NULL, s);
	l = (struct lock *)&s->m;
	pid = spawn(hold_until_go, s);
	ASSERT_TRUE(wait_flag(&s->flag, 1, WAIT_MS));
	l->spin = 0;
	ts = abs_in(CLOCK_MONOTONIC, -10);
	EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts));
	dflt = l->spin;
	EXPECT_NE(0U, dflt);
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		l->spin = hints[i];
		ts = abs_in(CLOCK_MONOTONIC, -10);
		EXPECT_EQ(-ETIMEDOUT, shmr_mutex_timedlock(&s->m, CLOCK_MONOTONIC, &ts));
		EXPECT_EQ(dflt, l->spin) TH_LOG("hint %#x", hints[i]);
	}
	s->go = 1;
	EXPECT_EQ(0, reap(pid));
}

/*
 * No starvation: 2 and 4 processes hammer one lock with a tiny critical
 * section for 500 ms; every process must get a real share (at least 1% of
 * the acquisitions; a fair share would be 50% or 25%), and no update may
 * be lost. Catches a spinning/sleeping policy that lets the running owner
 * keep the lock for ever. The window opens only once every process is
 * running, so a slow fork on a loaded host does not look like starvation.
 */
struct starve {
	struct shmr_mutex m;
	int ready;
	int go;
	uint64_t end;
	long counter;
	long count[4];
};

static int hammer(void *arg)
{
	struct starve *t = arg;
	int idx = __atomic_fetch_add(&t->ready, 1, __ATOMIC_SEQ_CST);
	uint64_t end;
	long n = 0;

	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		sched_yield();
	end = t->end;
	while (now_ns(CLOCK_MONOTONIC) < end) {
		if (shmr_mutex_lock(&t->m))
			return 1;
		t->counter++;
		if (shmr_mutex_unlock(&t->m))
			return 2;
		n++;
	}
	t->count[idx] = n;
	return 0;
}

static void no_starvation(struct __test_metadata *_metadata, int nproc)
{
	struct starve *t = shared_alloc(sizeof(*t));
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + 60000000000ull;
	pid_t pids[4];
	long total = 0;
	int i;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, shmr_mutex_init(&t->m, 0));
	for (i = 0; i < nproc; i++)
		pids[i] = spawn(hammer, t);
	while (__atomic_load_n(&t->ready, __ATOMIC_SEQ_CST) < nproc &&
	       now_ns(CLOCK_MONOTONIC) < deadline)
		msleep(1);
	t->end = now_ns(CLOCK_MONOTONIC) + 500000000ull;
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nproc; i++)
		EXPECT_EQ(0, reap(pids[i]));
	ASSERT_EQ(nproc, t->ready);
	for (i = 0; i < nproc; i++)
		total += t->count[i];
	EXPECT_EQ(total, t->counter);
	for (i = 0; i < nproc; i++) {
		TH_LOG("process %d: %ld of %ld acquisitions", i, t->count[i], total);
		EXPECT_GE(t->count[i] * 100, total);
		EXPECT_GT(t->count[i], 0);
	}
	munmap(t, sizeof(*t));
}

TEST(contended_no_starvation_2p)
{
	no_starvation(_metadata, 2);
}

TEST(contended_no_starvation_4p)
{
	no_starvation(_metadata, 4);
}

TEST_HARNESS_MAIN
