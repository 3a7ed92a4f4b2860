// SPDX-License-Identifier: GPL-2.0
/*
 * bench_locks: shmr locks beside glibc's process-shared pthread locks, on
 * the host, in one run, interleaved.
 *
 *   bench_locks [--quick] [--no-pin] [--fifo] [--csv FILE] [--notes FILE]
 *               [--only BENCHMARK-PREFIX]
 *
 * --fifo runs every process SCHED_FIFO (priority 1; needs root or
 * CAP_SYS_NICE), for a host busy with other work: the other processes
 * then no longer decide who runs. It changes the contended runs with more
 * processes than CPUs (processes sharing a CPU take turns only when one
 * sleeps or yields, not at the end of a time slice), so it is not the
 * default and make bench does not use it.
 *
 * mutex_uncontended    lock+unlock in one thread (ns)
 * mutex_contended_Np   N = 2 and 4 processes hammering one lock around a
 *                      counter increment: ops/s (all processes together);
 *   ..._fair           the slowest process's acquisitions over the
 *                      fastest's, in percent (100: equal shares);
 *   ..._p50, ..._p99   acquisition latency: the time each lock call took
 *                      (TSC read before the call and after it returned,
 *                      every acquisition, all processes), ns
 *                      (notes: handovers per 1000 acquisitions, and the
 *                      CPU time each process used, least over most)
 * handoff_p50/p99      time from the holder's unlock to the blocked
 *                      waiter's return from lock, two processes (ns)
 * rwlock_read_mostly   4 processes, 1 write in 20 (ops/s)
 *
 * Implementations: shmr, pthread_normal and pthread_robust (both
 * PTHREAD_PROCESS_SHARED), pthread_rwlock (shared). Every repetition runs
 * each implementation once, in turn; the first repetition is a warm-up and
 * is discarded. Rows: median, p10 and p90 over repetitions (for handoff,
 * of each repetition's p50/p99). The table gives shmr's ratio to each
 * baseline (median / median) and, for contended runs, fairness: the
 * slowest process's share over the fastest's, worst repetition.
 *
 * Fairness of the comparison: every implementation goes through the same
 * inlined do_lock()/do_unlock() switch in the same loop; shmr is linked
 * statically (a direct call) while glibc is called through the PLT (one
 * predicted indirect jump more). Unless --no-pin, the uncontended loop runs
 * pinned to one CPU and process i of a contended or handoff run is pinned
 * to CPU i modulo the CPUs available, so that runs do not differ by where
 * the scheduler happened to put the processes.
 *
 * The machine's speed drifts between runs (shared host: contended numbers
 * moved 2-3x within minutes), so besides the ratio of the medians the
 * ratio shmr/baseline is also taken within each repetition (the runs of one
 * repetition are back to back) and its median printed as a "paired" line
 * (also written to the --notes file, where make bench's summary reads it).
 *
 * Each contended repetition also runs the same loop in one process alone:
 * the ceiling of any lock's throughput (no cache-line transfers, no
 * waiting), printed as a note. A contended run also counts handovers: the
 * acquisitions whose previous holder was another process (a lock that
 * lets its holder take it back at once has few; a note gives them per
 * 1000 acquisitions).
 *
 * The uncontended run also measures the floor of any lock that takes and
 * releases its word with two atomic read-modify-writes (lock cmpxchg +
 * xchg on one word, nothing else), and of one with a single RMW
 * (cmpxchg + plain store), printed below the table (not in the CSV): if
 * the 2-RMW floor exceeds 0.6x glibc's robust mutex, the uncontended
 * target cannot be met by such a lock (docs/locks.md).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmr.h>
#include "bench.h"

enum impl { SHMR, PT_NORMAL, PT_ROBUST, NR_MUTEX_IMPLS };
static const char *const impl_name[] = { "shmr", "pthread_normal", "pthread_robust" };

#define MAXP		4
#define HANDOFFS_MAX	4000

/*
 * Latency histogram in TSC ticks: exact below 32, then 32 buckets per
 * power of two (3% resolution).
 */
#define HSUB		5
#define HBUCKETS	(64 << HSUB)

static inline unsigned int hbucket(uint64_t v)
{
	int msb;

	if (v < (1u << HSUB))
		return (unsigned int)v;
	msb = 63 - __builtin_clzll(v);
	return (unsigned int)((msb - HSUB + 1) << HSUB) |
		(unsigned int)((v >> (msb - HSUB)) & ((1u << HSUB) - 1));
}

/* The lower bound of bucket b. */
static inline uint64_t hvalue(unsigned int b)
{
	unsigned int e = b >> HSUB;

	if (!e)
		return b;
	return (uint64_t)((1u << HSUB) | (b & ((1u << HSUB) - 1))) << (e - 1);
}

struct shared {
	struct shmr_mutex sm;
	pthread_mutex_t pn;
	pthread_mutex_t pr;
	struct shmr_rwlock srw;
	pthread_rwlock_t prw;
	char pad0[64];
	volatile long counter;
	volatile int holder;	/* the process that took the lock last */
	char pad1[64];
	volatile int ready;
	volatile int go;
	volatile int stop;
	char pad2[64];
	long ops[MAXP];
	long handovers[MAXP];
	uint64_t cpu_ns[MAXP];
	uint32_t hist[MAXP][HBUCKETS];
	/* handoff */
	volatile uint64_t t_release;
	volatile int turn;
	uint64_t lat[HANDOFFS_MAX];
};

static struct shared *sh;
static bool quick, nopin;
static double tsc_per_ns = 1.0;
static uint32_t floor_word __attribute__((aligned(64)));
static const char *only;

static bool want(const char *bench)
{
	return !only || !strncmp(bench, only, strlen(only));
}

static inline int do_lock(enum impl im)
{
	switch (im) {
	case SHMR: {
		int r = shmr_mutex_lock(&sh->sm);

		if (r == -EOWNERDEAD)
			r = shmr_mutex_consistent(&sh->sm);
		return r;
	}
	case PT_NORMAL:
		return pthread_mutex_lock(&sh->pn);
	default:
		return pthread_mutex_lock(&sh->pr);
	}
}

static inline void do_unlock(enum impl im)
{
	switch (im) {
	case SHMR:
		shmr_mutex_unlock(&sh->sm);
		break;
	case PT_NORMAL:
		pthread_mutex_unlock(&sh->pn);
		break;
	default:
		pthread_mutex_unlock(&sh->pr);
		break;
	}
}

static void init_locks(void)
{
	pthread_mutexattr_t a;
	pthread_rwlockattr_t ra;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->pn, &a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->pr, &a);
	pthread_mutexattr_destroy(&a);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&sh->prw, &ra);
	shmr_mutex_init(&sh->sm, 0);
	shmr_rwlock_init(&sh->srw, 0);
}

/* ---- results and table ---------------------------------------------------- */

struct row {
	const char *bench, *impl, *unit;
	struct bench_stats st;
	double fairness;	/* <0: not applicable */
};

static struct row rows[64];
static int nrows;
static FILE *csv, *notes;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (notes) {
		va_start(ap, fmt);
		vfprintf(notes, fmt, ap);
		va_end(ap);
		fputc('\n', notes);
		fflush(notes);
	}
}

/* Within-repetition ratios shmr/base (samples still in repetition order). */
static void paired(const char *bench, const char *name,
		   const struct bench_samples *shmr,
		   const struct bench_samples *base, const char *base_name)
{
	struct bench_samples r = { 0 };
	struct bench_stats st;
	size_t k;

	if (!shmr->n || shmr->n != base->n)
		return;
	for (k = 0; k < shmr->n; k++)
		if (base->v[k] > 0)
			bench_samples_add(&r, shmr->v[k] / base->v[k]);
	st = bench_samples_stats(&r);
	note("paired %s %s/%s: median %.2f (p10 %.2f, p90 %.2f) of %zu repetitions",
	     bench, name, base_name, st.median, st.p10, st.p90, st.n);
	bench_samples_free(&r);
}

static void add_row(const char *bench, const char *impl, const char *unit,
		    struct bench_samples *s, double fairness)
{
	struct row *r = &rows[nrows++];

	r->bench = bench;
	r->impl = impl;
	r->unit = unit;
	r->st = bench_samples_stats(s);
	r->fairness = fairness;
	bench_report(bench, impl, unit, &r->st);
	bench_csv_row(csv, bench, impl, unit, &r->st);
}

static const struct row *find_row(const char *bench, const char *impl)
{
	int i;

	for (i = 0; i < nrows; i++)
		if (!strcmp(rows[i].bench, bench) && !strcmp(rows[i].impl, impl))
			return &rows[i];
	return NULL;
}

static void print_table(void)
{
	int i;

	printf("%-24s %-15s %-6s %12s %12s %12s %12s %9s\n", "benchmark", "impl",
	       "unit", "median", "p10", "p90", "shmr/this", "fairness");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i], *s = find_row(r->bench, "shmr");
		char ratio[32] = "-", fair[32] = "-";

		if (s && r != s && r->st.median > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx",
				 s->st.median / r->st.median);
		if (r->fairness >= 0)
			snprintf(fair, sizeof(fair), "%.2f", r->fairness);
		printf("%-24s %-15s %-6s %12.1f %12.1f %12.1f %12s %9s\n",
		       r->bench, r->impl, r->unit, r->st.median, r->st.p10,
		       r->st.p90, ratio, fair);
	}
	printf("(ratio: shmr median / baseline median; for ns lower is better,"
	       " for ops/s higher is better)\n");
}

/* ---- processes -------------------------------------------------------------- */

typedef void (*child_fn)(int idx, int arg);

/* Pin the caller to the idx-th CPU it may run on (modulo their number). */
/*
 * The CPUs this program may use, read once at startup: the parent pins
 * itself for the uncontended loop, and a child reading its inherited
 * affinity would see that one CPU (which put every contending process on
 * CPU 0 until 2026-12-02: the contended rows measured processes taking
 * turns on one CPU, not contending).
 */
static cpu_set_t all_cpus;
static bool all_cpus_known;

static void pin(int idx)
{
	cpu_set_t set, one;
	int cpu, n, k = 0;

	if (nopin || !all_cpus_known)
		return;
	set = all_cpus;
	n = CPU_COUNT(&set);
	if (n < 1)
		return;
	idx %= n;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (k++ == idx) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

static void run_children(int n, child_fn fn, int arg, long ms)
{
	pid_t pid[MAXP];
	int i;

	sh->ready = 0;
	sh->go = 0;
	sh->stop = 0;
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			pin(i);
			__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
			while (!sh->go)
				sched_yield();
			fn(i, arg);
			_exit(0);
		}
	}
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < n)
		usleep(100);
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	if (ms > 0) {
		usleep((useconds_t)ms * 1000);
		__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	}
	for (i = 0; i < n; i++)
		waitpid(pid[i], NULL, 0);
}

/* ---- mutex_uncontended -------------------------------------------------------- */

static double uncontended(enum impl im, long n)
{
	uint64_t t0 = bench_now_ns();
	long i;

	for (i = 0; i < n; i++) {
		do_lock(im);
		do_unlock(im);
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

/* The floors: two atomic RMWs on one word, and one RMW plus a store. */
static double floor_rmw(bool two, long n)
{
	uint32_t tid = (uint32_t)getpid(), e;
	uint64_t t0 = bench_now_ns();
	long i;

	for (i = 0; i < n; i++) {
		e = 0;
		__atomic_compare_exchange_n(&floor_word, &e, tid, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		if (two)
			__atomic_exchange_n(&floor_word, 0, __ATOMIC_SEQ_CST);
		else
			__atomic_store_n(&floor_word, 0, __ATOMIC_RELEASE);
		__asm__ __volatile__("" ::: "memory");
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

/* ---- contended ---------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ticks(void)
{
	return __rdtsc();
}
#else
static inline uint64_t ticks(void)
{
	return bench_now_ns();
}
#endif

/* TSC ticks per ns, against CLOCK_MONOTONIC over 50 ms. */
static void ticks_calibrate(void)
{
	uint64_t t0 = bench_now_ns(), c0 = ticks(), t1, c1;

	usleep(50000);
	t1 = bench_now_ns();
	c1 = ticks();
	if (t1 > t0 && c1 > c0)
		tsc_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
}

static uint32_t my_hist[HBUCKETS];

/*
 * One contending process: lock, count a handover if another process held
 * the lock last, increment, unlock; the time of each lock call goes into
 * this process's histogram (private memory, copied out at the end).
 */
static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void contend(int idx, int im)
{
	long n = 0, handovers = 0;
	uint64_t t0, t1, c0 = cpu_now_ns();

	memset(my_hist, 0, sizeof(my_hist));
	while (!sh->stop) {
		t0 = ticks();
		do_lock(im);
		t1 = ticks();
		if (sh->holder != idx) {
			sh->holder = idx;
			handovers++;
		}
		sh->counter++;
		do_unlock(im);
		my_hist[hbucket(t1 - t0)]++;
		n++;
	}
	sh->ops[idx] = n;
	sh->handovers[idx] = handovers;
	sh->cpu_ns[idx] = cpu_now_ns() - c0;
	memcpy(sh->hist[idx], my_hist, sizeof(my_hist));
}

struct cres {
	double ops;		/* ops/s, all processes */
	double fair;		/* slowest / fastest process, percent */
	double p50, p99;	/* acquisition latency, ns */
	double handovers;	/* per 1000 acquisitions */
	double cpu_fair;	/* CPU time, least over most, percent */
};

/* Percentile p of the merged histograms of nproc processes, in ns. */
static double hist_pct(int nproc, double p)
{
	uint64_t total = 0, want, seen = 0;
	unsigned int b;
	int i;

	for (i = 0; i < nproc; i++)
		for (b = 0; b < HBUCKETS; b++)
			total += sh->hist[i][b];
	if (!total)
		return 0;
	want = (uint64_t)((double)total * p / 100.0);
	for (b = 0; b < HBUCKETS; b++) {
		for (i = 0; i < nproc; i++)
			seen += sh->hist[i][b];
		if (seen > want)
			return (double)hvalue(b) / tsc_per_ns;
	}
	return (double)hvalue(HBUCKETS - 1) / tsc_per_ns;
}

static struct cres contended(enum impl im, int nproc, long ms)
{
	long total = 0, mn = -1, mx = 0, ho = 0;
	uint64_t cmn = UINT64_MAX, cmx = 0;
	struct cres r;
	int i;

	sh->counter = 0;
	sh->holder = -1;
	run_children(nproc, contend, im, ms);
	for (i = 0; i < nproc; i++) {
		total += sh->ops[i];
		ho += sh->handovers[i];
		if (mn < 0 || sh->ops[i] < mn)
			mn = sh->ops[i];
		if (sh->ops[i] > mx)
			mx = sh->ops[i];
		if (sh->cpu_ns[i] < cmn)
			cmn = sh->cpu_ns[i];
		if (sh->cpu_ns[i] > cmx)
			cmx = sh->cpu_ns[i];
	}
	if (total != sh->counter) {
		fprintf(stderr, "bench_locks: %s lost updates (%ld != %ld)\n",
			impl_name[im], total, sh->counter);
		exit(1);
	}
	r.ops = (double)total * 1000.0 / (double)ms;
	r.fair = mx ? 100.0 * (double)mn / (double)mx : 0;
	r.p50 = hist_pct(nproc, 50);
	r.p99 = hist_pct(nproc, 99);
	r.handovers = total ? 1000.0 * (double)ho / (double)total : 0;
	r.cpu_fair = cmx ? 100.0 * (double)cmn / (double)cmx : 0;
	return r;
}

/* ---- handoff ------------------------------------------------------------------- */

static inline void spin_ns(uint64_t ns)
{
	uint64_t end = bench_now_ns() + ns;

	while (bench_now_ns() < end)
		;
}

/*
 * Two processes pass the lock back and forth. On turn i the holder (i % 2)
 * lets the other block in lock for a while (0-40 us, varying), stamps the
 * time and unlocks; the waiter stamps its return from lock and becomes the
 * holder of turn i + 1.
 */
static void handoff_child(int idx, int arg)
{
	enum impl im = (enum impl)(arg & 0xff);
	int n = arg >> 8, i;

	if (idx == 0) {
		do_lock(im);
		__atomic_store_n(&sh->turn, 0, __ATOMIC_SEQ_CST);
	}
	for (i = 0; i < n; i++) {
		if (i % 2 == idx) {
			/* holder: wait until the other has announced itself */
			while (sh->turn != 2 * i + 1)
				sched_yield();
			spin_ns(2000 + (uint64_t)((i * 7919) % 40) * 1000);
			sh->t_release = bench_now_ns();
			do_unlock(im);
		} else {
			while (sh->turn != 2 * i)
				sched_yield();
			__atomic_store_n(&sh->turn, 2 * i + 1, __ATOMIC_SEQ_CST);
			do_lock(im);
			sh->lat[i] = bench_now_ns() - sh->t_release;
			__atomic_store_n(&sh->turn, 2 * i + 2, __ATOMIC_SEQ_CST);
		}
	}
	if (n % 2 == idx)
		do_unlock(im);
}

static void handoff(enum impl im, int n, double *p50, double *p99)
{
	struct bench_samples s = { 0 };
	int i;

	sh->turn = -1;
	run_children(2, handoff_child, (int)im | (n << 8), 0);
	for (i = 0; i < n; i++)
		bench_samples_add(&s, (double)sh->lat[i]);
	qsort(s.v, s.n, sizeof(double), bench__cmp_double);
	*p50 = bench__pct_sorted(s.v, s.n, 50);
	*p99 = bench__pct_sorted(s.v, s.n, 99);
	bench_samples_free(&s);
}

/* ---- rwlock ---------------------------------------------------------------------- */

static void rw_child(int idx, int use_shmr)
{
	unsigned int seed = (unsigned int)idx * 7 + 1;
	long n = 0;
	volatile long sink = 0;

	while (!sh->stop) {
		bool w = rand_r(&seed) % 20 == 0;

		if (use_shmr) {
			if (w)
				shmr_rwlock_wrlock(&sh->srw);
			else
				shmr_rwlock_rdlock(&sh->srw);
		} else if (w) {
			pthread_rwlock_wrlock(&sh->prw);
		} else {
			pthread_rwlock_rdlock(&sh->prw);
		}
		if (w)
			sh->counter++;
		else
			sink += sh->counter;
		if (use_shmr)
			shmr_rwlock_unlock(&sh->srw);
		else
			pthread_rwlock_unlock(&sh->prw);
		n++;
	}
	sh->ops[idx] = n;
}

static double rw_read_mostly(bool use_shmr, long ms, double *fair)
{
	long total = 0, mn = -1, mx = 0;
	int i;

	run_children(4, rw_child, use_shmr, ms);
	for (i = 0; i < 4; i++) {
		total += sh->ops[i];
		if (mn < 0 || sh->ops[i] < mn)
			mn = sh->ops[i];
		if (sh->ops[i] > mx)
			mx = sh->ops[i];
	}
	*fair = mx ? (double)mn / (double)mx : 0;
	return (double)total * 1000.0 / (double)ms;
}

/* ---- main ------------------------------------------------------------------------- */

static double worst(double a, double b)
{
	return a < b ? a : b;
}

/* Contended samples of one implementation at one process count. */
struct csamples {
	struct bench_samples ops, fair, p50, p99, ho, cpu;
};

static const int cnp[2] = { 2, 4 };
static const char *const cname[2][4] = {
	{ "mutex_contended_2p", "mutex_contended_2p_fair", "mutex_contended_2p_p50",
	  "mutex_contended_2p_p99" },
	{ "mutex_contended_4p", "mutex_contended_4p_fair", "mutex_contended_4p_p50",
	  "mutex_contended_4p_p99" },
};

static double median_of(struct bench_samples *s)
{
	struct bench_samples c = { 0 };
	struct bench_stats st;
	size_t k;

	for (k = 0; k < s->n; k++)
		bench_samples_add(&c, s->v[k]);
	st = bench_samples_stats(&c);
	bench_samples_free(&c);
	return st.median;
}

int main(int argc, char **argv)
{
	struct bench_samples un[NR_MUTEX_IMPLS] = { 0 }, h50[NR_MUTEX_IMPLS] = { 0 };
	struct bench_samples h99[NR_MUTEX_IMPLS] = { 0 }, rw[2] = { 0 };
	struct bench_samples fl[2] = { 0 }, c1[NR_MUTEX_IMPLS] = { 0 };
	struct csamples cs[2][NR_MUTEX_IMPLS];
	double frw[2], f, p50, p99, v;
	const char *csv_path = NULL;
	int reps, reps_un, im, rep, i, k, handoffs;
	struct cres cr;
	long n_un, ms;

	memset(cs, 0, sizeof(cs));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--no-pin")) {
			nopin = true;
		} else if (!strcmp(argv[i], "--fifo")) {
			struct sched_param sp = { .sched_priority = 1 };

			if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
				perror("bench_locks: --fifo: sched_setscheduler");
				return 1;
			}
		} else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv_path = argv[++i];
		} else if (!strcmp(argv[i], "--notes") && i + 1 < argc) {
			notes = fopen(argv[++i], "a");
			if (!notes) {
				perror(argv[i]);
				return 1;
			}
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--quick] [--no-pin] [--fifo] [--csv FILE] [--notes FILE] [--only BENCH]\n",
				argv[0]);
			return 2;
		}
	}
	all_cpus_known = !sched_getaffinity(0, sizeof(all_cpus), &all_cpus);
	if (csv_path) {
		csv = bench_csv_open(csv_path);
		if (!csv)
			return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	init_locks();
	ticks_calibrate();
	reps = quick ? 3 : 11;
	reps_un = quick ? 51 : 501;
	n_un = 20000;
	ms = quick ? 40 : 200;
	handoffs = quick ? 400 : 2000;
	frw[0] = frw[1] = 1.0;

	fprintf(stderr, "bench_locks: uncontended %d repetitions of %ld pairs, the others %d repetitions (each +1 warm-up), %ld ms per contended run, %.3f TSC ticks/ns\n",
		reps_un, n_un, reps, ms, tsc_per_ns);
	/*
	 * Uncontended: many short repetitions (each implementation and the
	 * floors once per repetition, in turn), so that a preemption or
	 * another guest's burst spoils a few paired samples, not the median.
	 */
	for (rep = 0; rep <= reps_un && want("mutex_uncontended"); rep++) {
		pin(0);
		for (im = 0; im < NR_MUTEX_IMPLS; im++) {
			v = uncontended(im, n_un);
			if (rep)
				bench_samples_add(&un[im], v);
		}
		for (i = 0; i < 2; i++) {
			v = floor_rmw(i == 0, n_un);
			if (rep)
				bench_samples_add(&fl[i], v);
		}
	}
	for (rep = 0; rep <= reps; rep++) {
		/* the ceiling: the same loop in one process, nobody to contend */
		for (im = 0; im < NR_MUTEX_IMPLS && want("mutex_contended"); im++) {
			cr = contended(im, 1, ms / 2);
			if (rep)
				bench_samples_add(&c1[im], cr.ops);
		}
		for (k = 0; k < 2; k++) {
			if (!want(cname[k][0]))
				continue;
			for (im = 0; im < NR_MUTEX_IMPLS; im++) {
				cr = contended(im, cnp[k], ms);
				if (!rep)
					continue;
				bench_samples_add(&cs[k][im].ops, cr.ops);
				bench_samples_add(&cs[k][im].fair, cr.fair);
				bench_samples_add(&cs[k][im].p50, cr.p50);
				bench_samples_add(&cs[k][im].p99, cr.p99);
				bench_samples_add(&cs[k][im].ho, cr.handovers);
				bench_samples_add(&cs[k][im].cpu, cr.cpu_fair);
			}
		}
		for (im = 0; im < NR_MUTEX_IMPLS && want("handoff"); im++) {
			handoff(im, handoffs, &p50, &p99);
			if (rep) {
				bench_samples_add(&h50[im], p50);
				bench_samples_add(&h99[im], p99);
			}
		}
		for (i = 0; i < 2 && want("rwlock_read_mostly"); i++) {
			v = rw_read_mostly(i == 0, ms, &f);
			if (rep) {
				bench_samples_add(&rw[i], v);
				frw[i] = worst(frw[i], f);
			}
		}
	}
	/* paired ratios first: add_row() sorts the samples */
	for (im = 1; im < NR_MUTEX_IMPLS; im++) {
		if (want("mutex_uncontended"))
			paired("mutex_uncontended", "shmr", &un[SHMR], &un[im], impl_name[im]);
		for (k = 0; k < 2; k++) {
			if (!want(cname[k][0]))
				continue;
			paired(cname[k][0], "shmr", &cs[k][SHMR].ops, &cs[k][im].ops, impl_name[im]);
			paired(cname[k][2], "shmr", &cs[k][SHMR].p50, &cs[k][im].p50, impl_name[im]);
			paired(cname[k][3], "shmr", &cs[k][SHMR].p99, &cs[k][im].p99, impl_name[im]);
		}
		if (want("handoff")) {
			paired("handoff_p50", "shmr", &h50[SHMR], &h50[im], impl_name[im]);
			paired("handoff_p99", "shmr", &h99[SHMR], &h99[im], impl_name[im]);
		}
	}
	if (want("rwlock_read_mostly"))
		paired("rwlock_read_mostly", "shmr", &rw[0], &rw[1], "pthread_rwlock");
	if (want("mutex_uncontended")) {
		paired("mutex_uncontended", "floor_2rmw", &fl[0], &un[PT_ROBUST],
		       "pthread_robust");
		paired("mutex_uncontended", "floor_1rmw", &fl[1], &un[PT_ROBUST],
		       "pthread_robust");
	}
	for (im = 0; im < NR_MUTEX_IMPLS && want("mutex_uncontended"); im++)
		add_row("mutex_uncontended", impl_name[im], "ns", &un[im], -1);
	for (k = 0; k < 2; k++) {
		if (!want(cname[k][0]))
			continue;
		for (im = 0; im < NR_MUTEX_IMPLS; im++)
			add_row(cname[k][0], impl_name[im], "ops/s", &cs[k][im].ops,
				median_of(&cs[k][im].fair) / 100.0);
		for (im = 0; im < NR_MUTEX_IMPLS; im++)
			add_row(cname[k][1], impl_name[im], "%", &cs[k][im].fair, -1);
		for (im = 0; im < NR_MUTEX_IMPLS; im++)
			add_row(cname[k][2], impl_name[im], "ns", &cs[k][im].p50, -1);
		for (im = 0; im < NR_MUTEX_IMPLS; im++)
			add_row(cname[k][3], impl_name[im], "ns", &cs[k][im].p99, -1);
	}
	for (im = 0; im < NR_MUTEX_IMPLS && want("handoff"); im++)
		add_row("handoff_p50", impl_name[im], "ns", &h50[im], -1);
	for (im = 0; im < NR_MUTEX_IMPLS && want("handoff"); im++)
		add_row("handoff_p99", impl_name[im], "ns", &h99[im], -1);
	if (want("rwlock_read_mostly")) {
		add_row("rwlock_read_mostly", "shmr", "ops/s", &rw[0], frw[0]);
		add_row("rwlock_read_mostly", "pthread_rwlock", "ops/s", &rw[1], frw[1]);
	}
	print_table();
	if (want("mutex_contended")) {
		struct bench_stats one[NR_MUTEX_IMPLS];

		for (im = 0; im < NR_MUTEX_IMPLS; im++)
			one[im] = bench_samples_stats(&c1[im]);
		note("ceiling: the contended loop in 1 process: shmr %.0f ops/s, "
		     "pthread_normal %.0f ops/s, pthread_robust %.0f ops/s",
		     one[SHMR].median, one[PT_NORMAL].median, one[PT_ROBUST].median);
		for (k = 0; k < 2; k++) {
			if (!want(cname[k][0]))
				continue;
			note("handovers (the previous holder was another process) per 1000 "
			     "acquisitions, %dp, median: shmr %.1f, pthread_normal %.1f, "
			     "pthread_robust %.1f", cnp[k],
			     median_of(&cs[k][SHMR].ho), median_of(&cs[k][PT_NORMAL].ho),
			     median_of(&cs[k][PT_ROBUST].ho));
			note("CPU time the processes used (spinning included, sleeping not), "
			     "least over most (%%), %dp, median: shmr %.1f, pthread_normal %.1f, "
			     "pthread_robust %.1f", cnp[k],
			     median_of(&cs[k][SHMR].cpu), median_of(&cs[k][PT_NORMAL].cpu),
			     median_of(&cs[k][PT_ROBUST].cpu));
		}
	}
	if (want("mutex_uncontended")) {
		struct bench_stats f2 = bench_samples_stats(&fl[0]);
		struct bench_stats f1 = bench_samples_stats(&fl[1]);
		const struct row *rb = find_row("mutex_uncontended", "pthread_robust");

		note("floor: lock cmpxchg + xchg %.1f ns (p10 %.1f, p90 %.1f) = %.2fx pthread_robust, "
		     "lock cmpxchg + store %.1f ns (p10 %.1f, p90 %.1f) = %.2fx",
		     f2.median, f2.p10, f2.p90,
		     rb && rb->st.median > 0 ? f2.median / rb->st.median : 0,
		     f1.median, f1.p10, f1.p90,
		     rb && rb->st.median > 0 ? f1.median / rb->st.median : 0);
	}
	bench_csv_close(csv);
	if (notes)
		fclose(notes);
	return 0;
}
