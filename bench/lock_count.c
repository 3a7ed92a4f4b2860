// SPDX-License-Identifier: GPL-2.0
/*
 * lock_count: what one uncontended lock+unlock pair executes, counted
 * rather than timed (make bench runs it; docs/bench.md).
 *
 *   lock_count run IMPL N     N pairs inside run_pairs_IMPL(), for callgrind:
 *                             valgrind --tool=callgrind --collect-atstart=no
 *                             --toggle-collect=run_pairs_IMPL lock_count run IMPL N
 *   lock_count trace IMPL N   single-step N pairs under ptrace and print
 *                             "IMPL instructions=I locked=L syscalls=S"
 *                             (totals over the traced stretch)
 *
 * IMPL: shmr, pthread_robust, pthread_normal (process-shared mutexes in a
 * MAP_SHARED mapping, as in bench_locks), or none (the loop alone, with
 * two calls of an empty function in place of lock and unlock). Both modes print totals; the
 * caller runs two values of N and divides the differences by the
 * difference of N, so that what runs once (the call into run_pairs, the
 * loop's setup, the ptrace stop) cancels out.
 *
 * trace decodes each executed instruction's prefixes and opcode (x86_64):
 * "locked" counts instructions with a LOCK prefix and XCHG with a memory
 * operand (locked without a prefix); "syscalls" counts SYSCALL
 * instructions executed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmr.h>

enum impl { SHMR, PT_ROBUST, PT_NORMAL, NONE };

struct locks {
	struct shmr_mutex sm;
	pthread_mutex_t pr, pn;
};

static struct locks *L;

static int parse_impl(const char *s)
{
	if (!strcmp(s, "shmr"))
		return SHMR;
	if (!strcmp(s, "pthread_robust"))
		return PT_ROBUST;
	if (!strcmp(s, "pthread_normal"))
		return PT_NORMAL;
	if (!strcmp(s, "none"))
		return NONE;
	return -1;
}

static int init_locks(void)
{
	pthread_mutexattr_t a;

	L = mmap(NULL, sizeof(*L), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (L == MAP_FAILED)
		return -1;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&L->pn, &a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&L->pr, &a);
	pthread_mutexattr_destroy(&a);
	return shmr_mutex_init(&L->sm, 0);
}

/* "none": the loop alone, calling this instead of a lock and an unlock. */
static __attribute__((noinline)) int no_lock(void *m)
{
	__asm__ __volatile__("" : : "r"(m) : "memory");
	return 0;
}

/*
 * The measured loops, one function per implementation so that each loop
 * is the same code around its two calls (callgrind collects inside
 * run_pairs_*).
 */
#define PAIRS(name, lock, unlock, obj)						\
static __attribute__((noinline)) long name(long n)				\
{										\
	long i, bad = 0;							\
										\
	for (i = 0; i < n; i++) {						\
		bad += lock(obj) != 0;						\
		bad += unlock(obj) != 0;					\
	}									\
	return bad;								\
}
PAIRS(run_pairs_shmr, shmr_mutex_lock, shmr_mutex_unlock, &L->sm)
PAIRS(run_pairs_pthread_robust, pthread_mutex_lock, pthread_mutex_unlock, &L->pr)
PAIRS(run_pairs_pthread_normal, pthread_mutex_lock, pthread_mutex_unlock, &L->pn)
PAIRS(run_pairs_none, no_lock, no_lock, &L->sm)

static long run_pairs(int im, long n)
{
	switch (im) {
	case SHMR:
		return run_pairs_shmr(n);
	case PT_ROBUST:
		return run_pairs_pthread_robust(n);
	case PT_NORMAL:
		return run_pairs_pthread_normal(n);
	default:
		return run_pairs_none(n);
	}
}

/* Where the traced stretch ends. */
static __attribute__((noinline)) void trace_end(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#if defined(__x86_64__)
struct insn {
	bool locked, syscall;
};

/* Prefixes and opcode of the instruction at b (enough for the two flags). */
static struct insn decode(const uint8_t *b)
{
	struct insn r = { false, false };
	int i = 0;

	for (;; i++) {
		switch (b[i]) {
		case 0xf0:
			r.locked = true;
			continue;
		case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e:
		case 0x26: case 0x64: case 0x65: case 0x66: case 0x67:
			continue;
		}
		break;
	}
	if ((b[i] & 0xf0) == 0x40)	/* REX */
		i++;
	if ((b[i] == 0x86 || b[i] == 0x87) && (b[i + 1] & 0xc0) != 0xc0)
		r.locked = true;	/* xchg with memory: always locked */
	if (b[i] == 0x0f && b[i + 1] == 0x05)
		r.syscall = true;
	return r;
}

static int trace(int im, long n)
{
	unsigned long insns = 0, locked = 0, syscalls = 0;
	struct user_regs_struct regs;
	uint64_t end = (uint64_t)(uintptr_t)trace_end;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(1);
		run_pairs(im, 2);	/* thread setup, lazy binding */
		raise(SIGSTOP);
		run_pairs(im, n);
		trace_end();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	for (;;) {
		uint8_t buf[16];
		long w;
		int k;

		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			return -1;
		if (waitpid(pid, &status, 0) != pid)
			return -1;
		if (!WIFSTOPPED(status)) {
			fprintf(stderr, "lock_count: the traced child ended early\n");
			return -1;
		}
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
			return -1;
		if (regs.rip == end)
			break;
		for (k = 0; k < 2; k++) {
			errno = 0;
			w = ptrace(PTRACE_PEEKTEXT, pid, (void *)(regs.rip + 8 * k), NULL);
			if (errno)
				return -1;
			memcpy(buf + 8 * k, &w, 8);
		}
		/* counted as executed once the step stops after it: this one
		 * runs on the next step */
		{
			struct insn d = decode(buf);

			insns++;
			locked += d.locked;
			syscalls += d.syscall;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("%s instructions=%lu locked=%lu syscalls=%lu pairs=%ld\n",
	       im == SHMR ? "shmr" : im == PT_ROBUST ? "pthread_robust" :
	       im == PT_NORMAL ? "pthread_normal" : "none", insns, locked, syscalls, n);
	return 0;
}
#else
static int trace(int im, long n)
{
	(void)im;
	(void)n;
	fprintf(stderr, "lock_count: trace decodes x86_64 only\n");
	return -1;
}
#endif

int main(int argc, char **argv)
{
	long n;
	int im;

	if (argc != 4 || (strcmp(argv[1], "run") && strcmp(argv[1], "trace")) ||
	    (im = parse_impl(argv[2])) < 0 || (n = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: %s run|trace shmr|pthread_robust|pthread_normal|none N\n",
			argv[0]);
		return 2;
	}
	if (init_locks()) {
		fprintf(stderr, "lock_count: cannot set up the locks\n");
		return 1;
	}
	if (!strcmp(argv[1], "trace"))
		return trace(im, n) ? 1 : 0;
	run_pairs(im, 2);
	if (run_pairs(im, n)) {
		fprintf(stderr, "lock_count: a lock call failed\n");
		return 1;
	}
	return 0;
}
