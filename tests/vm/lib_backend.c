// SPDX-License-Identifier: GPL-2.0
/*
 * No silent fallback: with /dev/shmr restricted to a group (mode 0660, as
 * kmod/60-shmr.rules suggests) a user outside it gets an error that names
 * /dev/shmr and the group, from the library and from shmrctl, instead of
 * POSIX shm where none of the module's regions are; a member of the group
 * gets the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/shmr.h>	/* beside shmr.h: the two must not clash */
#include "shmr.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

#define GROUP_GID	1001	/* shmrpeer: the group /dev/shmr is given */
#define GROUP_NAME	"shmrpeer"

struct creds {
	uid_t uid;
	gid_t gid;
};

static const struct creds outsider = { 1000, 1000 };	/* shmrtest */
static const struct creds member = { 1001, 1001 };	/* shmrpeer */

static int become(const struct creds *cr)
{
	if (setgroups(0, NULL) || setresgid(cr->gid, cr->gid, cr->gid) ||
	    setresuid(cr->uid, cr->uid, cr->uid))
		return -errno;
	return 0;
}

/*
 * fn(arg) in a child with creds; what it returned, or -1000 if it did not
 * return. The library chooses its backend once per process: each call is a
 * fresh choice, as long as this process has not called the library itself.
 */
static int run_as(const struct creds *cr, int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(become(cr) ? 200 : fn(arg));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1000;
	return WEXITSTATUS(st);
}

/* root's region "restricted" (mode 0644) through the raw ABI; its fd */
static int raw_create(void)
{
	struct shmr_create c;
	int ctl, err;

	ctl = open(SHMR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	memset(&c, 0, sizeof(c));
	c.name = (uint64_t)(uintptr_t)"restricted";
	c.size = 4096;
	c.mode = 0644;
	c.flags = SHMR_CREATE_EXCL;
	err = ioctl(ctl, SHMR_IOC_CREATE, &c) ? -errno : c.fd;
	close(ctl);
	return err;
}

static int raw_unlink(void)
{
	struct shmr_unlink u;
	int ctl, err;

	ctl = open(SHMR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	memset(&u, 0, sizeof(u));
	u.name = (uint64_t)(uintptr_t)"restricted";
	err = ioctl(ctl, SHMR_IOC_UNLINK, &u) ? -errno : 0;
	close(ctl);
	return err;
}

FIXTURE(restricted) {
	struct stat saved;
};

FIXTURE_SETUP(restricted)
{
	if (access(SHMR_DEVICE_PATH, F_OK))
		SKIP(_exit(255), "%s absent: shmr module not loaded", SHMR_DEVICE_PATH);
	ASSERT_EQ(0, stat(SHMR_DEVICE_PATH, &self->saved));
	if (chown(SHMR_DEVICE_PATH, 0, GROUP_GID) || chmod(SHMR_DEVICE_PATH, 0660)) {
		chown(SHMR_DEVICE_PATH, self->saved.st_uid, self->saved.st_gid);
		ASSERT_EQ(0, chmod(SHMR_DEVICE_PATH, self->saved.st_mode & 07777));
		ASSERT_TRUE(false) TH_LOG("cannot restrict %s", SHMR_DEVICE_PATH);
	}
}

FIXTURE_TEARDOWN(restricted)
{
	if (chown(SHMR_DEVICE_PATH, self->saved.st_uid, self->saved.st_gid) ||
	    chmod(SHMR_DEVICE_PATH, self->saved.st_mode & 07777))
		TH_LOG("cannot restore %s", SHMR_DEVICE_PATH);
}

/* The outsider: every call -EACCES, the message names the device and group. */
static int outsider_denied(void *arg)
{
	struct shmr_region *r = NULL;
	const char *msg;

	if (arg)
		setenv("SHMR_BACKEND", arg, 1);
	else
		unsetenv("SHMR_BACKEND");
	if (shmr_backend() != -EACCES)
		return 1;
	msg = shmr_backend_error();
	if (!msg || !strstr(msg, "cannot open " SHMR_DEVICE_PATH " (mode 0660, owner root, group "
			   GROUP_NAME "): Permission denied") ||
	    !strstr(msg, "not in group " GROUP_NAME))
		return 2;
	if (shmr_region_create(&SHMR_REGION_OPTS(.name = "restricted", .size = 4096), &r) !=
	    -EACCES || r)
		return 3;
	if (shmr_region_open("restricted", 0, &r) != -EACCES || shmr_region_list(NULL, 0) != -EACCES)
		return 4;
	return 0;
}

/* The member of the group: the module, and the region root made there. */
static int member_uses_module(void *arg)
{
	struct shmr_region *r;
	int ret;

	(void)arg;
	unsetenv("SHMR_BACKEND");
	if (shmr_backend() != SHMR_BACKEND_KERNEL || shmr_backend_error())
		return 1;
	ret = shmr_region_open("restricted", SHMR_REGION_RDONLY, &r);
	if (ret)
		return 10 - ret;
	return shmr_region_close(r) ? 3 : 0;
}

static int outsider_posix(void *arg)
{
	(void)arg;
	setenv("SHMR_BACKEND", "posix", 1);
	return shmr_backend() == SHMR_BACKEND_POSIX && !shmr_backend_error() ? 0 : 1;
}

TEST_F(restricted, outsider_gets_an_error_not_posix)
{
	int fd;

	/* root made a region in the module: the outsider must not miss it silently */
	fd = raw_create();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, run_as(&outsider, outsider_denied, NULL));
	EXPECT_EQ(0, run_as(&outsider, outsider_denied, "kernel"));
	EXPECT_EQ(0, run_as(&outsider, outsider_posix, NULL));
	EXPECT_EQ(0, run_as(&member, member_uses_module, NULL));
	close(fd);
	EXPECT_EQ(0, raw_unlink());
}

/* shmrctl, run as the outsider, says the same and exits 1 */
TEST_F(restricted, shmrctl_as_outsider)
{
	char exe[PATH_MAX], path[PATH_MAX], err[2048];
	int efd, st;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = '\0';
	/* <root>/tests/vm/lib_backend -> <root>/bin/shmrctl */
	snprintf(path, sizeof(path), "%s/bin/shmrctl", dirname(dirname(dirname(exe))));
	efd = memfd_create("err", 0);
	ASSERT_GE(efd, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		dup2(efd, 2);
		unsetenv("SHMR_BACKEND");
		if (become(&outsider))
			_exit(100);
		execl(path, "shmrctl", "list", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	n = pread(efd, err, sizeof(err) - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(efd);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st)) TH_LOG("%s", err);
	EXPECT_EQ(0, strncmp(err, "shmrctl: list: cannot open /dev/shmr (mode 0660, owner root, "
			     "group shmrpeer): Permission denied; this process is not in group "
			     "shmrpeer", 118)) TH_LOG("%s", err);
}

TEST_HARNESS_MAIN
