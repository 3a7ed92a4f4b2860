// SPDX-License-Identifier: GPL-2.0
/* libshmr region API on the posix backend (forced): every call and error path. */
#include <stdlib.h>

#include "shmr.h"
#include "tracker_env.h"

#define EXPECT_BACKEND SHMR_BACKEND_POSIX

__attribute__((constructor)) static void force_posix(void)
{
	setenv("SHMR_BACKEND", "posix", 1);
	shmr_test_tracker_env();
}

#include "region_tests.h"

TEST(posix_unsupported)
{
	struct shmr_region *r;
	struct shmr_attacher a;
	struct shmr_exit e;
	uint32_t ev;

	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_who(r, &a, 1));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_who_id(1, &a, 1));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_seal(r));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_events(r, &ev));
	EXPECT_EQ(-EOPNOTSUPP, shmr_exit_list(&e, 1, 0));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(posix_names_in_dev_shm)
{
	const char *name = tname("devshm");
	char path[128];
	struct shmr_region *r;
	char longname[256];

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	snprintf(path, sizeof(path), "/dev/shm/shmr.%s", name);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(-1, access(path, F_OK));
	EXPECT_EQ(0, shmr_region_close(r));
	/* the "shmr." prefix leaves 250 bytes for the name */
	memset(longname, 'p', 251);
	longname[251] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, create_named(longname, 4096, 0, &r));
}

TEST_HARNESS_MAIN
