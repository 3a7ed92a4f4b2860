// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_ipcns: a control fd (and /proc/shmr) acts in the IPC namespace it
 * was opened in, whoever uses it later and wherever: a process of another
 * namespace it was passed to, the opener after unshare(). Once that
 * namespace is gone, the fd finds nothing and creates nothing (-ENOENT),
 * and the module's entry for it goes with the last such fd. SHMR_IOC_NSCHECK
 * tells a process whether it is in its control fd's namespace.
 */
#include "shmr_test.h"
#include <sched.h>
#include <sys/socket.h>
#include <liburing.h>

static int list_total(int ctl)
{
	struct shmr_list l;
	int ret;

	memset(&l, 0, sizeof(l));
	ret = shmr_ioctl(ctl, SHMR_IOC_LIST, &l);
	return ret ? ret : (int)l.total;
}

/* Does the whole of /proc/shmr read through @fd (from the start) hold @s? */
static int proc_has(int fd, const char *s)
{
	static char buf[65536];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

/*
 * A child unshares its IPC namespace and passes us a control fd opened
 * there: what we create through it lands in the child's namespace.
 */
TEST(passed_fd_acts_in_its_namespace)
{
	char name[64], c;
	int ctl, ctl_b, fd, sv[2], status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "kmod_ipcns_passed");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int mine;

		close(sv[0]);
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		mine = shmr_ctl_open();
		if (mine < 0 || shmr_send_fd(sv[1], mine))
			_exit(2);
		if (read(sv[1], &c, 1) != 1)
			_exit(3);
		/* the parent created it through our fd: it is ours */
		fd = shmr_open(mine, name, SHMR_OPEN_RDONLY, NULL);
		if (fd < 0)
			_exit(4);
		close(fd);
		if (shmr_unlink(mine, name))
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	ctl_b = shmr_recv_fd(sv[0]);
	ASSERT_LE(0, ctl_b);
	EXPECT_EQ(-EXDEV, shmr_ioctl(ctl_b, SHMR_IOC_NSCHECK, NULL));
	fd = shmr_create(ctl_b, name, 4096, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-ENOENT, shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL));
	EXPECT_EQ(1, list_total(ctl_b));
	fd = shmr_open(ctl_b, name, SHMR_OPEN_RDONLY, NULL);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
	close(ctl_b);
	close(ctl);
}

/*
 * The child's namespace dies with it while we hold a control fd of it:
 * that fd finds nothing and creates nothing, the namespace's regions go,
 * and the module's entry goes when we close the fd.
 */
TEST(fd_of_a_dead_namespace)
{
	long long live0, ns0;
	char name[64];
	int ctl_b, fd, sv[2], status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	live0 = shmr_counter("regions_live");
	ns0 = shmr_counter("namespaces_held");
	ASSERT_LE(0, ns0);
	shmr_test_name(name, sizeof(name), "kmod_ipcns_dead");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int mine;

		close(sv[0]);
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		mine = shmr_ctl_open();
		if (mine < 0)
			_exit(2);
		fd = shmr_create(mine, name, 4096, SHMR_CREATE_EXCL, 0600, NULL);
		if (fd < 0)
			_exit(3);
		close(fd);
		if (shmr_send_fd(sv[1], mine))
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	ctl_b = shmr_recv_fd(sv[0]);
	close(sv[0]);
	ASSERT_LE(0, ctl_b);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* the namespace is gone: at once, no name and no creation */
	EXPECT_EQ(-EXDEV, shmr_ioctl(ctl_b, SHMR_IOC_NSCHECK, NULL));
	EXPECT_EQ(-ENOENT, shmr_open(ctl_b, name, SHMR_OPEN_RDONLY, NULL));
	EXPECT_EQ(-ENOENT, shmr_unlink(ctl_b, name));
	EXPECT_EQ(-ENOENT, shmr_create(ctl_b, name, 4096, 0, 0600, NULL));
	EXPECT_EQ(-ENOENT, shmr_create(ctl_b, NULL, 4096, 0, 0600, NULL));
	/* its region goes once the module has seen the namespace die */
	EXPECT_TRUE(shmr_wait_until(shmr_counter("regions_live") == live0));
	EXPECT_EQ(0, list_total(ctl_b));
	EXPECT_LT(ns0, shmr_counter("namespaces_held"));
	close(ctl_b);
	EXPECT_EQ(ns0, shmr_counter("namespaces_held"));
}

/* /proc/shmr, like /proc/sysvipc/shm, shows the namespace it was opened in. */
TEST(proc_shmr_bound_at_open)
{
	char here[64], there[64];
	int ctl, fd, status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(here, sizeof(here), "kmod_ipcns_here");
	shmr_test_name(there, sizeof(there), "kmod_ipcns_there");
	fd = shmr_create(ctl, shmr_track(here), 4096, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int old_proc, new_proc, ctl_b;

		old_proc = open("/proc/shmr", O_RDONLY | O_CLOEXEC);
		if (old_proc < 0)
			_exit(1);
		if (unshare(CLONE_NEWIPC))
			_exit(2);
		ctl_b = shmr_ctl_open();
		if (ctl_b < 0)
			_exit(3);
		fd = shmr_create(ctl_b, there, 4096, SHMR_CREATE_EXCL, 0600, NULL);
		if (fd < 0)
			_exit(4);
		new_proc = open("/proc/shmr", O_RDONLY | O_CLOEXEC);
		if (new_proc < 0)
			_exit(5);
		if (proc_has(old_proc, here) != 1 || proc_has(old_proc, there) != 0)
			_exit(6);
		if (proc_has(new_proc, here) != 0 || proc_has(new_proc, there) != 1)
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d", WEXITSTATUS(status));
	EXPECT_EQ(0, shmr_unlink(ctl, here));
	close(ctl);
}

static int nscheck(int fd)
{
	return shmr_ioctl(fd, SHMR_IOC_NSCHECK, NULL);
}

/* NSCHECK through the ring: the CQE's result. */
static int ring_nscheck(int fd)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (ret)
		return ret;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = SHMR_IOC_NSCHECK;
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret >= 0) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret;
}

/* In a child: 0 or the failed step. */
static int nscheck_child(void)
{
	struct shmr_features f;
	int ctl_a, ctl_b, ns_a, fd;

	ctl_a = shmr_ctl_open();
	ns_a = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (ctl_a < 0 || ns_a < 0)
		return 1;
	if (shmr_features(ctl_a, &f) || !(f.features & SHMR_FEAT_NSCHECK))
		return 2;
	if (nscheck(ctl_a) != 0)
		return 3;
	/* a command number with a size is another (unknown) command */
	if (shmr_ioctl(ctl_a, _IOC(_IOC_NONE, SHMR_IOC_MAGIC,
				   _IOC_NR(SHMR_IOC_NSCHECK), 8), &f) != -ENOTTY)
		return 4;
	if (ring_nscheck(ctl_a) != -EOPNOTSUPP)
		return 5;
	fd = shmr_create(ctl_a, NULL, 4096, 0, 0600, NULL);
	if (fd < 0 || nscheck(fd) != -ENOTTY)
		return 6;
	close(fd);
	if (unshare(CLONE_NEWIPC))
		return 7;
	if (nscheck(ctl_a) != -EXDEV)
		return 8;
	ctl_b = shmr_ctl_open();
	if (ctl_b < 0 || nscheck(ctl_b) != 0)
		return 9;
	if (setns(ns_a, CLONE_NEWIPC))
		return 10;
	if (nscheck(ctl_a) != 0 || nscheck(ctl_b) != -EXDEV)
		return 11;
	return 0;
}

TEST(nscheck_tells_whether_the_caller_is_in_the_fd_namespace)
{
	int status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nscheck_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d", WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
