// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The posix backend: named regions are POSIX shm objects "/shmr.NAME"
 * (files /dev/shm/shmr.NAME), anonymous ones memfds. It cannot know who is
 * attached, and has no process-lifetime regions, huge pages, seals, events
 * or exit records.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region.h"

#define POSIX_PREFIX "shmr."
#define POSIX_DIR "/dev/shm"
/* NAME_MAX (255) minus the prefix */
#define POSIX_NAME_MAX (255 - (int)(sizeof(POSIX_PREFIX) - 1))

static int shm_path(const char *name, char *buf, size_t len)
{
	if (strlen(name) > POSIX_NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(buf, len, "/" POSIX_PREFIX "%s", name);
	return 0;
}

static uint64_t page_round(uint64_t size)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	if (size > UINT64_MAX - pg)
		return 0;
	return (size + pg - 1) & ~(pg - 1);
}

static int posix_create(struct shmr_region *r, uint64_t size, uint32_t mode, uint32_t flags)
{
	int cloexec = (flags & SHMR_REGION_NOCLOEXEC) ? 0 : O_CLOEXEC;
	char path[300];
	struct stat st;
	int fd, err;

	size = page_round(size);
	if (!size || size > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (!r->name[0]) {
		fd = memfd_create("shmr", cloexec ? MFD_CLOEXEC : 0);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)size)) {
			err = -errno;
			close(fd);
			return err == -EFBIG ? -EINVAL : err;
		}
		/* no fstat on this hot path: the id (inode) is filled on demand */
		r->fd = fd;
		r->size = size;
		r->id = 0;
		return 0;
	}
	err = shm_path(r->name, path, sizeof(path));
	if (err)
		return err;
	/* shm_open() always sets FD_CLOEXEC; clear it below if asked */
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, mode);
	if (fd >= 0) {
		if (fchmod(fd, mode) || ftruncate(fd, (off_t)size)) {
			err = -errno;
			shm_unlink(path);
			close(fd);
			return err == -EFBIG ? -EINVAL : err;
		}
	} else {
		err = -errno;
		if (err != -EEXIST || (flags & SHMR_REGION_EXCL))
			return err;
		fd = shm_open(path, O_RDWR, 0);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st)) {
			err = -errno;
			close(fd);
			return err;
		}
		if ((uint64_t)st.st_size < size) {
			close(fd);
			return -EINVAL;
		}
	}
	if (!cloexec && fcntl(fd, F_SETFD, 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	r->fd = fd;
	r->size = (uint64_t)st.st_size;
	r->id = (uint64_t)st.st_ino;
	return 0;
}

static int posix_open(struct shmr_region *r, uint32_t flags)
{
	char path[300];
	struct stat st;
	int fd, err;

	err = shm_path(r->name, path, sizeof(path));
	if (err)
		return err;
	fd = shm_open(path, (flags & SHMR_REGION_RDONLY) ? O_RDONLY : O_RDWR, 0);
	if (fd < 0)
		return -errno;
	if (((flags & SHMR_REGION_NOCLOEXEC) && fcntl(fd, F_SETFD, 0)) || fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	r->fd = fd;
	r->size = (uint64_t)st.st_size;
	r->id = (uint64_t)st.st_ino;
	return 0;
}

static int posix_unlink(const char *name)
{
	char path[300];
	int err = shm_path(name, path, sizeof(path));

	if (err)
		return err;
	return shm_unlink(path) ? -errno : 0;
}

static void fill_stat(const struct stat *s, struct shmr_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->id = (uint64_t)s->st_ino;
	st->size = (uint64_t)s->st_size;
	st->ctime_ns = (uint64_t)s->st_ctim.tv_sec * 1000000000ULL + (uint64_t)s->st_ctim.tv_nsec;
	st->uid = s->st_uid;
	st->gid = s->st_gid;
	st->mode = s->st_mode & 0777;
	st->handles = SHMR_COUNT_UNKNOWN;
	st->mappings = SHMR_COUNT_UNKNOWN;
	st->nattach = SHMR_COUNT_UNKNOWN;
}

static int posix_stat(const struct shmr_region *r, struct shmr_region_stat *st)
{
	char path[300];
	struct stat s, s2;

	if (fstat(r->fd, &s))
		return -errno;
	fill_stat(&s, st);
	snprintf(st->name, sizeof(st->name), "%s", r->name);
	if (r->flags & SHMR__ANON) {
		st->flags |= SHMR_STAT_ANON;
		return 0;
	}
	/* unlinked: the name is gone or names another object */
	snprintf(path, sizeof(path), POSIX_DIR "/" POSIX_PREFIX "%s", r->name);
	if (stat(path, &s2) || s2.st_ino != s.st_ino || s2.st_dev != s.st_dev)
		st->flags |= SHMR_STAT_UNLINKED;
	return 0;
}

/* creation order, like the module's list: ctime, then inode */
static int by_ctime(const void *a, const void *b)
{
	const struct shmr_region_stat *x = a, *y = b;

	if (x->ctime_ns != y->ctime_ns)
		return x->ctime_ns < y->ctime_ns ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int posix_list(struct shmr_region_stat *out, size_t cap)
{
	size_t plen = sizeof(POSIX_PREFIX) - 1;
	struct dirent *de;
	size_t count = 0;
	struct stat s;
	DIR *d;

	d = opendir(POSIX_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, POSIX_PREFIX, plen) || !de->d_name[plen])
			continue;
		if (fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) || !S_ISREG(s.st_mode))
			continue;
		if (count < cap) {
			fill_stat(&s, &out[count]);
			snprintf(out[count].name, sizeof(out[count].name), "%s", de->d_name + plen);
		}
		count++;
	}
	closedir(d);
	if (out && cap)
		qsort(out, count < cap ? count : cap, sizeof(*out), by_ctime);
	return count > INT32_MAX ? INT32_MAX : (int)count;
}

static int posix_stat_id(uint64_t id, struct shmr_region_stat *st)
{
	struct shmr_region_stat *all = NULL;
	int n, i, cap = 0;

	for (;;) {
		n = posix_list(all, (size_t)cap);
		if (n < 0 || n <= cap)
			break;
		cap = n + 8;
		free(all);
		all = calloc((size_t)cap, sizeof(*all));
		if (!all)
			return -ENOMEM;
	}
	for (i = 0; n > 0 && i < n; i++) {
		if (all[i].id == id) {
			*st = all[i];
			free(all);
			return 0;
		}
	}
	free(all);
	return n < 0 ? n : -ENOENT;
}

static int posix_adopt(struct shmr_region *r)
{
	struct stat st;

	if (fstat(r->fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	r->size = (uint64_t)st.st_size;
	r->id = (uint64_t)st.st_ino;
	return 0;
}

const struct shmr__backend shmr__backend_posix = {
	.kind = SHMR_BACKEND_POSIX,
	.name = "posix",
	.features = SHMR_FEATURE_NAMED | SHMR_FEATURE_ANON,
	.create = posix_create,
	.open = posix_open,
	.unlink = posix_unlink,
	.stat = posix_stat,
	.stat_id = posix_stat_id,
	.list = posix_list,
	.adopt = posix_adopt,
};
