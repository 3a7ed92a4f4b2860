// SPDX-License-Identifier: GPL-2.0
/*
 * review_proc: /proc/shmr shows one line per region whatever bytes its name
 * holds (names are any bytes but '/'), escaped in octal like /proc/mounts.
 */
#include "shmr_test.h"
#include <ctype.h>

TEST(proc_name_escaped_one_line_per_region)
{
	char name[96], want[160], line[2048];
	bool header = false, found = false;
	int ctl, fd, bad = 0;
	FILE *f;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	snprintf(name, sizeof(name), "review x\n%d\\\tz\x7f\xc3\xa9",
		 (int)getpid());
	snprintf(want, sizeof(want),
		 " review\\040x\\012%d\\134\\011z\\177\\303\\251\n",
		 (int)getpid());
	fd = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	f = fopen("/proc/shmr", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!header) {
			header = true;
			continue;
		}
		/* Every row starts with the right-aligned id. */
		if (!isdigit((unsigned char)line[strspn(line, " ")]))
			bad++;
		if (strlen(line) >= strlen(want) &&
		    !strcmp(line + strlen(line) - strlen(want), want))
			found = true;
	}
	fclose(f);
	EXPECT_TRUE(header);
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(found);
	close(fd);
	EXPECT_EQ(0, shmr_unlink(ctl, name));
	close(ctl);
}

TEST_HARNESS_MAIN
