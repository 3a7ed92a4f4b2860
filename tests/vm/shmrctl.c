// SPDX-License-Identifier: GPL-2.0
/* shmrctl on the kernel backend: who, leaks, and the common output/exit-code checks. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((constructor)) static void need_module(void)
{
	if (access("/dev/shmr", F_OK)) {
		printf("TAP version 13\n# SKIP: /dev/shmr absent (module not loaded)\n"
		       "1..0 # SKIP /dev/shmr absent (module not loaded)\n");
		exit(4);
	}
	setenv("SHMR_BACKEND", "kernel", 1);
}

#define EXPECT_KERNEL 1
#include "shmrctl_tests.h"

TEST(who_shows_attached)
{
	const char *name = tname("who");
	struct shmr_region *reg;
	char pid[16], want[128];
	const char *row;
	struct res r;
	void *p;

	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &reg));
	ASSERT_EQ(0, shmr_region_map(reg, &p));
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "who", name));
	EXPECT_NE(NULL, strstr(r.out, "PID  COMM"));
	EXPECT_NE(NULL, strstr(r.out, "HANDLES  MAPS  SINCE\n"));
	row = row_with(r.out, 0, pid);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	/* one row: ours (shmrctl itself never attaches) */
	EXPECT_EQ(NULL, strchr(strchr(r.out, '\n') + 1, '\n')[1] ? "more rows" : NULL);
	EXPECT_NE(NULL, strstr(row, "  1  ")) TH_LOG("%s", row);
	EXPECT_NE(NULL, strstr(row, "Z"));
	ASSERT_EQ(0, RUN(&r, "who", name, "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "{\"pid\": %s, \"comm\": ", pid);
	EXPECT_NE(NULL, strstr(r.out, want));
	/* list shows the counts */
	ASSERT_EQ(0, RUN(&r, "list"));
	row = row_with(r.out, 1, name);
	ASSERT_NE(NULL, row);
	{
		unsigned int h = 0, m = 0, a = 0;

		EXPECT_EQ(3, sscanf(row, "%*s %*s %*s %*s %*s %u %u %u", &h, &m, &a));
		EXPECT_EQ(1U, h);
		EXPECT_EQ(1U, m);
		EXPECT_EQ(1U, a);
	}
	EXPECT_EQ(3, RUN(&r, "who", tname("nope")));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(reg));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

TEST(leaks_names_killed_worker)
{
	const char *name = tname("killed");
	struct shmr_region *reg;
	int sync[2];
	char pid_s[16], c;
	const char *row;
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &reg));
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *o;
		void *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the test */
		close(sync[0]);
		if (shmr_region_open(name, 0, &o) || shmr_region_map(o, &p))
			_exit(10);
		if (write(sync[1], "x", 1) != 1)
			_exit(11);
		pause();
		_exit(0);
	}
	close(sync[1]);
	c = 0;
	if (read(sync[0], &c, 1) != 1)
		c = 0;
	kill(pid, SIGKILL);
	close(sync[0]);
	ASSERT_EQ('x', c);
	waitpid(pid, NULL, 0);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	ASSERT_EQ(0, RUN(&r, "leaks"));
	EXPECT_NE(NULL, strstr(r.out, "WHEN  "));
	row = row_with(r.out, 1, pid_s);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(row, " killed:SIGKILL "));
	EXPECT_NE(NULL, strstr(row, name));
	ASSERT_EQ(0, RUN(&r, "leaks", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"signal\": 9"));
	EXPECT_EQ(2, RUN(&r, "leaks", "extra"));
	/* --clear shows them once more, then they are gone */
	ASSERT_EQ(0, RUN(&r, "leaks", "--clear"));
	EXPECT_NE(NULL, row_with(r.out, 1, pid_s));
	ASSERT_EQ(0, RUN(&r, "leaks"));
	EXPECT_EQ(NULL, row_with(r.out, 1, pid_s)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, shmr_region_close(reg));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

/*
 * A clean exit that still held a mapping (every multiprocessing pool worker
 * does that) is not a leak worth listing by default: only with --all.
 */
TEST(leaks_hides_clean_exits_without_all)
{
	const char *name = tname("clean");
	struct shmr_region *reg;
	char pid_s[16], killed_s[16], want[64];
	const char *row;
	struct res r;
	pid_t pid, killed;
	int st, sync[2];
	char c = 0;

	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &reg));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *o;
		void *p;

		if (shmr_region_open(name, 0, &o) || shmr_region_map(o, &p))
			_exit(10);
		_exit(3);	/* exits normally, mapping and handle still held */
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ASSERT_EQ(0, pipe(sync));
	killed = fork();
	ASSERT_GE(killed, 0);
	if (killed == 0) {
		struct shmr_region *o;
		void *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (shmr_region_open(name, 0, &o) || shmr_region_map(o, &p) ||
		    write(sync[1], "x", 1) != 1)
			_exit(10);
		pause();
		_exit(0);
	}
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1)
		c = 0;
	close(sync[0]);
	kill(killed, SIGKILL);
	waitpid(killed, NULL, 0);
	ASSERT_EQ('x', c);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	snprintf(killed_s, sizeof(killed_s), "%d", (int)killed);

	ASSERT_EQ(0, RUN(&r, "leaks"));
	EXPECT_EQ(NULL, row_with(r.out, 1, pid_s)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, row_with(r.out, 1, killed_s)) TH_LOG("%s", r.out);
	ASSERT_EQ(0, RUN(&r, "leaks", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"pid\": %d,", (int)pid);
	EXPECT_EQ(NULL, strstr(r.out, want));
	snprintf(want, sizeof(want), "\"pid\": %d,", (int)killed);
	EXPECT_NE(NULL, strstr(r.out, want));

	ASSERT_EQ(0, RUN(&r, "leaks", "--all"));
	row = row_with(r.out, 1, pid_s);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(row, " exited:3 ")) TH_LOG("%s", row);
	EXPECT_NE(NULL, row_with(r.out, 1, killed_s));
	ASSERT_EQ(0, RUN(&r, "--json", "leaks", "--all"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"pid\": %d,", (int)pid);
	EXPECT_NE(NULL, strstr(r.out, want));
	EXPECT_EQ(0, RUN(&r, "leaks", "--all", "--clear"));
	EXPECT_EQ(0, shmr_region_close(reg));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

TEST(stat_anonymous_by_id)
{
	struct shmr_region_stat st;
	struct shmr_region *reg;
	char id[32];
	struct res r;

	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 8192), &reg));
	ASSERT_EQ(0, shmr_region_stat(reg, &st));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)st.id);
	ASSERT_EQ(0, RUN(&r, "stat", id));
	EXPECT_NE(NULL, strstr(r.out, "name:        (anonymous)\n")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "flags:       anon\n"));
	EXPECT_NE(NULL, strstr(r.out, "handles:     1\n"));
	ASSERT_EQ(0, RUN(&r, "stat", id, "--json"));
	EXPECT_TRUE(json_valid(r.out));
	EXPECT_NE(NULL, strstr(r.out, "\"name\": null"));
	EXPECT_NE(NULL, strstr(r.out, "\"flags\": [\"anon\"]"));
	ASSERT_EQ(0, RUN(&r, "list"));
	EXPECT_NE(NULL, row_with(r.out, 1, "(anonymous)"));
	EXPECT_EQ(0, shmr_region_close(reg));
	EXPECT_EQ(3, RUN(&r, "stat", id));
}

TEST_HARNESS_MAIN
