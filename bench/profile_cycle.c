// SPDX-License-Identifier: GPL-2.0
/*
 * profile_cycle MODE N: N region cycles of one kind, for tracing the
 * kernel side with ftrace (bench/profile.sh). MODE:
 *   shmr-life    SHMR_IOC_CREATE + mmap + touch + munmap + close + UNLINK
 *   shmr-anon    SHMR_IOC_CREATE of an anonymous region + mmap + touch +
 *                munmap + close (which frees it)
 *   shmr-attach  SHMR_IOC_OPEN of an existing region + mmap + munmap + close
 *   memfd-life   memfd_create + ftruncate + mmap + touch + munmap + close
 *   memfd-attach mmap + munmap of an existing memfd
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/shmr.h>

#define PAGE 4096

static int ctl = -1;

static int sh_create(const char *name, int *fd)
{
	struct shmr_create c = {
		.name = (uintptr_t)name, .size = PAGE,
		.flags = SHMR_CREATE_EXCL, .mode = 0600,
	};

	if (ioctl(ctl, SHMR_IOC_CREATE, &c) < 0)
		return -errno;
	*fd = c.fd;
	return 0;
}

static int sh_create_anon(int *fd)
{
	struct shmr_create c = { .size = PAGE, .mode = 0600 };

	if (ioctl(ctl, SHMR_IOC_CREATE, &c) < 0)
		return -errno;
	*fd = c.fd;
	return 0;
}

static int sh_open(const char *name, int *fd)
{
	struct shmr_open o = { .name = (uintptr_t)name };

	if (ioctl(ctl, SHMR_IOC_OPEN, &o) < 0)
		return -errno;
	*fd = o.fd;
	return 0;
}

static int sh_unlink(const char *name)
{
	struct shmr_unlink u = { .name = (uintptr_t)name };

	return ioctl(ctl, SHMR_IOC_UNLINK, &u) < 0 ? -errno : 0;
}

static int map_touch(int fd, int touch)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (touch)
		*(volatile char *)p = 1;
	return munmap(p, PAGE) ? -errno : 0;
}

int main(int argc, char **argv)
{
	const char *name = "shmr-prof";
	int n, i, fd, keep = -1, err = 0;
	const char *mode;

	if (argc != 3) {
		fprintf(stderr, "usage: profile_cycle shmr-life|shmr-anon|shmr-attach|memfd-life|memfd-attach N\n");
		return 2;
	}
	mode = argv[1];
	n = atoi(argv[2]);
	if (!strncmp(mode, "shmr", 4)) {
		ctl = open("/dev/shmr", O_RDWR | O_CLOEXEC);
		if (ctl < 0) {
			perror("/dev/shmr");
			return 1;
		}
		sh_unlink(name);
	}
	if (!strcmp(mode, "shmr-attach"))
		err = sh_create(name, &keep);
	else if (!strcmp(mode, "memfd-attach")) {
		keep = memfd_create("shmr-prof", MFD_CLOEXEC);
		err = keep < 0 || ftruncate(keep, PAGE) ? -errno : 0;
	}
	if (!err && keep >= 0)
		err = map_touch(keep, 1);
	for (i = 0; i < n && !err; i++) {
		if (!strcmp(mode, "shmr-life")) {
			err = sh_create(name, &fd);
			if (!err)
				err = map_touch(fd, 1);
			close(fd);
			if (!err)
				err = sh_unlink(name);
		} else if (!strcmp(mode, "shmr-anon")) {
			err = sh_create_anon(&fd);
			if (!err)
				err = map_touch(fd, 1);
			close(fd);
		} else if (!strcmp(mode, "shmr-attach")) {
			err = sh_open(name, &fd);
			if (!err)
				err = map_touch(fd, 0);
			close(fd);
		} else if (!strcmp(mode, "memfd-life")) {
			fd = memfd_create("shmr-bench", MFD_CLOEXEC);
			if (fd < 0 || ftruncate(fd, PAGE))
				err = -errno;
			if (!err)
				err = map_touch(fd, 1);
			close(fd);
		} else if (!strcmp(mode, "memfd-attach")) {
			err = map_touch(keep, 0);
		} else {
			fprintf(stderr, "unknown mode %s\n", mode);
			return 2;
		}
	}
	if (keep >= 0)
		close(keep);
	if (!strcmp(mode, "shmr-attach"))
		sh_unlink(name);
	if (err) {
		fprintf(stderr, "%s: %s\n", mode, strerror(-err));
		return 1;
	}
	return 0;
}
