/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the permission tests (tests/vm/perm_open.c, perm_userns.c) share:
 * the classes a subject falls in, what a class may do with a mode, and one
 * OPEN, create-or-open or ATTACH attempt checked to the last detail.
 */
#ifndef SHMR_PERM_TESTS_H
#define SHMR_PERM_TESTS_H

#include "shmr_test.h"

enum perm_class { CLASS_OWNER, CLASS_GROUP, CLASS_OTHER, CLASS_OVERRIDE };

/* 0 if the class may open with these access bits (4 read, 2 write). */
static inline int perm_expected(enum perm_class cls, uint32_t mode, uint32_t need)
{
	uint32_t bits;

	switch (cls) {
	case CLASS_OVERRIDE:
		return 0;
	case CLASS_OWNER:
		bits = (mode >> 6) & 7;
		break;
	case CLASS_GROUP:
		bits = (mode >> 3) & 7;
		break;
	default:
		bits = mode & 7;
		break;
	}
	return (bits & need) == need ? 0 : -EACCES;
}

/* Results of perm_attempt() besides 0 and -errno. */
#define WRONG_REGION	(-10000)	/* opened, but not region id */
#define WRONG_ACCESS	(-10001)	/* the fd's access mode is not the one asked for */
#define WAS_CREATED	(-10002)	/* create-or-open created a new region */

/*
 * On @ctl: OPEN @name with @flags (SHMR_OPEN_*), or with @create a
 * create-or-open of @size bytes with @create_flags and @mode, which must
 * find the existing region @id. 0, -errno or a WRONG_* / WAS_CREATED.
 */
static inline int perm_attempt(int ctl, const char *name, uint32_t flags, bool create,
			       uint64_t size, uint32_t create_flags, uint32_t mode,
			       uint64_t id)
{
	struct shmr_create c;
	struct shmr_open o;
	int fd, acc, ret = 0;

	if (create) {
		fd = shmr_create(ctl, name, size, create_flags, mode, &c);
		if (fd >= 0 && c.result != 0)
			ret = WAS_CREATED;
		else if (fd >= 0 && c.id != id)
			ret = WRONG_REGION;
	} else {
		fd = shmr_open(ctl, name, flags, &o);
		if (fd >= 0 && o.id != id)
			ret = WRONG_REGION;
	}
	if (fd < 0)
		return fd;
	acc = fcntl(fd, F_GETFL) & O_ACCMODE;
	if (!ret && acc != ((flags & SHMR_OPEN_RDONLY) && !create ? O_RDONLY : O_RDWR))
		ret = WRONG_ACCESS;
	close(fd);
	return ret;
}

/*
 * On @ctl: ATTACH @name with @flags (SHMR_ATTACH_*), which must map region
 * @id read-write, or read-only for good with SHMR_ATTACH_RDONLY (mprotect()
 * to writable refused). 0, -errno or a WRONG_*.
 */
static inline int perm_attach(int ctl, const char *name, uint32_t flags, uint64_t id)
{
	bool ro = flags & SHMR_ATTACH_RDONLY, writable;
	struct shmr_attach_req a;
	int ret;

	ret = shmr_attach(ctl, name, flags, &a);
	if (ret)
		return ret;
	writable = !mprotect((void *)(uintptr_t)a.addr, a.size, PROT_READ | PROT_WRITE);
	if (a.id != id)
		ret = WRONG_REGION;
	else if (writable == ro)
		ret = WRONG_ACCESS;
	munmap((void *)(uintptr_t)a.addr, a.size);
	return ret;
}

/*
 * As the subject (in a shmr_run_as() child): create @name exclusively with
 * @size and @mode and store its id in *@id (memory shared with the
 * parent). 0 or -errno.
 */
static inline int perm_create_excl(const char *name, uint64_t size, uint32_t mode,
				   uint64_t *id)
{
	struct shmr_create c;
	int ctl, fd;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_create(ctl, name, size, SHMR_CREATE_EXCL, mode, &c);
	close(ctl);
	if (fd < 0)
		return fd;
	close(fd);
	*id = c.id;
	return 0;
}

#endif /* SHMR_PERM_TESTS_H */
