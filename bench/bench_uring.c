// SPDX-License-Identifier: GPL-2.0
/*
 * bench_uring: batched region control through io_uring (shmr_batch_*)
 * against the same operations as an ioctl loop, ops/s at batch sizes
 * 1, 8, 32 and 128. Needs /dev/shmr (run in the VM).
 *
 *   uring_create_bN  create + close of N anonymous one-page regions:
 *                    shmr = N creates in one submit, then N closes;
 *                    ioctl = N times shmr_region_create() + close
 *   uring_stat_bN    stat of N open regions:
 *                    shmr = N stats in one submit; ioctl = N shmr_region_stat()
 *
 * usage: bench_uring [--quick] [--csv FILE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmr.h"
#include "bench.h"

static const unsigned int batches[] = { 1, 8, 32, 128 };
#define NB (sizeof(batches) / sizeof(batches[0]))
#define MAXB 128

static int reps = 21, warm = 3;
static unsigned int ops_per_sample = 512;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_uring: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* One sample: ops/s over ops_per_sample operations in blocks of n. */
static double create_ring(struct shmr_batch *b, unsigned int n)
{
	struct shmr_region *r[MAXB];
	unsigned int done, i;
	uint64_t t0 = bench_now_ns();
	int ret;

	for (done = 0; done < ops_per_sample; done += n) {
		for (i = 0; i < n; i++)
			shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096), &r[i]);
		ret = shmr_batch_submit(b);
		if (ret != (int)n)
			die("submit", ret < 0 ? ret : -EIO);
		for (i = 0; i < n; i++) {
			if (shmr_batch_result(b, i))
				die("batched create", shmr_batch_result(b, i));
			shmr_region_close(r[i]);
		}
	}
	return done * 1e9 / (double)(bench_now_ns() - t0);
}

static double create_ioctl(unsigned int n)
{
	struct shmr_region *r[MAXB];
	unsigned int done, i;
	uint64_t t0 = bench_now_ns();
	int ret;

	for (done = 0; done < ops_per_sample; done += n) {
		for (i = 0; i < n; i++) {
			ret = shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r[i]);
			if (ret)
				die("create", ret);
		}
		for (i = 0; i < n; i++)
			shmr_region_close(r[i]);
	}
	return done * 1e9 / (double)(bench_now_ns() - t0);
}

static double stat_ring(struct shmr_batch *b, struct shmr_region **r, unsigned int n)
{
	struct shmr_region_stat st[MAXB];
	unsigned int done, i;
	uint64_t t0 = bench_now_ns();
	int ret;

	for (done = 0; done < ops_per_sample; done += n) {
		for (i = 0; i < n; i++)
			shmr_batch_stat(b, r[i], &st[i]);
		ret = shmr_batch_submit(b);
		if (ret != (int)n)
			die("submit", ret < 0 ? ret : -EIO);
		if (shmr_batch_result(b, n - 1))
			die("batched stat", shmr_batch_result(b, n - 1));
	}
	return done * 1e9 / (double)(bench_now_ns() - t0);
}

static double stat_ioctl(struct shmr_region **r, unsigned int n)
{
	struct shmr_region_stat st;
	unsigned int done, i;
	uint64_t t0 = bench_now_ns();
	int ret;

	for (done = 0; done < ops_per_sample; done += n) {
		for (i = 0; i < n; i++) {
			ret = shmr_region_stat(r[i], &st);
			if (ret)
				die("stat", ret);
		}
	}
	return done * 1e9 / (double)(bench_now_ns() - t0);
}

static void report(FILE *csv, const char *bench, const char *impl, struct bench_samples *s)
{
	struct bench_samples rest = { 0 };
	struct bench_stats st;
	size_t i;

	for (i = warm; i < s->n; i++)
		bench_samples_add(&rest, s->v[i]);
	st = bench_samples_stats(&rest);
	bench_csv_row(csv, bench, impl, "ops/s", &st);
	bench_report(bench, impl, "ops/s", &st);
	bench_samples_free(&rest);
	bench_samples_reset(s);
}

int main(int argc, char **argv)
{
	struct bench_samples ring = { 0 }, loop = { 0 };
	struct shmr_region *regs[MAXB];
	const char *csvpath = "-";
	struct shmr_batch *b;
	char name[64];
	unsigned int k, i;
	FILE *csv;
	int rep, ret;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			reps = 7;
			warm = 1;
			ops_per_sample = 256;
		} else if (!strcmp(argv[i], "--csv") && i + 1 < (unsigned int)argc) {
			csvpath = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--quick] [--csv FILE]\n", argv[0]);
			return 2;
		}
	}
	setenv("SHMR_LEAK", "off", 0);
	if (shmr_backend() != SHMR_BACKEND_KERNEL) {
		fprintf(stderr, "bench_uring: needs /dev/shmr (the kernel backend)\n");
		return 1;
	}
	ret = shmr_batch_new(MAXB, 0, &b);
	if (ret)
		die("shmr_batch_new", ret);
	if (shmr_batch_transport(b) != SHMR_BATCH_RING) {
		fprintf(stderr, "bench_uring: io_uring uring_cmd unavailable\n");
		return 1;
	}
	csv = bench_csv_open(csvpath);
	if (!csv)
		return 1;
	for (i = 0; i < MAXB; i++) {
		snprintf(name, sizeof(name), "bench-uring-%d-%u", getpid(), i);
		ret = shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &regs[i]);
		if (ret)
			die("create", ret);
		shmr_region_unlink(name);
	}
	for (k = 0; k < NB; k++) {
		unsigned int n = batches[k];
		char bench[32];

		/* ring and loop alternate, so drift hits both alike */
		for (rep = 0; rep < reps; rep++) {
			bench_samples_add(&ring, create_ring(b, n));
			bench_samples_add(&loop, create_ioctl(n));
		}
		snprintf(bench, sizeof(bench), "uring_create_b%u", n);
		report(csv, bench, "shmr", &ring);
		report(csv, bench, "ioctl", &loop);
		for (rep = 0; rep < reps; rep++) {
			bench_samples_add(&ring, stat_ring(b, regs, n));
			bench_samples_add(&loop, stat_ioctl(regs, n));
		}
		snprintf(bench, sizeof(bench), "uring_stat_b%u", n);
		report(csv, bench, "shmr", &ring);
		report(csv, bench, "ioctl", &loop);
	}
	for (i = 0; i < MAXB; i++)
		shmr_region_close(regs[i]);
	shmr_batch_free(b);
	bench_samples_free(&ring);
	bench_samples_free(&loop);
	bench_csv_close(csv);
	return 0;
}
