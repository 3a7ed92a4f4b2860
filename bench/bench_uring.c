// SPDX-License-Identifier: GPL-2.0
/*
 * bench_uring: batched region control (shmr_batch_*) against the same
 * operations called one by one, ops/s, and per command the ceiling that
 * batching allows. Needs /dev/shmr (run in the VM).
 *
 *   uring_<cmd>_b<N>   impl shmr: N operations queued and run with one
 *                      shmr_batch_submit(); impl ioctl: the same N as a
 *                      loop of the library's calls (shmr_region_*())
 *     create   create + close of an anonymous one-page region (N = 1, 8, 32, 128)
 *     stat     stat of an open region (N = 1, 8, 32, 128)
 *     open     open + close of an existing named region (N = 32)
 *     stat_id  stat by id (N = 32)
 *     events   fetch a region's events (N = 32)
 *   uring_<cmd>_ceiling  (unit x) 1 + syscall / handler: syscall = the
 *                      system calls per operation the loop makes beyond the
 *                      batch's (counted with the raw_syscalls:sys_enter
 *                      tracepoint) times an empty system call's cost
 *                      (getppid), handler = the loop's time per operation
 *                      minus that: what batch 32 would reach if a batched
 *                      operation cost nothing but its handler
 *
 * Every round runs one block of every (command, N, impl) in a rotating
 * order, so that drift and other work on the machine hit all of them
 * alike; the first rounds are warm-up. Each round also uses another batch
 * object and moves the stack (see vary()). Paired ratios (batch over loop
 * within each round) and the ceiling's inputs go to the notes.
 *
 * usage: bench_uring [--quick] [--csv FILE] [--notes FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <linux/shmr.h>
#include <liburing.h>

#include "shmr.h"
#include "bench.h"

#define MAXB	128
#define NPOOL	8	/* batch objects, one per round in turn */
#define NREG	MAXB	/* open regions for stat and events */

enum { C_CREATE, C_OPEN, C_STAT, C_STAT_ID, C_EVENTS, NCMD };
static const char *const cmd_name[NCMD] = { "create", "open", "stat", "stat_id", "events" };

struct cfg {
	int cmd;
	unsigned int n;
	struct bench_samples batch, loop, paired;
};

static struct cfg cfgs[] = {
	{ .cmd = C_CREATE, .n = 1 }, { .cmd = C_CREATE, .n = 8 },
	{ .cmd = C_CREATE, .n = 32 }, { .cmd = C_CREATE, .n = 128 },
	{ .cmd = C_STAT, .n = 1 }, { .cmd = C_STAT, .n = 8 },
	{ .cmd = C_STAT, .n = 32 }, { .cmd = C_STAT, .n = 128 },
	{ .cmd = C_OPEN, .n = 32 }, { .cmd = C_STAT_ID, .n = 32 }, { .cmd = C_EVENTS, .n = 32 },
};
#define NCFG (sizeof(cfgs) / sizeof(cfgs[0]))

static int reps = 61, warm = 3;
static unsigned int ops_cheap = 256, ops_costly = 128;	/* per block */
static FILE *csv, *notes_file;

static struct shmr_batch *pool[NPOOL];
static struct shmr_region_stat *pool_st[NPOOL];
static struct shmr_region *regs[NREG];
static uint64_t ids[NREG];
static char open_name[64];
static struct io_uring nop_ring;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_uring: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bench_vnote(notes_file, fmt, ap);
	va_end(ap);
}

static unsigned int block_ops(const struct cfg *c)
{
	unsigned int ops = c->cmd == C_CREATE || c->cmd == C_OPEN ? ops_costly : ops_cheap;

	return ops < c->n ? c->n : ops;
}

/* ---- one block: ns per operation ----------------------------------------- */

static void queue(struct shmr_batch *b, int cmd, unsigned int i, struct shmr_region **out,
		  struct shmr_region_stat *st, uint32_t *ev)
{
	switch (cmd) {
	case C_CREATE:
		shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096), out);
		break;
	case C_OPEN:
		shmr_batch_open(b, open_name, 0, out);
		break;
	case C_STAT:
		shmr_batch_stat(b, regs[i], st);
		break;
	case C_STAT_ID:
		shmr_batch_stat_id(b, ids[i], st);
		break;
	case C_EVENTS:
		shmr_batch_events(b, regs[i], ev);
		break;
	}
}

static double run_batch(const struct cfg *c, int slot)
{
	struct shmr_region_stat *st = pool_st[slot];
	struct shmr_batch *b = pool[slot];
	struct shmr_region *r[MAXB];
	unsigned int ops = block_ops(c), done, i;
	uint32_t ev[MAXB];
	uint64_t t0 = bench_now_ns();
	int ret;

	for (done = 0; done < ops; done += c->n) {
		for (i = 0; i < c->n; i++)
			queue(b, c->cmd, i, &r[i], &st[i], &ev[i]);
		ret = shmr_batch_submit(b);
		if (ret != (int)c->n)
			die("submit", ret < 0 ? ret : -EIO);
		for (i = 0; i < c->n; i++) {
			ret = shmr_batch_result(b, i);
			if (ret)
				die(cmd_name[c->cmd], ret);
			if (c->cmd == C_CREATE || c->cmd == C_OPEN)
				shmr_region_close(r[i]);
		}
	}
	return (double)(bench_now_ns() - t0) / done;
}

static double run_loop(const struct cfg *c)
{
	unsigned int ops = block_ops(c), done, i;
	struct shmr_region_stat st;
	struct shmr_region *r[MAXB];
	uint64_t t0 = bench_now_ns();
	uint32_t ev;
	int ret = 0;

	for (done = 0; done < ops; done += c->n) {
		for (i = 0; i < c->n && !ret; i++) {
			switch (c->cmd) {
			case C_CREATE:
				ret = shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r[i]);
				break;
			case C_OPEN:
				ret = shmr_region_open(open_name, 0, &r[i]);
				break;
			case C_STAT:
				ret = shmr_region_stat(regs[i], &st);
				break;
			case C_STAT_ID:
				ret = shmr_region_stat_id(ids[i], &st);
				break;
			case C_EVENTS:
				ret = shmr_region_events(regs[i], &ev);
				break;
			}
		}
		if (ret)
			die(cmd_name[c->cmd], ret);
		if (c->cmd == C_CREATE || c->cmd == C_OPEN)
			for (i = 0; i < c->n; i++)
				shmr_region_close(r[i]);
	}
	return (double)(bench_now_ns() - t0) / done;
}

/* ---- probes: an empty system call, an empty ioctl, an io_uring NOP ------- */

static double probe_syscall(void)
{
	uint64_t t0 = bench_now_ns();
	int i;

	for (i = 0; i < 256; i++)
		syscall(SYS_getppid);
	return (double)(bench_now_ns() - t0) / 256;
}

/* An unknown command number on a region fd: the ioctl path with no handler. */
static double probe_ioctl(void)
{
	int fd = shmr_region_fd(regs[0]), i;
	uint64_t t0 = bench_now_ns(), x = 0;

	for (i = 0; i < 256; i++)
		if (ioctl(fd, _IOWR(SHMR_IOC_MAGIC, 0x7f, uint64_t), &x) == 0)
			die("unknown command", -EINVAL);
	return (double)(bench_now_ns() - t0) / 256;
}

/* io_uring's own cost per request: 32 NOPs per submit. */
static double probe_nop(void)
{
	struct io_uring_cqe *cqe;
	uint64_t t0 = bench_now_ns();
	int k, i;

	for (k = 0; k < 8; k++) {
		for (i = 0; i < 32; i++)
			io_uring_prep_nop(io_uring_get_sqe(&nop_ring));
		if (io_uring_submit_and_wait(&nop_ring, 32) != 32)
			die("nop submit", -EIO);
		for (i = 0; i < 32; i++) {
			if (io_uring_peek_cqe(&nop_ring, &cqe))
				die("nop cqe", -EIO);
			io_uring_cqe_seen(&nop_ring, cqe);
		}
	}
	return (double)(bench_now_ns() - t0) / 256;
}

/* ---- system calls per operation ------------------------------------------- */

/*
 * A counter of this thread's system calls (the raw_syscalls:sys_enter
 * tracepoint), or -1: tracefs must be mounted for its id (run-bench.sh
 * does it in the guest).
 */
static int sc_counter(void)
{
	static const char *const ids_at[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	struct perf_event_attr a;
	unsigned long long id = 0;
	size_t k;
	FILE *f;

	for (k = 0; k < sizeof(ids_at) / sizeof(ids_at[0]); k++) {
		f = fopen(ids_at[k], "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &id) != 1)
			id = 0;
		fclose(f);
		if (id)
			break;
	}
	if (!id)
		return -1;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = id;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static long long sc_read(int fd)
{
	long long v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : -1;
}

/* System calls per operation of one block of c, batch or loop. */
static double sc_per_op(int fd, const struct cfg *c, bool batch)
{
	long long base, v0, v1;

	/* reading the counter is a system call itself: measured, subtracted */
	v0 = sc_read(fd);
	base = sc_read(fd) - v0;
	v0 = sc_read(fd);
	if (batch)
		run_batch(c, 0);
	else
		run_loop(c);
	v1 = sc_read(fd);
	return (double)(v1 - v0 - base) / block_ops(c);
}

/* ---- the run ---------------------------------------------------------------- */

/*
 * Under QEMU's TCG a user page whose TLB slot is the kernel stack's makes
 * every copy to or from it several times slower for the process's life
 * (docs/bench.md, "TCG"). Each round moves the stack by another number of
 * pages and uses another batch object (its operations' structs elsewhere in
 * the heap), so that such a conflict slows a few rounds, not a whole run.
 */
static void round_body(int r, double *probe, double (*t)[2]);

static void vary(int r, double *probe, double (*t)[2])
{
	char shift[4096 * (r % 17) + 1];

	__asm__ volatile("" : : "r"(shift) : "memory");
	round_body(r, probe, t);
}

static void round_body(int r, double *probe, double (*t)[2])
{
	unsigned int k, idx;

	for (k = 0; k < 2 * NCFG; k++) {
		idx = (k + (unsigned int)r) % (2 * NCFG);
		if (idx & 1)
			t[idx / 2][1] = run_loop(&cfgs[idx / 2]);
		else
			t[idx / 2][0] = run_batch(&cfgs[idx / 2], r % NPOOL);
	}
	probe[0] = probe_syscall();
	probe[1] = probe_ioctl();
	probe[2] = probe_nop();
}

static struct bench_stats stats_of(struct bench_samples *s)
{
	struct bench_samples copy = { 0 };
	struct bench_stats st;
	size_t i;

	for (i = 0; i < s->n; i++)
		bench_samples_add(&copy, s->v[i]);
	st = bench_samples_stats(&copy);
	bench_samples_free(&copy);
	return st;
}

static void row(const char *bench, const char *impl, const char *unit, struct bench_samples *s)
{
	struct bench_stats st = stats_of(s);

	bench_csv_row(csv, bench, impl, unit, &st);
	bench_report(bench, impl, unit, &st);
}

static void setup(void)
{
	struct shmr_region_stat st;
	struct shmr_region *r;
	char name[64];
	unsigned int i;
	int ret;

	for (i = 0; i < NPOOL; i++) {
		ret = shmr_batch_new(MAXB, 0, &pool[i]);
		if (ret)
			die("shmr_batch_new", ret);
		if (shmr_batch_transport(pool[i]) != SHMR_BATCH_RING) {
			fprintf(stderr, "bench_uring: io_uring uring_cmd unavailable\n");
			exit(1);
		}
		/* a different size each: the arrays land apart in the heap */
		pool_st[i] = calloc(MAXB + 5 * i, sizeof(*pool_st[i]));
		if (!pool_st[i])
			die("calloc", -ENOMEM);
	}
	for (i = 0; i < NREG; i++) {
		snprintf(name, sizeof(name), "bench-uring-%d-%u", getpid(), i);
		ret = shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &regs[i]);
		if (ret)
			die("create", ret);
		shmr_region_unlink(name);
		ret = shmr_region_stat(regs[i], &st);
		if (ret)
			die("stat", ret);
		ids[i] = st.id;
	}
	snprintf(open_name, sizeof(open_name), "bench-uring-%d-open", getpid());
	ret = shmr_region_create(&SHMR_REGION_OPTS(.name = open_name, .size = 4096), &r);
	if (ret)
		die("create", ret);
	shmr_region_close(r);
	ret = io_uring_queue_init(64, &nop_ring, 0);
	if (ret)
		die("io_uring_queue_init", ret);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "csv", required_argument, NULL, 'c' },
		{ "notes", required_argument, NULL, 'n' },
		{ 0 }
	};
	struct bench_samples probes[3] = { { 0 } }, ceil[NCMD] = { { 0 } };
	const char *csv_path = "-", *notes_path = NULL;
	double dn[NCMD], t[NCFG][2], probe[3];
	struct bench_stats ps[3];
	unsigned int k, i;
	char bench[48];
	int r, c, sc;

	while ((c = getopt_long(argc, argv, "qc:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			reps = 7;
			warm = 1;
			ops_cheap = 128;
			ops_costly = 32;
			break;
		case 'c':
			csv_path = optarg;
			break;
		case 'n':
			notes_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [--quick] [--csv FILE] [--notes FILE]\n", argv[0]);
			return 2;
		}
	}
	setenv("SHMR_LEAK", "off", 0);
	if (shmr_backend() != SHMR_BACKEND_KERNEL) {
		fprintf(stderr, "bench_uring: needs /dev/shmr (the kernel backend)\n");
		return 1;
	}
	if (notes_path) {
		notes_file = fopen(notes_path, "a");
		if (!notes_file) {
			fprintf(stderr, "bench_uring: %s: %s\n", notes_path, strerror(errno));
			return 2;
		}
	}
	csv = bench_csv_open(csv_path);
	if (!csv)
		return 1;
	setup();

	/* system calls per operation, loop minus batch, at batch 32 */
	sc = sc_counter();
	for (c = 0; c < NCMD; c++)
		dn[c] = -1;
	for (k = 0; k < NCFG && sc >= 0; k++) {
		double nl, nb;

		if (cfgs[k].n != 32)
			continue;
		nl = sc_per_op(sc, &cfgs[k], false);
		nb = sc_per_op(sc, &cfgs[k], true);
		dn[cfgs[k].cmd] = nl - nb;
		note("uring %s: system calls per operation: loop %.2f, batch of 32 %.2f",
		     cmd_name[cfgs[k].cmd], nl, nb);
	}
	if (sc < 0)
		note("uring: no raw_syscalls:sys_enter counter (tracefs not mounted?): no ceiling rows");
	else
		close(sc);

	for (r = 0; r < warm + reps; r++) {
		vary(r, probe, t);
		if (r < warm)
			continue;
		for (k = 0; k < NCFG; k++) {
			bench_samples_add(&cfgs[k].batch, 1e9 / t[k][0]);
			bench_samples_add(&cfgs[k].loop, 1e9 / t[k][1]);
			bench_samples_add(&cfgs[k].paired, t[k][1] / t[k][0]);
			/* the ceiling, from this round's loop and empty system call */
			c = cfgs[k].cmd;
			if (cfgs[k].n == 32 && dn[c] > 0 && t[k][1] > dn[c] * probe[0])
				bench_samples_add(&ceil[c], t[k][1] / (t[k][1] - dn[c] * probe[0]));
		}
		for (i = 0; i < 3; i++)
			bench_samples_add(&probes[i], probe[i]);
	}

	for (i = 0; i < 3; i++)
		ps[i] = stats_of(&probes[i]);
	note("uring: per round, medians: an empty system call (getppid) %.0f ns, an empty ioctl "
	     "(unknown command on a region fd) %.0f ns, an io_uring NOP at batch 32 %.0f ns per request",
	     ps[0].median, ps[1].median, ps[2].median);
	for (k = 0; k < NCFG; k++) {
		struct cfg *cf = &cfgs[k];
		struct bench_stats pr = stats_of(&cf->paired);

		snprintf(bench, sizeof(bench), "uring_%s_b%u", cmd_name[cf->cmd], cf->n);
		row(bench, "shmr", "ops/s", &cf->batch);
		row(bench, "ioctl", "ops/s", &cf->loop);
		note("paired %s shmr/ioctl: median %.2f (p10 %.2f, p90 %.2f) of %zu repetitions",
		     bench, pr.median, pr.p10, pr.p90, pr.n);
		if (cf->n == 32 && ceil[cf->cmd].n) {
			struct bench_stats cs = stats_of(&ceil[cf->cmd]);
			struct bench_stats lp = stats_of(&cf->loop);

			/* bench_csv_row()'s one decimal is too coarse for a ratio */
			snprintf(bench, sizeof(bench), "uring_%s_ceiling", cmd_name[cf->cmd]);
			fprintf(csv, "%s,shmr,x,%.3f,%.3f,%.3f\n", bench, cs.median, cs.p10, cs.p90);
			fflush(csv);
			bench_report(bench, "shmr", "x", &cs);
			note("uring_%s_b32: batch/loop %.2f (paired) = %.2f of the ceiling %.2f "
			     "(the loop: %.0f ns and %.2f system calls more per operation, at %.0f ns each)",
			     cmd_name[cf->cmd], pr.median, pr.median / cs.median, cs.median,
			     1e9 / lp.median, dn[cf->cmd], ps[0].median);
		}
	}
	for (k = 0; k < NCFG; k++) {
		bench_samples_free(&cfgs[k].batch);
		bench_samples_free(&cfgs[k].loop);
		bench_samples_free(&cfgs[k].paired);
	}
	for (c = 0; c < NCMD; c++)
		bench_samples_free(&ceil[c]);
	for (i = 0; i < 3; i++)
		bench_samples_free(&probes[i]);
	for (i = 0; i < NREG; i++)
		shmr_region_close(regs[i]);
	shmr_region_unlink(open_name);
	for (i = 0; i < NPOOL; i++) {
		shmr_batch_free(pool[i]);
		free(pool_st[i]);
	}
	io_uring_queue_exit(&nop_ring);
	bench_csv_close(csv);
	if (notes_file)
		fclose(notes_file);
	return 0;
}
