/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the lock tests (tests/host/lock_*.c). */
#ifndef LOCK_UTIL_H
#define LOCK_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <shmr.h>
#include "../../lib/lock.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

/* Zeroed MAP_SHARED|MAP_ANONYMOUS memory, shared with forked children. */
static inline void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline uint64_t now_ns(clockid_t clk);

/*
 * Iteration scale: SHMR_TEST_SCALE if set, else 1 on a fast machine and
 * 0.1 when a fixed loop runs more than 5x slower than on real hardware
 * (the VM's TCG emulation).
 */
static inline long scaled(long n)
{
	static double f;
	const char *s = getenv("SHMR_TEST_SCALE");
	long r;

	if (f == 0 && s)
		f = atof(s);
	if (f <= 0) {
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		volatile unsigned long x = 0;
		unsigned long i;

		for (i = 0; i < 2000000; i++)
			x += i;
		/* ~1-2 ms natively */
		f = now_ns(CLOCK_MONOTONIC) - t0 > 10000000ull ? 0.1 : 1.0;
	}
	r = (long)((double)n * f);
	return r < 1 ? 1 : r;
}

static inline uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An absolute time ms milliseconds from now on clk. */
static inline struct timespec abs_in(clockid_t clk, long ms)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	} else if (ts.tv_nsec < 0) {	/* a negative ms, e.g. a time already past */
		ts.tv_sec--;
		ts.tv_nsec += 1000000000L;
	}
	return ts;
}

static inline void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Fork a child that runs fn(arg), then _exit()s with what it returned.
 * Returns the pid (or -1).
 */
static inline pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	return pid;
}

/* Exit status of pid, 128+signal if killed, -1 on error. */
static inline int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static inline void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	reap(pid);
}

/*
 * How long a test waits for a peer to reach a point before it fails: long,
 * because on a loaded host a fork or a wakeup can stall for seconds, and a
 * test that passes never waits for it.
 */
#define WAIT_MS 60000

/*
 * Wait until *flag >= val (a flag in shared memory set by a child), at most
 * ms milliseconds. True if reached.
 */
static inline bool wait_flag(volatile int *flag, int val, long ms)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) < val) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			return false;
		msleep(1);
	}
	return true;
}

/* Threads asleep in the kernel on a lock (the lock's waiter count). */
static inline int sleepers(const void *lock)
{
	const struct lock *l = lock;

	return (int)__atomic_load_n(&l->nwaiters, __ATOMIC_SEQ_CST);
}

/* Wait until n threads sleep on lock, at most ms milliseconds. */
static inline bool wait_sleepers(const void *lock, int n, long ms)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;

	while (sleepers(lock) < n) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			return false;
		msleep(1);
	}
	return true;
}

#endif /* LOCK_UTIL_H */
