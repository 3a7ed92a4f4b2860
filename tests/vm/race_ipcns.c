// SPDX-License-Identifier: GPL-2.0
/*
 * race_ipcns: a process attached to regions in several IPC namespaces
 * (named and anonymous in each, mapped and by fd) is SIGKILLed, in a loop,
 * at a random moment of its set-up. Afterwards every *_live counter returns
 * to its start value: handles and mappings at once, the names once their
 * namespaces are found dead (the module polls about once a second).
 */
#include "shmr_test.h"
#include <sched.h>
#include <time.h>

#define NS	3
#define ROUNDS	6

static void child(int ready)
{
	char name[64];
	long pg = shmr_page_size();
	int i, ctl, fd;
	void *p;

	for (i = 0; i < NS; i++) {
		if (unshare(CLONE_NEWIPC))
			_exit(2);
		ctl = shmr_ctl_open();
		if (ctl < 0)
			_exit(3);
		snprintf(name, sizeof(name), "race_ipcns.%d", i);
		fd = shmr_create(ctl, name, 2 * pg, SHMR_CREATE_EXCL, 0600, NULL);
		if (fd < 0)
			_exit(4);
		p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(5);
		memset(p, i + 1, 2 * pg);
		fd = shmr_create(ctl, NULL, pg, 0, 0600, NULL);
		if (fd < 0)
			_exit(6);
	}
	if (write(ready, "x", 1) != 1)
		_exit(7);
	for (;;)
		pause();
}

static long long live(const char *n)
{
	return shmr_counter(n);
}

static bool all_back(const char *const *ctr, const long long *base, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (live(ctr[i]) != base[i])
			return false;
	return true;
}

TEST(sigkill_attached_in_several_namespaces)
{
	const char *ctr[] = { "regions_live", "handles_live", "mappings_live",
			      "attach_live", "bytes_live" };
	long long base[5];
	int i, r, pfd[2], status;
	pid_t pid;
	char c;

	SHMR_REQUIRE_DEVICE();
	for (i = 0; i < 5; i++)
		base[i] = live(ctr[i]);
	for (r = 0; r < ROUNDS; r++) {
		ASSERT_EQ(0, pipe(pfd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(pfd[0]);
			child(pfd[1]);
		}
		close(pfd[1]);
		if (r & 1) {
			/* fully set up */
			ASSERT_EQ(1, read(pfd[0], &c, 1));
			EXPECT_LT(base[0], live("regions_live"));
		} else {
			/* somewhere in the middle */
			usleep(r * 700);
		}
		close(pfd[0]);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
		/* handles and mappings are gone with the process */
		EXPECT_EQ(base[1], live("handles_live"));
		EXPECT_EQ(base[2], live("mappings_live"));
		/* names of dead namespaces: within a few polls */
		shmr_wait_until(all_back(ctr, base, 5));
		for (i = 0; i < 5; i++) {
			const char *n = ctr[i];

			EXPECT_EQ(base[i], live(n)) TH_LOG("%s, round %d", n, r);
		}
	}
}

TEST_HARNESS_MAIN
