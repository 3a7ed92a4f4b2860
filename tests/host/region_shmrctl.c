// SPDX-License-Identifier: GPL-2.0
/* shmrctl on the posix backend: output, --json validity, exit codes, messages. */
#define EXPECT_KERNEL 0
#include "shmrctl_tests.h"

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
