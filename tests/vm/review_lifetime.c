// SPDX-License-Identifier: GPL-2.0
/*
 * review_lifetime: region lifetime corner cases found in review: a
 * process-lifetime region outlives its creator's main thread while other
 * threads run; named regions of a dead IPC namespace are freed.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Open @name by polling: fd, or -errno once it stays missing for @ms. */
static int poll_gone(int ctl, const char *name, long ms)
{
	int fd;

	for (; ms > 0; ms -= 50) {
		fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);
		if (fd < 0)
			return fd;
		close(fd);
		sleep_ms(50);
	}
	return 0;
}

static void *late_thread(void *arg)
{
	sleep_ms(1500);
	_exit(0);
	return arg;
}

/* A PROCESS region's creator loses its main thread; @traced: under ptrace. */
static void leader_exit_case(struct __test_metadata *_metadata, bool traced)
{
	char name[64];
	pthread_t t;
	int ctl, fd, status, pfd[2], gfd[2];
	pid_t pid;
	char c = 0;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "review_leader");
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, pipe(gfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		close(gfd[1]);
		fd = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL |
				 SHMR_CREATE_PROCESS, 0600, NULL);
		if (fd < 0)
			_exit(2);
		close(fd);
		if (pthread_create(&t, NULL, late_thread, NULL))
			_exit(3);
		if (write(pfd[1], &c, 1) != 1 || read(gfd[0], &c, 1) != 1)
			_exit(4);
		/* Only this thread: pthread_exit() needs libgcc_s. */
		syscall(SYS_exit, 0);
		_exit(5);
	}
	close(pfd[1]);
	close(gfd[0]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	if (traced)
		ASSERT_EQ(0, ptrace(PTRACE_SEIZE, pid, 0, 0));
	ASSERT_EQ(1, write(gfd[1], &c, 1));
	close(gfd[1]);
	/* The main thread is gone, the process lives for about 1.5 s. */
	sleep_ms(200);
	EXPECT_EQ(0, poll_gone(ctl, name, 700));
	ASSERT_EQ(pid, waitpid(pid, &status, __WALL));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Now the process is gone: the name goes too. */
	EXPECT_EQ(-ENOENT, poll_gone(ctl, name, 3000));
	shmr_unlink(ctl, name);
	close(ctl);
}

/*
 * The creator's main thread exits (the raw exit syscall, which ends one
 * thread) while another thread runs on: the process is alive, so the name
 * must stay until that thread ends the process.
 */
TEST(process_region_survives_leader_thread_exit)
{
	leader_exit_case(_metadata, false);
}

/*
 * The same under ptrace: the exit of a traced group leader thread notifies
 * the tracer, which wakes pid->wait_pidfd while the process still runs.
 */
TEST(process_region_survives_traced_leader_thread_exit)
{
	leader_exit_case(_metadata, true);
}

/* Wait until regions_live is @want: true, or false after about 5 s. */
static bool wait_live(long long want)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (shmr_counter("regions_live") == want)
			return true;
		sleep_ms(50);
	}
	return false;
}

/*
 * A child in a new IPC namespace creates named regions (one of them it
 * hands to the parent) and exits: the namespace dies, its names go, the
 * unreferenced region is freed and the passed one lives on, unlinked,
 * until the parent closes it.
 */
TEST(ipc_namespace_death_frees_names)
{
	struct shmr_region_info info;
	long long live0;
	int ctl, sv[2], status, fd;
	pid_t pid;
	char *p;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	live0 = shmr_counter("regions_live");
	ASSERT_LE(0, live0);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int c2, f1, f2;

		close(sv[0]);
		if (unshare(CLONE_NEWIPC))
			_exit(2);
		c2 = shmr_ctl_open();
		if (c2 < 0)
			_exit(3);
		f1 = shmr_create(c2, "review_ns_kept", 4096, SHMR_CREATE_EXCL,
				 0600, NULL);
		f2 = shmr_create(c2, "review_ns_passed", 4096,
				 SHMR_CREATE_EXCL, 0600, NULL);
		if (f1 < 0 || f2 < 0)
			_exit(4);
		close(f1);
		if (shmr_send_fd(sv[1], f2))
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	fd = shmr_recv_fd(sv[0]);
	close(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The kept region goes with the namespace; the passed one stays. */
	EXPECT_TRUE(wait_live(live0 + 1));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_NE(0u, info.flags & SHMR_INFO_UNLINKED);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	close(fd);
	EXPECT_EQ(live0 + 1, shmr_counter("regions_live"));
	munmap(p, 4096);
	EXPECT_TRUE(wait_live(live0));
	/* The host namespace never sees the names. */
	EXPECT_EQ(-ENOENT, shmr_open(ctl, "review_ns_kept", 0, NULL));
	close(ctl);
}

TEST_HARNESS_MAIN
