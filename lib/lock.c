// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Robust process-shared futex locks: mutex, rwlock, condition variable.
 *
 * Mechanism (docs/locks.md): a held lock is linked into the calling
 * thread's robust futex list, the one glibc registers with the kernel, in
 * exactly the way glibc links its robust pthread mutexes, so the kernel's
 * exit-time walk marks FUTEX_OWNER_DIED in the lock word and wakes a
 * waiter whenever the owner thread dies, however it dies.
 */
#include "internal.h"
#include "lock.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert(sizeof(void *) == 8, "lock layout is for 64-bit processes");
_Static_assert(sizeof(struct lock) == sizeof(struct shmr_mutex), "mutex size");
_Static_assert(sizeof(struct lock) == 64, "lock size");
_Static_assert(offsetof(struct lock, ctrl) == 4, "word and ctrl: one u64");
_Static_assert(offsetof(struct lock, prev) == 24, "glibc __list.__prev");
_Static_assert(offsetof(struct lock, next) == 32, "glibc __list.__next");
_Static_assert(offsetof(struct lock, last) == 44, "lock layout");
_Static_assert(sizeof(struct cond) == sizeof(struct shmr_cond), "cond size");
_Static_assert(sizeof(struct shmr_rwlock) ==
	       (1 + SHMR_RWLOCK_READERS) * sizeof(struct lock), "rwlock size");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the word is the low half of the word+ctrl pair");

/* glibc: offsetof(__lock) - offsetof(__list.__next) */
#define FUTEX_OFFSET	(-(long)offsetof(struct lock, next))

/*
 * Spin budgets in TSC ticks (about 2.6 per ns here): waking a sleeper costs
 * 3-14 us, so poll a held word for a few microseconds before sleeping.
 */
#ifndef SPIN_LOCK
#define SPIN_LOCK	12000	/* before the first sleep, ~4.6 us */
#endif
#ifndef SPIN_WAKE
#define SPIN_WAKE	6000	/* after a wakeup, ~2.3 us */
#endif
#ifndef SPIN_MIN
#define SPIN_MIN	500	/* adaptive floor: the owner is rarely running */
#endif
#ifndef BACKOFF_MAX
#define BACKOFF_MAX	32	/* pauses between polls (one pause ~24 ns) */
#endif

/*
 * Fairness (docs/locks.md, "Fairness"). A spinning waiter sets want; the
 * holder's unlock, seeing it, counts (streak) and bumps a heartbeat
 * (beat). A waiter leaves a word it sees free to a holder whose heartbeat
 * moved lately (the holder is between its unlock and its next lock), and
 * keeps spinning, polling now and then, while it moves. After FAIR_BATCH
 * such unlocks in a row the holder hands off: the unlock sets LC_HANDOFF,
 * which sends every lock to the slow path, where the holder leaves the
 * word to a waiter for up to FAIR_YIELD ticks. A handoff nobody takes
 * withdraws want: a waiter that is still there sets it again, a dead one
 * costs nothing more. (The constants are in lock.h, for the tests.)
 */
#ifdef SHMR_TEST_HOOKS
void (*shmr__lock_test_hook)(int point, const void *lock);

static inline void hook(int point, const void *l)
{
	if (__builtin_expect(shmr__lock_test_hook != NULL, 0))
		shmr__lock_test_hook(point, l);
}
#else
/* Release builds: no hook, not even its test and branch. */
#define hook(point, l)	do { } while (0)
#endif

#define barrier()	__asm__ __volatile__("" ::: "memory")
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	barrier();
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t spin_clock(void)
{
	return __rdtsc();
}
#else
static inline uint64_t spin_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 2600000000ull + (uint64_t)ts.tv_nsec * 26 / 10;
}
#endif

/* ---- the word+ctrl pair ---------------------------------------------------- */

typedef uint64_t __attribute__((may_alias)) pair_t;

#define PAIR(w, c)	((uint64_t)(uint32_t)(w) | (uint64_t)(uint32_t)(c) << 32)
#define PAIR_WORD(p)	((uint32_t)(p))
#define PAIR_CTRL(p)	((uint32_t)((p) >> 32))

static inline pair_t *pair_of(struct lock *l)
{
	return (pair_t *)l;
}

static inline uint64_t load_pair(const struct lock *l)
{
	return __atomic_load_n((const pair_t *)l, __ATOMIC_ACQUIRE);
}

/* ctrl names a lock of type type (any flags, no unknown bits). */
static inline bool ctrl_is(uint32_t c, uint32_t type)
{
	return (c & ~LC_ALL) == type;
}

static inline uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline bool cas(uint32_t *p, uint32_t *old, uint32_t nv)
{
	return __atomic_compare_exchange_n(p, old, nv, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

static inline uint32_t spin_until_free(const uint32_t *w, uint64_t budget)
{
	uint64_t deadline = spin_clock() + budget;
	unsigned int i, backoff = 1;
	uint32_t v;

	for (;;) {
		v = __atomic_load_n(w, __ATOMIC_RELAXED);
		if (!(v & LW_TID) || (int64_t)(spin_clock() - deadline) > 0)
			return v;
		for (i = 0; i < backoff; i++)
			cpu_relax();
		if (backoff < BACKOFF_MAX)
			backoff <<= 1;
	}
}

/* ---- per-thread state -------------------------------------------------- */

struct thread_reg {
	struct thread_reg *next;
	pid_t tid;
	struct robust_list_head *head;
};

struct lock_tls {
	struct robust_list_head *head;
	pid_t tid;		/* 0: not initialised in this thread/process */
	pid_t pid;
	struct thread_reg *reg;
	const struct lock *handed_off;	/* this thread's last handoff */
};

/* A robust list head for threads glibc did not register one for. */
struct own_head {
	void *prev;		/* what glibc calls robust_prev */
	struct robust_list_head head;
};

static __thread struct lock_tls tls __attribute__((tls_model("initial-exec")));
static __thread struct own_head own __attribute__((tls_model("initial-exec")));

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_reg *reg_list;
static pthread_key_t reg_key;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_remove(struct thread_reg *r)
{
	struct thread_reg **pp;

	pthread_mutex_lock(&reg_lock);
	for (pp = &reg_list; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	free(r);
}

static void reg_destructor(void *p)
{
	reg_remove(p);
	tls.reg = NULL;
}

static void atfork_child(void)
{
	/* Only this thread exists now; its tid and pid changed. */
	reg_list = NULL;
	pthread_mutex_init(&reg_lock, NULL);
	tls.tid = 0;
	tls.reg = NULL;
}

static void reg_init(void)
{
	pthread_key_create(&reg_key, reg_destructor);
	pthread_atfork(NULL, NULL, atfork_child);
}

static __attribute__((noinline, cold)) int self_init(void)
{
	struct robust_list_head *head = NULL;
	struct thread_reg *r;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, 0, &head, &len))
		head = NULL;
	if (!head) {
		own.head.list.next = &own.head.list;
		own.head.futex_offset = FUTEX_OFFSET;
		own.head.list_op_pending = NULL;
		own.prev = &own.head;
		if (syscall(SYS_set_robust_list, &own.head, sizeof(own.head)))
			return -ENOSYS;
		head = &own.head;
	} else if (head->futex_offset != FUTEX_OFFSET) {
		return -ENOTSUP;
	}
	pthread_once(&reg_once, reg_init);
	tls.head = head;
	tls.pid = getpid();
	tls.tid = (pid_t)syscall(SYS_gettid);
	r = malloc(sizeof(*r));
	if (r) {
		r->tid = tls.tid;
		r->head = head;
		pthread_mutex_lock(&reg_lock);
		r->next = reg_list;
		reg_list = r;
		pthread_mutex_unlock(&reg_lock);
		tls.reg = r;
		pthread_setspecific(reg_key, r);
	}
	return 0;
}

static inline int self(void)
{
	if (likely(tls.tid))
		return 0;
	return self_init();
}

/* ---- futex and robust list primitives ------------------------------------ */

static inline void *entry_of(struct lock *l)
{
	return &l->next;
}

static int futex_wait(uint32_t *w, uint32_t val, clockid_t clk,
		      const struct timespec *abs)
{
	int op = FUTEX_WAIT_BITSET;

	if (abs && clk == CLOCK_REALTIME)
		op |= FUTEX_CLOCK_REALTIME;
	if (syscall(SYS_futex, w, op, val, abs, NULL, FUTEX_BITSET_MATCH_ANY))
		return -errno;
	return 0;
}

static __attribute__((noinline, cold)) void futex_wake(uint32_t *w, int n)
{
	syscall(SYS_futex, w, FUTEX_WAKE, n, NULL, NULL, 0);
}

static inline void set_pending(struct lock *l)
{
	tls.head->list_op_pending = l ? entry_of(l) : NULL;
	barrier();
}

/*
 * Link l at the front of this thread's robust list, as glibc's
 * ENQUEUE_MUTEX does: every prev/next pointer points at an element's next
 * field; the head itself acts as the element whose next field is
 * head->list (its prev field is the word before the head, glibc's
 * robust_prev, which only ever gets written: so it is not written here).
 * l's own links are stored only when they differ: a lock taken again by
 * the same thread at the same place in its list already holds them.
 */
static inline void enqueue(struct robust_list_head *head, struct lock *l)
{
	void **e = entry_of(l);
	void *first = head->list.next;
	void **fnext = (void **)((uintptr_t)first & ~1ul);

	if (first != &head->list)
		fnext[-1] = e;
	if (l->next != first)
		l->next = first;
	if (l->prev != &head->list)
		l->prev = &head->list;
	barrier();
	head->list.next = (struct robust_list *)e;
}

/*
 * Unlink l through its neighbours (the head's prev field, when l was the
 * last element, is not written: see enqueue()). Its own links are left as
 * they are: nothing reads them once it is off the list (the kernel follows
 * only the list, and list_op_pending names l's word, not its links).
 */
static inline void dequeue(struct robust_list_head *head, struct lock *l)
{
	void *n = l->next, *p = l->prev;
	void **next = (void **)((uintptr_t)n & ~1ul);
	void **prev = (void **)((uintptr_t)p & ~1ul);

	if (n != &head->list)
		next[-1] = p;
	prev[0] = n;
	barrier();
}

static int check_time(clockid_t clk, const struct timespec *abs)
{
	if (clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME)
		return -EINVAL;
	if (!abs || abs->tv_sec < 0 || abs->tv_nsec < 0 ||
	    abs->tv_nsec >= 1000000000L)
		return -EINVAL;
	return 0;
}

/*
 * Sleep on *w while it reads v (adding the waiters bit first), counting
 * ourselves in *nwaiters. 0 when woken or the word changed, -ETIMEDOUT.
 */
static int sleep_on(uint32_t *w, uint32_t v, uint32_t *nwaiters,
		    clockid_t clk, const struct timespec *abs)
{
	int ret = 0;

	__atomic_add_fetch(nwaiters, 1, __ATOMIC_SEQ_CST);
	if (!(v & LW_WAITERS)) {
		if (!cas(w, &v, v | LW_WAITERS))
			goto out;
		v |= LW_WAITERS;
	}
	ret = futex_wait(w, v, clk, abs);
	if (ret != -ETIMEDOUT)
		ret = 0;
out:
	__atomic_sub_fetch(nwaiters, 1, __ATOMIC_SEQ_CST);
	return ret;
}

/*
 * Release a word this thread holds and takes off its list; wake waiters.
 * list_op_pending names l from before the unlink until after the release
 * and the wake, so that a death anywhere in between is handled by the
 * kernel (word still ours: marked dead; word free: a waiter woken).
 */
static __attribute__((noinline, cold)) int release_wake(struct robust_list_head *head,
							  struct lock *l, int nwake)
{
	futex_wake(&l->word, nwake);
	barrier();
	head->list_op_pending = NULL;
	return 0;
}

static inline int release(struct robust_list_head *head, struct lock *l,
			  int nwake)
{
	uint32_t old;

	head->list_op_pending = entry_of(l);
	barrier();
	dequeue(head, l);
	hook(LP_UNLOCK_DEQUEUED, l);
	old = __atomic_exchange_n(&l->word, 0, __ATOMIC_SEQ_CST);
	hook(LP_UNLOCK_RELEASED, l);
	/*
	 * Only the waiters bit, as the kernel sees it. Sleepers that a
	 * newcomer's bit-less acquisition hides are covered: a woken waiter
	 * sets the bit again before sleeping, and if it or this unlocker dies
	 * first, the kernel's list_op_pending handling wakes another waiter
	 * whenever the word is free. (A tail call, so that the fast path
	 * saves no registers for it.)
	 */
	if (unlikely(old & LW_WAITERS))
		return release_wake(head, l, nwake);
	barrier();
	head->list_op_pending = NULL;
	return 0;
}

/* Unlock a held lock, turning an unrepaired one unrecoverable. */
static void unlock_owned(struct lock *l, int nwake)
{
	if (unlikely(load(&l->ctrl) & LC_INCONSISTENT)) {
		__atomic_fetch_or(&l->ctrl, LC_NOTRECOVERABLE, __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&l->ctrl, ~LC_INCONSISTENT, __ATOMIC_SEQ_CST);
		nwake = INT_MAX;
	}
	release(tls.head, l, nwake);
}

/*
 * Take l's word for this thread and link it on the robust list.
 * 0, -EOWNERDEAD, -ENOTRECOVERABLE (not held), -EBUSY (try), -ETIMEDOUT,
 * -EDEADLK, -EINVAL (not a lock of this type), or self_init()'s error.
 */
static int lock_slow(struct lock *l, uint32_t type, bool try, clockid_t clk,
		     const struct timespec *abs, bool fresh);

/*
 * The fast path: one compare-and-swap of the word+ctrl pair from (free,
 * type) to (our TID, type), so a lock of another type or layout, a held
 * one, one with an owner-death state and one somebody waits for all go to
 * lock_slow(). list_op_pending names l from before the CAS until l is on
 * the list. (Leaving it there would save two stores per lock+unlock but
 * defer l's death handling to after the kernel's list walk, which stops at
 * an unmapped entry: lock_torture's unmapped test.)
 */
static inline int lock_fast(struct lock *l, uint32_t type, bool try,
			    clockid_t clk, const struct timespec *abs)
{
	struct robust_list_head *head = tls.head;
	uint32_t tid = (uint32_t)tls.tid;
	uint64_t exp = PAIR(0, type);

	if (unlikely(!tid))
		return lock_slow(l, type, try, clk, abs, true);
	head->list_op_pending = entry_of(l);
	barrier();
	hook(LP_LOCK_PENDING, l);
	if (likely(__atomic_compare_exchange_n(pair_of(l), &exp, PAIR(tid, type),
					       false, __ATOMIC_SEQ_CST,
					       __ATOMIC_SEQ_CST))) {
		hook(LP_LOCK_TAKEN, l);
		enqueue(head, l);
		barrier();
		head->list_op_pending = NULL;
		if (unlikely(l->pid != (uint32_t)tls.pid))
			l->pid = (uint32_t)tls.pid;
		return 0;
	}
	return lock_slow(l, type, try, clk, abs, false);
}

/* A timed lock whose deadline has passed takes a free lock at once. */
static bool deadline_passed(clockid_t clk, const struct timespec *abs)
{
	struct timespec now;

	if (!abs || clock_gettime(clk, &now))
		return false;
	return now.tv_sec > abs->tv_sec ||
		(now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

static inline void yield_cpu(void)
{
	int i;

	for (i = 0; i < 32; i++)
		cpu_relax();
	sched_yield();
}

static inline void set_want(struct lock *l)
{
	if (!__atomic_load_n(&l->want, __ATOMIC_RELAXED))
		__atomic_store_n(&l->want, 1, __ATOMIC_RELAXED);
}

static inline void clear_want(struct lock *l)
{
	if (__atomic_load_n(&l->want, __ATOMIC_RELAXED))
		__atomic_store_n(&l->want, 0, __ATOMIC_RELAXED);
}

enum spin_end { SPIN_TAKE, SPIN_TIMEOUT };

/* What a spinning waiter has seen of the holder's heartbeat. */
struct beat_view {
	uint32_t beat;		/* last value seen */
	uint64_t since;		/* when it was first seen (TSC) */
	uint64_t polled;	/* the last poll (TSC) */
	uint64_t per_unlock;	/* ticks between the holder's counted unlocks */
};

/*
 * Until the heartbeat is seen to move, the holder counts as away: a waiter
 * that has just started, or was just woken by the unlock that freed the
 * word, takes a free word at once.
 */
static inline void view_init(struct beat_view *v, const struct lock *l)
{
	v->beat = __atomic_load_n(&l->beat, __ATOMIC_RELAXED);
	v->polled = spin_clock();
	v->since = v->polled - FAIR_QUIET;
	v->per_unlock = 0;
}

/*
 * A waiter's spin: poll with plain loads, keeping want set, and take the
 * word (SPIN_TAKE) when it is free and handed off, or free while the
 * heartbeat has not moved for FAIR_QUIET (the holder is not between its
 * unlock and its next lock: it left, or holds the lock for long
 * stretches); SPIN_TIMEOUT when the deadline passed, which a moving
 * heartbeat pushes back, up to cap.
 *
 * Every poll pulls the lock's cache line away from the holder, whose next
 * store then has to fetch it back. Between polls: exponential backoff (1
 * to BACKOFF_MAX pauses) and, while the holder works through its batch,
 * about half the time its remaining unlocks will take at the rate seen
 * (at most FAIR_NAP), so that a batch costs a few polls, not one every
 * microsecond, and the last ones come close to the handoff.
 */
static enum spin_end spin_fair(struct lock *l, uint64_t *deadline, uint64_t cap,
			       unsigned int *backoff, struct beat_view *v)
{
	uint64_t p, now, nap, until;
	uint32_t b, streak, batch;
	unsigned int i;

	for (;;) {
		p = load_pair(l);
		b = __atomic_load_n(&l->beat, __ATOMIC_RELAXED);
		now = spin_clock();
		nap = 0;
		if (b != v->beat) {
			v->per_unlock = (now - v->polled) / (uint32_t)(b - v->beat);
			v->beat = b;
			v->since = now;
			streak = __atomic_load_n(&l->streak, __ATOMIC_RELAXED);
			batch = FAIR_BATCH;
			if (streak < batch && v->per_unlock)
				nap = (uint64_t)(batch - streak) * v->per_unlock / 2;
			if (nap > FAIR_NAP)
				nap = FAIR_NAP;
			if ((int64_t)(*deadline - now) < (int64_t)(nap + SPIN_WAKE))
				*deadline = (int64_t)(now + nap + SPIN_WAKE - cap) < 0 ?
					now + nap + SPIN_WAKE : cap;
		}
		v->polled = now;
		if (!(PAIR_WORD(p) & LW_TID) &&
		    ((PAIR_CTRL(p) & LC_HANDOFF) ||
		     (int64_t)(now - v->since) >= FAIR_QUIET))
			return SPIN_TAKE;
		set_want(l);
		if ((int64_t)(now - *deadline) > 0)
			return SPIN_TIMEOUT;
		for (i = 0; i < *backoff; i++)
			cpu_relax();
		if (*backoff < BACKOFF_MAX)
			*backoff <<= 1;
		if (nap) {
			until = now + nap;
			do {
				for (i = 0; i < 16; i++)
					cpu_relax();
			} while ((int64_t)(spin_clock() - until) < 0);
		}
	}
}

static __attribute__((noinline)) int lock_slow(struct lock *l, uint32_t type,
					       bool try, clockid_t clk,
					       const struct timespec *abs,
					       bool fresh)
{
	uint32_t tid, w, c, nv, est, budget;
	uint64_t p, deadline = 0, cap = 0, yield_end = 0;
	unsigned int backoff = 1;
	bool first = true, spinning = !try, yielding = false, yielded = false;
	bool slept = false, waited = false, may_take = false, yield_once = false;
	bool early, mine;
	struct beat_view view;
	enum spin_end why;
	int ret;

	p = load_pair(l);
	if (unlikely(!ctrl_is(PAIR_CTRL(p), type))) {
		if (!fresh)
			set_pending(NULL);
		return -EINVAL;
	}
	if (fresh) {
		ret = self();
		if (ret)
			return ret;
		set_pending(l);
		hook(LP_LOCK_PENDING, l);
	}
	tid = (uint32_t)tls.tid;
	mine = __atomic_load_n(&l->last, __ATOMIC_RELAXED) == tid;
	view_init(&view, l);

	/*
	 * Our own unlock handed the lock off (its batch is over): leave the
	 * word to a waiter until one takes it or yield_end, unless nobody
	 * waits any more (then take it and withdraw the handoff).
	 */
	c = PAIR_CTRL(p);
	/*
	 * The first lock after our handoff: give up the CPU once (in the
	 * handoff's wait, or as soon as the waiter has the word), so that a
	 * thread sharing it runs in our place; with more threads than CPUs
	 * the lock then goes round all of them, not between the two that
	 * happen to be running.
	 */
	if (tls.handed_off == l) {
		tls.handed_off = NULL;
		yield_once = !try;
	}
	if ((c & LC_HANDOFF) && mine && !(PAIR_WORD(p) & LW_TID) && !try &&
	    (__atomic_load_n(&l->want, __ATOMIC_RELAXED) ||
	     __atomic_load_n(&l->nwaiters, __ATOMIC_RELAXED)) &&
	    !deadline_passed(clk, abs)) {
		yielding = true;
		yield_end = spin_clock() + FAIR_YIELD;
	}

	/*
	 * Spin before sleeping: a sleep costs the next unlock a FUTEX_WAKE
	 * and this thread a wakeup (3-15 us here). The budget is adaptive: it
	 * shrinks when the first spin fails (the holder was not running:
	 * oversubscribed CPUs, or long critical sections) and grows back when
	 * it succeeds. A hint only, updated without atomics, and in memory
	 * any peer can write: never above SPIN_LOCK, whatever it says. A
	 * moving heartbeat extends the spin (spin_fair()).
	 */
	est = __atomic_load_n(&l->spin, __ATOMIC_RELAXED);
	budget = est && est < SPIN_LOCK ? est : SPIN_LOCK;
	if (spinning) {
		deadline = spin_clock() + budget;
		cap = deadline + FAIR_SPIN_MAX;
	}
	for (;;) {
		p = load_pair(l);
		w = PAIR_WORD(p);
		c = PAIR_CTRL(p);
		if (unlikely(c & LC_NOTRECOVERABLE)) {
			ret = -ENOTRECOVERABLE;
			goto out;
		}
		if (!(w & LW_TID)) {
			if (yielding) {
				if ((int64_t)(spin_clock() - yield_end) < 0) {
					yield_once = false;
					yield_cpu();
					continue;
				}
				yielding = false;
				yielded = true;
			} else if (waited && spinning && !may_take &&
				   !(c & LC_HANDOFF)) {
				/* spin_fair() decides when a waiter may take it */
				goto wait;
			}
			may_take = false;
			/*
			 * Taking a word freed while others sleep: a thread
			 * that slept, or takes over from another holder, sets
			 * FUTEX_WAITERS so that the kernel's death handling
			 * and its own unlock wake the remaining sleepers. A
			 * holder taking its own lock back does not: its unlock
			 * would wake a sleeper each time (the woken one sets
			 * the bit again when it goes back to sleep).
			 *
			 * A waiter taking a handoff withdraws want just before
			 * its CAS (and sets it again if the CAS fails), so
			 * that the old holder, which sees the word held after
			 * the CAS and sets want, is counted for; one taking a
			 * word whose holder seems away withdraws it only once
			 * it has the word, so that if the holder was only slow
			 * and wins the CAS, its unlocks go on being counted.
			 */
			nv = tid | (w & LW_WAITERS);
			if ((slept || !mine) && load(&l->nwaiters))
				nv |= LW_WAITERS;
			early = waited && (c & LC_HANDOFF);
			if (early)
				clear_want(l);
			if (cas(&l->word, &w, nv)) {
				if (waited && !early)
					clear_want(l);
				break;
			}
			if (early)
				set_want(l);
			continue;
		}
		if ((w & LW_TID) == tid) {
			ret = try ? -EBUSY : -EDEADLK;
			goto out;
		}
		if (try) {
			ret = -EBUSY;
			goto out;
		}
		if (yield_once) {
			yield_once = false;
			sched_yield();
			continue;
		}
		/* somebody else has it: any handoff of ours is taken */
		if (yielding) {
			/* now wait for it like anybody else, from now on */
			yielding = false;
			if (spinning) {
				deadline = spin_clock() + budget;
				cap = deadline + FAIR_SPIN_MAX;
				view_init(&view, l);
			}
		}
		mine = false;
wait:
		waited = true;
		if (spinning) {
			why = spin_fair(l, &deadline, cap, &backoff, &view);
			if (why == SPIN_TAKE) {
				may_take = true;
				continue;
			}
			spinning = false;
			if (first) {
				est = budget / 2 > SPIN_MIN ? budget / 2 : SPIN_MIN;
				__atomic_store_n(&l->spin, est, __ATOMIC_RELAXED);
				first = false;
			}
			continue;	/* a free word is taken now, a held one slept on */
		}
		ret = sleep_on(&l->word, w, &l->nwaiters, clk, abs);
		if (ret)
			goto out;
		first = false;
		slept = true;
		spinning = true;
		backoff = 1;
		deadline = spin_clock() + SPIN_WAKE;
		cap = deadline + FAIR_SPIN_MAX;
		view_init(&view, l);
	}
	if (first && !try && budget < SPIN_LOCK) {
		est = budget + budget / 4 < SPIN_LOCK ? budget + budget / 4 : SPIN_LOCK;
		__atomic_store_n(&l->spin, est, __ATOMIC_RELAXED);
	}
	hook(LP_LOCK_TAKEN, l);
	enqueue(tls.head, l);
	set_pending(NULL);
	if (l->pid != (uint32_t)tls.pid)
		l->pid = (uint32_t)tls.pid;

	/*
	 * Fairness bookkeeping, in fields only the holder writes: a new
	 * holder starts a new streak and takes any handoff; after a handoff
	 * nobody took, the holder starts a new batch.
	 */
	c = load(&l->ctrl);
	if (l->last != tid) {
		l->last = tid;
		l->streak = 0;
	} else if (yielded) {
		/* nobody took it: a waiter that is still there sets want again */
		hook(LP_HANDOFF_TIMEOUT, l);
		l->streak = 0;
		clear_want(l);
	}
	if (c & LC_HANDOFF)
		__atomic_fetch_and(&l->ctrl, ~LC_HANDOFF, __ATOMIC_SEQ_CST);
	if ((w & LW_DIED) || (c & LC_INCONSISTENT)) {
		__atomic_fetch_or(&l->ctrl, LC_INCONSISTENT, __ATOMIC_SEQ_CST);
		return -EOWNERDEAD;
	}
	return 0;
out:
	if (waited)
		clear_want(l);
	set_pending(NULL);
	return ret;
}

static inline bool held_by_me(const struct lock *l)
{
	return (load(&l->word) & LW_TID) == (uint32_t)tls.tid;
}

/*
 * Somebody spins for the lock this thread holds and is about to release:
 * count (streak) and show progress (beat); at the end of the batch, hand
 * off. Only the holder writes these.
 */
static void count_wanted(struct lock *l)
{
	uint32_t tid = (uint32_t)tls.tid;

	if (l->last != tid) {
		l->last = tid;
		l->streak = 0;
	}
	__atomic_store_n(&l->beat, l->beat + 1, __ATOMIC_RELAXED);
	if (++l->streak >= FAIR_BATCH) {
		l->streak = 0;
		tls.handed_off = l;
		__atomic_fetch_or(&l->ctrl, LC_HANDOFF, __ATOMIC_SEQ_CST);
		hook(LP_HANDOFF, l);
	}
}

static __attribute__((noinline)) int unlock_slow(struct lock *l, uint32_t type,
						 int nwake)
{
	if (!ctrl_is(load(&l->ctrl), type))
		return -EINVAL;
	if (self() || !held_by_me(l))
		return -EPERM;
	if (__atomic_load_n(&l->want, __ATOMIC_RELAXED))
		count_wanted(l);
	unlock_owned(l, nwake);
	return 0;
}

/*
 * The fast path: held by this thread (the pair reads our TID and the bare
 * type, ignoring FUTEX_WAITERS, which release() deals with) and nobody
 * spinning for it; anything else, an owner-death state included, goes to
 * unlock_slow().
 */
static inline int unlock_fast(struct lock *l, uint32_t type, int nwake)
{
	const uint64_t ignore = PAIR(LW_WAITERS, 0);
	uint32_t tid = (uint32_t)tls.tid;
	uint64_t v = load_pair(l);
	uint32_t want = __atomic_load_n(&l->want, __ATOMIC_RELAXED);

	if (unlikely(!tid || ((v & ~ignore) != PAIR(tid, type)) || want))
		return unlock_slow(l, type, nwake);
	return release(tls.head, l, nwake);
}

static int owner_of(const struct lock *l, pid_t *pid, pid_t *tid)
{
	uint32_t v = load(&l->word);
	uint32_t c = load(&l->ctrl);
	uint32_t p = __atomic_load_n(&l->pid, __ATOMIC_RELAXED);
	int ret = 0;

	if (v & LW_TID) {
		if (c & LC_NOTRECOVERABLE)
			ret = -ENOTRECOVERABLE;
	} else if (v & LW_DIED) {
		ret = -EOWNERDEAD;
	} else {
		ret = c & LC_NOTRECOVERABLE ? -ENOTRECOVERABLE : -ENOENT;
		p = 0;
	}
	if (pid)
		*pid = (pid_t)p;
	if (tid)
		*tid = (pid_t)(v & LW_TID);
	return ret;
}

static void lock_init(struct lock *l, uint32_t type, uint32_t aux)
{
	memset(l, 0, sizeof(*l));
	l->wwait = aux;
	l->ctrl = type;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* The pair is one 8-byte atomic: locks are 8-byte aligned, as declared. */
static inline bool misaligned(const void *p)
{
	return (uintptr_t)p & 7;
}

static int make_consistent(struct lock *l)
{
	if (self() || !held_by_me(l))
		return -EPERM;
	if (!(load(&l->ctrl) & LC_INCONSISTENT))
		return -EINVAL;
	__atomic_fetch_and(&l->ctrl, ~LC_INCONSISTENT, __ATOMIC_SEQ_CST);
	return 0;
}

/* ---- mutex --------------------------------------------------------------- */

#define MUTEX(m)	((struct lock *)(m))

SHMR_API int shmr_mutex_init(struct shmr_mutex *m, unsigned int flags)
{
	if (!m || flags || misaligned(m))
		return -EINVAL;
	lock_init(MUTEX(m), LT_MUTEX, 0);
	return 0;
}

SHMR_API int shmr_mutex_lock(struct shmr_mutex *m)
{
	if (unlikely(!m))
		return -EINVAL;
	return lock_fast(MUTEX(m), LT_MUTEX, false, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_mutex_trylock(struct shmr_mutex *m)
{
	if (unlikely(!m))
		return -EINVAL;
	return lock_fast(MUTEX(m), LT_MUTEX, true, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_mutex_timedlock(struct shmr_mutex *m, clockid_t clock,
				  const struct timespec *abstime)
{
	int ret = check_time(clock, abstime);

	if (ret)
		return ret;
	if (!m)
		return -EINVAL;
	return lock_fast(MUTEX(m), LT_MUTEX, false, clock, abstime);
}

SHMR_API int shmr_mutex_unlock(struct shmr_mutex *m)
{
	if (unlikely(!m))
		return -EINVAL;
	return unlock_fast(MUTEX(m), LT_MUTEX, 1);
}

SHMR_API int shmr_mutex_consistent(struct shmr_mutex *m)
{
	if (!m || !ctrl_is(load(&MUTEX(m)->ctrl), LT_MUTEX))
		return -EINVAL;
	return make_consistent(MUTEX(m));
}

SHMR_API int shmr_mutex_owner(const struct shmr_mutex *m, pid_t *pid,
			      pid_t *tid)
{
	const struct lock *l = (const struct lock *)m;

	if (!m || !ctrl_is(load(&l->ctrl), LT_MUTEX))
		return -EINVAL;
	return owner_of(l, pid, tid);
}

/* ---- rwlock -------------------------------------------------------------- */

#define RW_HDR(rw)	((struct lock *)&(rw)->__writer)
#define RW_SLOT(rw, i)	((struct lock *)&(rw)->__reader[i])

static inline bool rw_valid(const struct shmr_rwlock *rw)
{
	return rw && ctrl_is(load(&((const struct lock *)&rw->__writer)->ctrl),
			     LT_RWLOCK);
}

SHMR_API int shmr_rwlock_init(struct shmr_rwlock *rw, unsigned int flags)
{
	int i;

	if (!rw || flags || misaligned(rw))
		return -EINVAL;
	for (i = 0; i < SHMR_RWLOCK_READERS; i++)
		lock_init(RW_SLOT(rw, i), LT_RSLOT, (uint32_t)i + 1);
	lock_init(RW_HDR(rw), LT_RWLOCK, 0);
	return 0;
}

/* Holding the writer word: wait until no reader slot is held. */
static int rw_drain(struct shmr_rwlock *rw, bool try, clockid_t clk,
		    const struct timespec *abs)
{
	uint64_t spin;
	uint32_t s;
	int i, ret;

	for (i = 0; i < SHMR_RWLOCK_READERS; i++) {
		struct lock *sl = RW_SLOT(rw, i);

		spin = SPIN_LOCK;
		for (;;) {
			s = load(&sl->word);
			if ((s & LW_TID) && !try && spin) {
				s = spin_until_free(&sl->word, spin);
				spin = 0;
			}
			if (!s)
				break;
			if (!(s & LW_TID)) {
				/* a reader died holding this slot */
				if (cas(&sl->word, &s, 0) && (s & LW_WAITERS))
					futex_wake(&sl->word, INT_MAX);
				continue;
			}
			if (try)
				return -EBUSY;
			ret = sleep_on(&sl->word, s, &sl->nwaiters, clk, abs);
			if (ret)
				return ret;
			spin = SPIN_WAKE;
		}
	}
	return 0;
}

static int rw_wrlock(struct shmr_rwlock *rw, bool try, clockid_t clk,
		     const struct timespec *abs)
{
	struct lock *h = RW_HDR(rw);
	int ret, dret;

	ret = lock_fast(h, LT_RWLOCK, try, clk, abs);
	if (ret && ret != -EOWNERDEAD)
		return ret;
	dret = rw_drain(rw, try, clk, abs);
	if (dret) {
		/* state stays as it was: the next locker sees it */
		release(tls.head, h, INT_MAX);
		return dret;
	}
	return ret;
}

static int rw_rdlock(struct shmr_rwlock *rw, bool try, clockid_t clk,
		     const struct timespec *abs)
{
	struct lock *h = RW_HDR(rw), *sl = NULL;
	uint64_t spin = SPIN_LOCK;
	uint32_t tid, v, s;
	int i, k, start, ret;

	ret = self();
	if (ret)
		return ret;
	tid = (uint32_t)tls.tid;
	start = (int)(tid % SHMR_RWLOCK_READERS);
	for (;;) {
		v = load(&h->word);
		if (unlikely(v & LW_TID)) {
			if ((v & LW_TID) == tid)
				return try ? -EBUSY : -EDEADLK;
			if (try)
				return -EBUSY;
			if (spin) {
				spin_until_free(&h->word, spin);
				spin = 0;
				continue;
			}
			ret = sleep_on(&h->word, v, &h->nwaiters, clk, abs);
			if (ret)
				return ret;
			spin = SPIN_WAKE;
			continue;
		}
		if (unlikely((v & LW_DIED) ||
			     (load(&h->ctrl) & (LC_INCONSISTENT | LC_NOTRECOVERABLE))))
			return rw_wrlock(rw, try, clk, abs);
		for (k = 0; k < SHMR_RWLOCK_READERS; k++) {
			i = (start + k) % SHMR_RWLOCK_READERS;
			sl = RW_SLOT(rw, i);
			s = load(&sl->word);
			if (s & LW_TID)
				continue;
			set_pending(sl);
			hook(LP_LOCK_PENDING, sl);
			if (cas(&sl->word, &s, tid | (s & LW_WAITERS)))
				break;
			set_pending(NULL);
		}
		if (unlikely(k == SHMR_RWLOCK_READERS)) {
			/* every slot held: wait for ours to be released */
			if (try)
				return -EBUSY;
			sl = RW_SLOT(rw, start);
			s = load(&sl->word);
			if (!(s & LW_TID))
				continue;
			ret = sleep_on(&sl->word, s, &sl->nwaiters, clk, abs);
			if (ret)
				return ret;
			continue;
		}
		hook(LP_LOCK_TAKEN, sl);
		/* a writer that came in meanwhile goes first */
		v = load(&h->word);
		if (unlikely(v & (LW_TID | LW_DIED))) {
			s = __atomic_exchange_n(&sl->word, 0, __ATOMIC_SEQ_CST);
			if ((s & LW_WAITERS) || load(&sl->nwaiters))
				futex_wake(&sl->word, INT_MAX);
			set_pending(NULL);
			continue;
		}
		enqueue(tls.head, sl);
		set_pending(NULL);
		sl->pid = (uint32_t)tls.pid;
		return 0;
	}
}

SHMR_API int shmr_rwlock_rdlock(struct shmr_rwlock *rw)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_rdlock(rw, false, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_rwlock_tryrdlock(struct shmr_rwlock *rw)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_rdlock(rw, true, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_rwlock_timedrdlock(struct shmr_rwlock *rw, clockid_t clock,
				     const struct timespec *abstime)
{
	int ret = check_time(clock, abstime);

	if (ret)
		return ret;
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_rdlock(rw, false, clock, abstime);
}

SHMR_API int shmr_rwlock_wrlock(struct shmr_rwlock *rw)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_wrlock(rw, false, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_rwlock_trywrlock(struct shmr_rwlock *rw)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_wrlock(rw, true, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_rwlock_timedwrlock(struct shmr_rwlock *rw, clockid_t clock,
				     const struct timespec *abstime)
{
	int ret = check_time(clock, abstime);

	if (ret)
		return ret;
	if (!rw_valid(rw))
		return -EINVAL;
	return rw_wrlock(rw, false, clock, abstime);
}

SHMR_API int shmr_rwlock_unlock(struct shmr_rwlock *rw)
{
	struct lock *h = RW_HDR(rw);
	uint32_t tid;
	int i, k, start;

	if (!rw_valid(rw))
		return -EINVAL;
	if (self())
		return -EPERM;
	tid = (uint32_t)tls.tid;
	if (held_by_me(h)) {
		unlock_owned(h, INT_MAX);
		return 0;
	}
	start = (int)(tid % SHMR_RWLOCK_READERS);
	for (k = 0; k < SHMR_RWLOCK_READERS; k++) {
		i = (start + k) % SHMR_RWLOCK_READERS;
		if (held_by_me(RW_SLOT(rw, i))) {
			release(tls.head, RW_SLOT(rw, i), INT_MAX);
			return 0;
		}
	}
	return -EPERM;
}

SHMR_API int shmr_rwlock_consistent(struct shmr_rwlock *rw)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return make_consistent(RW_HDR(rw));
}

SHMR_API int shmr_rwlock_owner(const struct shmr_rwlock *rw, pid_t *pid,
			       pid_t *tid)
{
	if (!rw_valid(rw))
		return -EINVAL;
	return owner_of((const struct lock *)&rw->__writer, pid, tid);
}

/* ---- condition variable ----------------------------------------------------- */

#define COND(c)		((struct cond *)(c))

SHMR_API int shmr_cond_init(struct shmr_cond *c, unsigned int flags)
{
	if (!c || flags || misaligned(c))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	COND(c)->magic = LT_COND;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

static int cond_wait(struct shmr_cond *c, struct shmr_mutex *m, clockid_t clk,
		     const struct timespec *abs)
{
	struct cond *cv = COND(c);
	int ret, wret;
	uint32_t seq;

	if (!c || cv->magic != LT_COND || !m ||
	    !ctrl_is(load(&MUTEX(m)->ctrl), LT_MUTEX))
		return -EINVAL;
	if (self() || !held_by_me(MUTEX(m)))
		return -EPERM;
	__atomic_add_fetch(&cv->nwaiters, 1, __ATOMIC_SEQ_CST);
	seq = load(&cv->seq);
	unlock_owned(MUTEX(m), 1);
	wret = futex_wait(&cv->seq, seq, clk, abs);
	__atomic_sub_fetch(&cv->nwaiters, 1, __ATOMIC_SEQ_CST);
	ret = lock_fast(MUTEX(m), LT_MUTEX, false, CLOCK_MONOTONIC, NULL);
	if (ret)
		return ret;
	return wret == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

SHMR_API int shmr_cond_wait(struct shmr_cond *c, struct shmr_mutex *m)
{
	return cond_wait(c, m, CLOCK_MONOTONIC, NULL);
}

SHMR_API int shmr_cond_timedwait(struct shmr_cond *c, struct shmr_mutex *m,
				 clockid_t clock,
				 const struct timespec *abstime)
{
	int ret = check_time(clock, abstime);

	if (ret)
		return ret;
	return cond_wait(c, m, clock, abstime);
}

static int cond_wake(struct shmr_cond *c, int n)
{
	struct cond *cv = COND(c);

	if (!c || cv->magic != LT_COND)
		return -EINVAL;
	__atomic_add_fetch(&cv->seq, 1, __ATOMIC_SEQ_CST);
	if (load(&cv->nwaiters))
		futex_wake(&cv->seq, n);
	return 0;
}

SHMR_API int shmr_cond_signal(struct shmr_cond *c)
{
	return cond_wake(c, 1);
}

SHMR_API int shmr_cond_broadcast(struct shmr_cond *c)
{
	return cond_wake(c, INT_MAX);
}

/* ---- leak report ------------------------------------------------------------ */

/* Read len bytes at addr without faulting: 0 or -1 (unmapped). */
static int peek(const void *addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
		(ssize_t)len ? 0 : -1;
}

static void walk_thread(const struct thread_reg *r, shmr__held_lock_cb cb,
			void *arg)
{
	struct robust_list_head head;
	struct shmr__held_lock h;
	struct lock l;
	uintptr_t e;
	int n;

	if (peek(r->head, &head, sizeof(head)))
		return;
	e = (uintptr_t)head.list.next & ~1ul;
	for (n = 0; n < 2048 && e != (uintptr_t)&r->head->list; n++) {
		const char *base = (const char *)e + FUTEX_OFFSET;

		if (peek(base, &l, sizeof(l)))
			return;
		memset(&h, 0, sizeof(h));
		h.addr = base;
		h.tid = r->tid;
		if ((l.word & LW_TID) != (uint32_t)r->tid)
			h.kind = NULL;
		else if (ctrl_is(l.ctrl, LT_MUTEX))
			h.kind = "mutex";
		else if (ctrl_is(l.ctrl, LT_RWLOCK))
			h.kind = "rwlock(write)";
		else if (ctrl_is(l.ctrl, LT_RSLOT) &&
			 l.wwait >= 1 && l.wwait <= SHMR_RWLOCK_READERS) {
			h.kind = "rwlock(read)";
			h.addr = base - (size_t)l.wwait * sizeof(struct lock);
		}
		if (h.kind)
			cb(&h, arg);
		e = (uintptr_t)l.next & ~1ul;
	}
}

SHMR_HIDDEN void shmr__held_locks_foreach(shmr__held_lock_cb cb, void *arg)
{
	struct thread_reg *r, self_reg;
	bool seen_self = false;

	if (!cb)
		return;
	if (self())
		return;
	pthread_mutex_lock(&reg_lock);
	for (r = reg_list; r; r = r->next) {
		if (r->tid == tls.tid)
			seen_self = true;
		walk_thread(r, cb, arg);
	}
	pthread_mutex_unlock(&reg_lock);
	if (!seen_self) {
		self_reg.tid = tls.tid;
		self_reg.head = tls.head;
		walk_thread(&self_reg, cb, arg);
	}
}
