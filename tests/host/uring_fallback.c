// SPDX-License-Identifier: GPL-2.0
/*
 * uring_fallback: the batch API (shmr_batch_*) with the ring forced off
 * (SHMR_URING=off) or on the posix backend: every operation gives what the
 * matching shmr_region_*() call gives. Runs on the host (posix backend) and
 * in the VM (kernel backend, ioctl fallback).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmr.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

static const char *uname_(const char *tag)
{
	static char buf[8][64];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, 64, "uf-%d-%s", (int)getpid(), tag);
	return b;
}

static int expected_transport(void)
{
	return shmr_backend() == SHMR_BACKEND_KERNEL ? SHMR_BATCH_IOCTL : SHMR_BATCH_POSIX;
}

/*
 * Each operation through the batch and through the direct call, on the
 * same inputs: the same result.
 */
static void same_as_direct(struct __test_metadata *_metadata)
{
	const char *a = uname_("a"), *missing = uname_("missing");
	struct shmr_region *ra = NULL, *rb = NULL, *d = NULL, *anon = NULL;
	struct shmr_region_stat s1, s2, l1[4], l2[4];
	char longname[300];
	struct shmr_batch *b;
	uint64_t f1 = 0, f2 = 0;
	int i;

	memset(longname, 'x', 256);
	longname[256] = '\0';
	ASSERT_EQ(0, shmr_batch_new(16, 0, &b));
	ASSERT_EQ(expected_transport(), shmr_batch_transport(b));

	/* create: new, anonymous, and every refused input */
	EXPECT_EQ(0, shmr_batch_create(b, &SHMR_REGION_OPTS(.name = a, .size = 100,
							    .flags = SHMR_REGION_EXCL), &ra));
	shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096), &anon);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 0), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 1, .mode = 01000), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 1, .flags = 1U << 20), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 1, .flags = SHMR_REGION_EXCL), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = longname, .size = 1), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = "a/b", .size = 1), &d);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = "", .size = 1), &d);
	ASSERT_EQ(9, shmr_batch_submit(b));
	EXPECT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_EQ(0, shmr_batch_result(b, 1));
	ASSERT_NE(NULL, ra);
	ASSERT_NE(NULL, anon);
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 2));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 3));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 4));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 5));
	EXPECT_EQ(-ENAMETOOLONG, shmr_batch_result(b, 6));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 7));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 8));
	EXPECT_EQ(NULL, d);
	EXPECT_EQ(shmr_region_size(ra), (uint64_t)sysconf(_SC_PAGESIZE));

	/* the same errors from the direct calls */
	EXPECT_EQ(-EEXIST, shmr_region_create(&SHMR_REGION_OPTS(.name = a, .size = 1,
								.flags = SHMR_REGION_EXCL), &d));
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = a, .size = 1, .flags = SHMR_REGION_EXCL),
			  &d);
	EXPECT_EQ(-ENOENT, shmr_region_open(missing, 0, &d));
	shmr_batch_open(b, missing, 0, &d);
	EXPECT_EQ(-EINVAL, shmr_region_open(a, 1U << 20, &d));
	shmr_batch_open(b, a, 1U << 20, &d);
	EXPECT_EQ(-ENOENT, shmr_region_unlink(missing));
	shmr_batch_unlink(b, missing);
	EXPECT_EQ(0, shmr_region_stat(ra, &s1));
	shmr_batch_stat(b, ra, &s2);
	EXPECT_EQ(-ENOENT, shmr_region_stat_id(0, &s1));
	shmr_batch_stat_id(b, 0, &s1);
	EXPECT_EQ(0, shmr_features(&f1));
	shmr_batch_features(b, &f2);
	shmr_batch_open(b, a, SHMR_REGION_RDONLY, &rb);
	ASSERT_EQ(8, shmr_batch_submit(b));
	EXPECT_EQ(-EEXIST, shmr_batch_result(b, 0));
	EXPECT_EQ(-ENOENT, shmr_batch_result(b, 1));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 2));
	EXPECT_EQ(-ENOENT, shmr_batch_result(b, 3));
	EXPECT_EQ(0, shmr_batch_result(b, 4));
	EXPECT_EQ(-ENOENT, shmr_batch_result(b, 5));
	EXPECT_EQ(0, shmr_batch_result(b, 6));
	EXPECT_EQ(0, shmr_batch_result(b, 7));
	EXPECT_EQ(f1, f2);
	ASSERT_NE(NULL, rb);
	EXPECT_EQ(O_RDONLY, fcntl(shmr_region_fd(rb), F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, shmr_region_stat(ra, &s1));
	EXPECT_EQ(s1.id, s2.id);
	EXPECT_EQ(s1.size, s2.size);
	EXPECT_EQ(s1.mode, s2.mode);
	EXPECT_STREQ(a, s2.name);

	/* by id and the list, once the handles are there */
	shmr_batch_stat_id(b, s1.id, &s2);
	shmr_batch_list(b, l2, 4);
	ASSERT_EQ(2, shmr_batch_submit(b));
	EXPECT_EQ(shmr_region_stat_id(s1.id, &s1), shmr_batch_result(b, 0));
	EXPECT_EQ(s1.id, s2.id);
	i = shmr_region_list(l1, 4);
	EXPECT_EQ(i, shmr_batch_result(b, 1));
	for (int k = 0; k < i && k < 4; k++)
		EXPECT_EQ(l1[k].id, l2[k].id);

	/* the new handles are tracked like any */
	EXPECT_EQ(3, shmr_leak_count());
	shmr_batch_unlink(b, a);
	ASSERT_EQ(1, shmr_batch_submit(b));
	EXPECT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_EQ(-ENOENT, shmr_region_unlink(a));
	shmr_region_close(ra);
	shmr_region_close(rb);
	shmr_region_close(anon);
	EXPECT_EQ(0, shmr_leak_count());
	shmr_batch_free(b);
}

TEST(forced_off)
{
	setenv("SHMR_URING", "off", 1);
	same_as_direct(_metadata);
}

TEST(posix_backend)
{
	struct shmr_region *r;
	struct shmr_batch *b;
	uint32_t ev = 1;

	setenv("SHMR_BACKEND", "posix", 1);
	setenv("SHMR_TRACKER", "/nonexistent", 1);	/* PROCESS: tests/host/region_tracker */
	same_as_direct(_metadata);
	/* kernel-only operations, and PROCESS without the tracker helper */
	ASSERT_EQ(0, shmr_batch_new(4, 0, &b));
	EXPECT_EQ(SHMR_BATCH_POSIX, shmr_batch_transport(b));
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 1), &r));
	shmr_batch_events(b, r, &ev);
	shmr_batch_wait_events(b, r, &ev);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = uname_("p"), .size = 1,
					       .flags = SHMR_REGION_PROCESS), &r);
	ASSERT_EQ(3, shmr_batch_submit(b));
	EXPECT_EQ(-EOPNOTSUPP, shmr_batch_result(b, 0));
	EXPECT_EQ(-EOPNOTSUPP, shmr_batch_result(b, 1));
	EXPECT_EQ(-EOPNOTSUPP, shmr_batch_result(b, 2));
	EXPECT_EQ(0U, ev);
	shmr_batch_free(b);
}

TEST(arguments)
{
	struct shmr_region_stat st;
	struct shmr_region *r;
	struct shmr_batch *b;
	uint64_t f;
	uint32_t ev;
	int i;

	setenv("SHMR_URING", "off", 1);
	EXPECT_EQ(-EINVAL, shmr_batch_new(0, 0, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(4097, 0, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(1, 1U << 5, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(1, 0, NULL));
	ASSERT_EQ(0, shmr_batch_new(2, 0, &b));
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 1), &r));
	EXPECT_EQ(-EINVAL, shmr_batch_create(NULL, &SHMR_REGION_OPTS(.size = 1), &r));
	EXPECT_EQ(-EINVAL, shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 1), NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_open(b, "x", 0, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_unlink(NULL, "x"));
	EXPECT_EQ(-EINVAL, shmr_batch_stat(b, NULL, &st));
	EXPECT_EQ(-EINVAL, shmr_batch_stat(b, r, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_stat_id(b, 1, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_list(b, NULL, 1));
	EXPECT_EQ(-EINVAL, shmr_batch_list(b, &st, 4097));
	EXPECT_EQ(-EINVAL, shmr_batch_features(b, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_events(b, NULL, &ev));
	EXPECT_EQ(-EINVAL, shmr_batch_wait_events(b, r, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_result(NULL, 0));
	/* nothing was queued by the refused calls */
	EXPECT_EQ(0, shmr_batch_features(b, &f));
	EXPECT_EQ(1, shmr_batch_features(b, &f));
	EXPECT_EQ(-ENOSPC, shmr_batch_features(b, &f));
	ASSERT_EQ(2, shmr_batch_submit(b));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, shmr_batch_result(b, i));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 2));
	shmr_region_close(r);
	shmr_batch_free(b);
	shmr_batch_free(NULL);
}

TEST_HARNESS_MAIN
