// SPDX-License-Identifier: GPL-2.0
/* shmrctl on the posix backend: output, --json validity, exit codes, messages. */
#define EXPECT_KERNEL 0
#include "shmrctl_tests.h"
#include "tracker_env.h"

#include <fcntl.h>
#include <sys/mman.h>

/*
 * No tracker helper unless a test asks for one: what shmrctl reports must
 * not depend on whether one is installed on this machine.
 */
__attribute__((constructor)) static void no_tracker(void)
{
	setenv("SHMR_TRACKER", "/nonexistent/shmr-tracker", 1);
}

/* With the tracker helper, PROCESS is the posix backend's too. */
TEST(posix_backend_with_tracker)
{
	struct res r;

	unsetenv("SHMR_TRACKER");
	shmr_test_tracker_env();
	ASSERT_EQ(0, RUN(&r, "backend"));
	EXPECT_NE(NULL, strstr(r.out, "missing: attach huge seal events exits")) TH_LOG("%s", r.out);
}

/* "/NAME" is a raw POSIX shm name: shm_open() sees what shmrctl made. */
TEST(posix_raw_names)
{
	char raw[64];
	struct res r;
	int fd;

	snprintf(raw, sizeof(raw), "/%s", tname("raw"));
	ASSERT_EQ(0, RUN(&r, "create", raw, "4K"));
	fd = shm_open(raw, O_RDONLY, 0);
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, RUN(&r, "unlink", raw));
	EXPECT_EQ(-1, shm_open(raw, O_RDONLY, 0));
	/* more than one '/', or "/" alone, stays a usage error */
	RUN(&r, "create", "/a/b", "4K");
	EXPECT_EQ(2, r.status);
	RUN(&r, "create", "/", "4K");
	EXPECT_EQ(2, r.status);
}

TEST(posix_who_and_leaks_unsupported)
{
	struct res r;

	ASSERT_EQ(0, RUN(&r, "create", tname("who"), "1"));
	EXPECT_EQ(4, RUN(&r, "who", tname("who")));
	EXPECT_NE(NULL, strstr(r.err, ": Not supported by the backend\n"));
	EXPECT_EQ(4, RUN(&r, "leaks"));
	EXPECT_STREQ("shmrctl: leaks: Not supported by the backend\n", r.err);
	EXPECT_EQ(0, RUN(&r, "unlink", tname("who")));
}

TEST_HARNESS_MAIN
