// SPDX-License-Identifier: GPL-2.0
/* Backend selection by SHMR_BACKEND; each test runs in a fresh child, so selection is new. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* ---- /dev/shmr present but unusable: no silent fallback ------------------ */

/*
 * SHMR_DEVICE points the library at another control device, so these run
 * without the module. A missing device is "the module is absent": posix.
 */
TEST(device_absent_falls_back_to_posix)
{
	unsetenv("SHMR_BACKEND");
	setenv("SHMR_DEVICE", "/nonexistent/shmr", 1);
	EXPECT_EQ(SHMR_BACKEND_POSIX, shmr_backend());
	EXPECT_EQ(NULL, shmr_backend_error());
}

TEST(device_absent_forced_kernel)
{
	const char *msg;

	setenv("SHMR_BACKEND", "kernel", 1);
	setenv("SHMR_DEVICE", "/nonexistent/shmr", 1);
	EXPECT_EQ(-ENODEV, shmr_backend());
	msg = shmr_backend_error();
	ASSERT_NE(NULL, msg);
	EXPECT_NE(NULL, strstr(msg, "/nonexistent/shmr")) TH_LOG("%s", msg);
	EXPECT_NE(NULL, strstr(msg, "not loaded")) TH_LOG("%s", msg);
}

/* A device that opens but is not the module (here /dev/null): an error too. */
TEST(device_not_shmr_is_an_error)
{
	struct shmr_region *r = NULL;
	const char *msg;

	unsetenv("SHMR_BACKEND");
	setenv("SHMR_DEVICE", "/dev/null", 1);
	EXPECT_EQ(-ENOTTY, shmr_backend());
	EXPECT_STREQ("none", shmr_backend_name());
	msg = shmr_backend_error();
	ASSERT_NE(NULL, msg);
	EXPECT_NE(NULL, strstr(msg, "/dev/null does not answer")) TH_LOG("%s", msg);
	EXPECT_EQ(-ENOTTY, shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r));
	EXPECT_EQ(NULL, r);
}

FIXTURE(denied) {
	char dir[64];
	char dev[96];
	gid_t gid;
	char group[64];
};

/*
 * A "device" the test process may not open: mode 0660, owned by root and a
 * group the process is not in (the udev rule's group setup). As root the
 * test drops to nobody (uid and gid 65534, no supplementary groups), as a
 * regular user it uses mode 0000 instead.
 */
FIXTURE_SETUP(denied)
{
	struct group *gr;
	int fd;

	snprintf(self->dir, sizeof(self->dir), "/tmp/shmr-denied-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	snprintf(self->dev, sizeof(self->dev), "%s/shmr", self->dir);
	fd = open(self->dev, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	close(fd);
	if (geteuid() == 0) {
		gr = getgrnam("daemon");
		self->gid = gr ? gr->gr_gid : 0;
		ASSERT_EQ(0, chown(self->dev, 0, self->gid));
		ASSERT_EQ(0, chmod(self->dev, 0660));
	} else {
		self->gid = getegid();
		ASSERT_EQ(0, chmod(self->dev, 0));
	}
	gr = getgrgid(self->gid);
	if (gr)
		snprintf(self->group, sizeof(self->group), "%s", gr->gr_name);
	else
		snprintf(self->group, sizeof(self->group), "%u", (unsigned int)self->gid);
	setenv("SHMR_DEVICE", self->dev, 1);
}

FIXTURE_TEARDOWN(denied)
{
	unlink(self->dev);
	rmdir(self->dir);
}

/* Become nobody when root; 0 or -1. */
static int drop_privileges(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -1;
	return 0;
}

/*
 * Run fn in a child without privileges (the library chooses its backend
 * once per process, so each case needs a fresh one); its exit status.
 */
static int in_child(int (*fn)(const char *dev, const char *group), const char *backend,
		    const char *dev, const char *group)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (backend)
			setenv("SHMR_BACKEND", backend, 1);
		else
			unsetenv("SHMR_BACKEND");
		if (drop_privileges())
			_exit(100);
		_exit(fn(dev, group));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* the denied device: every call fails with -EACCES, the message says why */
static int check_denied(const char *dev, const char *group)
{
	struct shmr_region *r = NULL;
	char want[128];
	const char *msg;
	uint64_t f;

	if (shmr_backend() != -EACCES)
		return 1;
	if (strcmp(shmr_backend_name(), "none"))
		return 2;
	msg = shmr_backend_error();
	if (!msg || !strstr(msg, dev) || !strstr(msg, "Permission denied"))
		return 3;
	snprintf(want, sizeof(want), "group %s)", group);
	if (!strstr(msg, want))
		return 4;
	/* as root the group is one nobody is not in: the message says so */
	snprintf(want, sizeof(want), "not in group %s", group);
	if (getuid() == 65534 && !strstr(msg, want))
		return 5;
	if (!strstr(msg, "SHMR_BACKEND=posix"))
		return 6;
	if (shmr_region_create(&SHMR_REGION_OPTS(.name = "denied", .size = 4096), &r) != -EACCES ||
	    r)
		return 7;
	if (shmr_region_open("denied", 0, &r) != -EACCES || shmr_region_list(NULL, 0) != -EACCES ||
	    shmr_features(&f) != -EACCES)
		return 8;
	return 0;
}

static int check_posix(const char *dev, const char *group)
{
	(void)dev;
	(void)group;
	return shmr_backend() == SHMR_BACKEND_POSIX && !shmr_backend_error() ? 0 : 1;
}

/* Automatic choice: no silent fallback to posix (it used to be posix here). */
TEST_F(denied, automatic_choice_is_an_error)
{
	EXPECT_EQ(0, in_child(check_denied, NULL, self->dev, self->group));
}

/* SHMR_BACKEND=kernel: the same error, not "no module" (-ENODEV) */
TEST_F(denied, forced_kernel_names_the_permission_problem)
{
	EXPECT_EQ(0, in_child(check_denied, "kernel", self->dev, self->group));
}

/* SHMR_BACKEND=posix is the way out the message offers */
TEST_F(denied, forced_posix_still_works)
{
	EXPECT_EQ(0, in_child(check_posix, "posix", self->dev, self->group));
}

TEST_HARNESS_MAIN
