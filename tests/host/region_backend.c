// SPDX-License-Identifier: GPL-2.0
/* Backend selection by SHMR_BACKEND; each test runs in a fresh child, so selection is new. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "shmr.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

static int have_module(void)
{
	return access("/dev/shmr", R_OK | W_OK) == 0;
}

TEST(default_backend)
{
	unsetenv("SHMR_BACKEND");
	EXPECT_EQ(have_module() ? SHMR_BACKEND_KERNEL : SHMR_BACKEND_POSIX, shmr_backend());
}

TEST(forced_posix)
{
	struct shmr_region *r;

	setenv("SHMR_BACKEND", "posix", 1);
	EXPECT_EQ(SHMR_BACKEND_POSIX, shmr_backend());
	EXPECT_STREQ("posix", shmr_backend_name());
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(forced_kernel)
{
	struct shmr_region_opts o = SHMR_REGION_OPTS(.size = 4096);
	struct shmr_region *r = NULL;
	struct shmr_region_stat st;
	uint64_t f = 1;

	setenv("SHMR_BACKEND", "kernel", 1);
	if (have_module()) {
		EXPECT_EQ(SHMR_BACKEND_KERNEL, shmr_backend());
		EXPECT_STREQ("kernel", shmr_backend_name());
		ASSERT_EQ(0, shmr_region_create(&o, &r));
		EXPECT_EQ(0, shmr_region_close(r));
		return;
	}
	/* no module: every call fails with -ENODEV */
	EXPECT_EQ(-ENODEV, shmr_backend());
	EXPECT_STREQ("none", shmr_backend_name());
	EXPECT_EQ(-ENODEV, shmr_features(&f));
	EXPECT_EQ(0ULL, f);
	EXPECT_EQ(-ENODEV, shmr_region_create(&o, &r));
	EXPECT_EQ(-ENODEV, shmr_region_open("x", 0, &r));
	EXPECT_EQ(-ENODEV, shmr_region_unlink("x"));
	EXPECT_EQ(-ENODEV, shmr_region_list(NULL, 0));
	EXPECT_EQ(-ENODEV, shmr_region_stat_id(1, &st));
	EXPECT_EQ(-ENODEV, shmr_exit_list(NULL, 0, 0));
	EXPECT_EQ(-ENODEV, shmr_region_who_id(1, NULL, 0));
}

TEST(bad_value)
{
	struct shmr_region *r = NULL;

	setenv("SHMR_BACKEND", "sysv", 1);
	EXPECT_EQ(-EINVAL, shmr_backend());
	EXPECT_STREQ("none", shmr_backend_name());
	EXPECT_EQ(-EINVAL, shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r));
	EXPECT_EQ(NULL, r);
}

TEST(selected_once)
{
	setenv("SHMR_BACKEND", "posix", 1);
	ASSERT_EQ(SHMR_BACKEND_POSIX, shmr_backend());
	setenv("SHMR_BACKEND", "sysv", 1);
	EXPECT_EQ(SHMR_BACKEND_POSIX, shmr_backend());
}

TEST_HARNESS_MAIN
