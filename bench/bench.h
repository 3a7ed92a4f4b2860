/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h: timing, statistics and CSV helpers shared by the shmr benchmarks.
 * Self-contained (libc only), header-only: include it from one .c file.
 *
 * A benchmark takes samples (one sample = the time of a block of operations
 * divided by the block size), discards warm-up samples, and reports the
 * median and the 10th/90th percentiles of the rest as one CSV row of
 *
 *	benchmark,impl,unit,median,p10,p90
 *
 * unit is "ns" (lower is better) or "ops/s" (higher is better).
 */
#ifndef SHMR_BENCH_H
#define SHMR_BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BENCH_CSV_HEADER "benchmark,impl,unit,median,p10,p90"

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A growable set of samples (doubles: ns per operation, or ops/s). */
struct bench_samples {
	double *v;
	size_t n, cap;
};

static inline void bench_samples_add(struct bench_samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "bench: out of memory\n");
			exit(2);
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

static inline void bench_samples_reset(struct bench_samples *s)
{
	s->n = 0;
}

static inline void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static inline int bench__cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Percentile p (0..100) of sorted values, linear interpolation. */
static inline double bench__pct_sorted(const double *v, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	if (n == 0)
		return 0.0;
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return v[n - 1];
	frac = rank - (double)lo;
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

struct bench_stats {
	double median, p10, p90, min, max;
	size_t n;
};

/* Statistics of s (s is left sorted). */
static inline struct bench_stats bench_samples_stats(struct bench_samples *s)
{
	struct bench_stats st = { 0 };

	if (s->n == 0)
		return st;
	qsort(s->v, s->n, sizeof(*s->v), bench__cmp_double);
	st.n = s->n;
	st.min = s->v[0];
	st.max = s->v[s->n - 1];
	st.median = bench__pct_sorted(s->v, s->n, 50.0);
	st.p10 = bench__pct_sorted(s->v, s->n, 10.0);
	st.p90 = bench__pct_sorted(s->v, s->n, 90.0);
	return st;
}
/* A note line on stderr, and appended to @notes (the --notes file) if set. */
static inline void bench_vnote(FILE *notes, const char *fmt, va_list ap)
{
	va_list again;

	va_copy(again, ap);
	fputs("note: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (notes) {
		vfprintf(notes, fmt, again);
		fputc('\n', notes);
		fflush(notes);
	}
	va_end(again);
}


/*
 * CSV output. bench_csv_open("-") writes to stdout; any other path is
 * appended to, with the header written first when the file is new or empty.
 */
static inline FILE *bench_csv_open(const char *path)
{
	struct stat st;
	FILE *f;

	if (!path || strcmp(path, "-") == 0) {
		printf("%s\n", BENCH_CSV_HEADER);
		return stdout;
	}
	f = fopen(path, "a");
	if (!f) {
		fprintf(stderr, "bench: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && st.st_size == 0)
		fprintf(f, "%s\n", BENCH_CSV_HEADER);
	return f;
}

static inline void bench_csv_close(FILE *f)
{
	if (f && f != stdout)
		fclose(f);
	else if (f)
		fflush(f);
}

static inline void bench_csv_row(FILE *f, const char *benchmark, const char *impl,
				 const char *unit, const struct bench_stats *st)
{
	if (!f)
		return;
	fprintf(f, "%s,%s,%s,%.1f,%.1f,%.1f\n", benchmark, impl, unit,
		st->median, st->p10, st->p90);
	fflush(f);
}

/* One human-readable progress line on stderr. */
static inline void bench_report(const char *benchmark, const char *impl,
				const char *unit, const struct bench_stats *st)
{
	fprintf(stderr, "  %-20s %-15s %12.1f %-5s (p10 %.1f, p90 %.1f, n=%zu)\n",
		benchmark, impl, st->median, unit, st->p10, st->p90, st->n);
}

#endif /* SHMR_BENCH_H */
