// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The posix backend: named regions are POSIX shm objects "/shmr.NAME"
 * (files /dev/shm/shmr.NAME), or "/NAME" for a name given as "/NAME" (the
 * raw POSIX name, to share with shm_open() and Python's SharedMemory);
 * anonymous ones are memfds. It cannot know who is attached, and has no
 * huge pages, seals, events or exit records. Process-lifetime regions go
 * through the tracker helper (lib/tracker.c).
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
#include "tracker.h"

#define POSIX_PREFIX "shmr."
#define POSIX_DIR SHMR_SHM_DIR
/* NAME_MAX (255) minus the prefix */
#define POSIX_NAME_MAX (255 - (int)(sizeof(POSIX_PREFIX) - 1))
#define POSIX_PATH_MAX (sizeof(POSIX_DIR "/") + 255)

/* The file name in /dev/shm: "shmr.NAME", or NAME for a raw "/NAME". */
static int shm_file(const char *name, char *buf, size_t len)
{
	if (name[0] == '/') {
		snprintf(buf, len, "%s", name + 1);
		return 0;
	}
	if (strlen(name) > POSIX_NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(buf, len, POSIX_PREFIX "%s", name);
	return 0;
}

/* The name for shm_open(): "/" and the file name. */
static int shm_path(const char *name, char *buf, size_t len)
{
	buf[0] = '/';
	return shm_file(name, buf + 1, len - 1);
}

void shmr__posix_probe(void)
{
	if (shmr__tracker_probe())
		shmr__backend_posix.features &= ~SHMR_FEATURE_PROCESS;
	else
		shmr__backend_posix.features |= SHMR_FEATURE_PROCESS;
}

static uint64_t page_round(uint64_t size)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	if (size > UINT64_MAX - pg)
		return 0;
	return (size + pg - 1) & ~(pg - 1);
}

/* Open an existing named region for create-or-open: at least size bytes. */
static int open_existing(const char *path, uint64_t size)
{
	struct stat st;
	int fd, err;

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
	return fd;
}

/* Give an unnamed O_TMPFILE file its name; -EEXIST if the name exists. */
static int link_tmpfile(int fd, const char *file)
{
	char proc[64], path[sizeof(POSIX_DIR) + POSIX_PATH_MAX];

	snprintf(path, sizeof(path), POSIX_DIR "/%s", file);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* no /proc: this way needs CAP_DAC_READ_SEARCH */
	return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) ? -errno : 0;
}

/*
 * An O_TMPFILE fd keeps the name it was made with ("/dev/shm/#INODE
 * (deleted)") in /proc/PID/fd and /proc/PID/maps after linkat(): open the
 * file again by its new name, so that those, lsof and shmrctl's users see
 * the region's name. If the name no longer leads to this file (unlinked
 * and made again in between), keep the fd we have.
 */
static int reopen_named(int fd, const char *file)
{
	char path[sizeof(POSIX_DIR) + POSIX_PATH_MAX];
	struct stat a, b;
	int fd2;

	snprintf(path, sizeof(path), POSIX_DIR "/%s", file);
	fd2 = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd2 < 0)
		return fd;
	if (fstat(fd, &a) || fstat(fd2, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd2);
		return fd;
	}
	close(fd);
	return fd2;
}

/*
 * A PROCESS region: the file is made without a name (O_TMPFILE), sized,
 * registered with the tracker by its fd, and only then linked under its
 * name, which fails if the name exists (EXCL for free). A creator killed at
 * any point leaves either no name or a name the tracker knows: there is no
 * moment where the file is visible but not registered. Returns the fd, or
 * -EEXIST (the caller may open the existing region), or -errno.
 */
static int create_process(const char *file, uint64_t size, uint32_t mode)
{
	int fd, err;

	fd = open(POSIX_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EISDIR ? -EOPNOTSUPP : -errno;	/* EISDIR: no O_TMPFILE */
	if (fchmod(fd, mode) || ftruncate(fd, (off_t)size)) {
		err = -errno;
		close(fd);
		return err == -EFBIG ? -EINVAL : err;
	}
	err = shmr__tracker_register(fd, file);
	if (err) {
		close(fd);
		return err;
	}
	err = link_tmpfile(fd, file);
	if (err) {
		/* registered but never named: let the tracker forget it */
		shmr__tracker_unregister(file);
		close(fd);
		return err;
	}
	return reopen_named(fd, file);
}

static int posix_create(struct shmr_region *r, uint64_t size, uint32_t mode, uint32_t flags)
{
	int cloexec = (flags & SHMR_REGION_NOCLOEXEC) ? 0 : O_CLOEXEC;
	char path[POSIX_PATH_MAX];
	bool created = true;
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
	if (flags & SHMR_REGION_PROCESS) {
		fd = create_process(path + 1, size, mode);
	} else {
		/* shm_open() always sets FD_CLOEXEC; cleared below if asked */
		fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, mode);
		if (fd >= 0 && (fchmod(fd, mode) || ftruncate(fd, (off_t)size))) {
			err = -errno;
			shm_unlink(path);
			close(fd);
			return err == -EFBIG ? -EINVAL : err;
		}
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0) {
		/* an existing region of that name is opened, as it is, PROCESS or not */
		if (fd != -EEXIST || (flags & SHMR_REGION_EXCL))
			return fd;
		fd = open_existing(path, size);
		if (fd < 0)
			return fd;
		created = false;
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
	if (created && (flags & SHMR_REGION_PROCESS))
		r->flags |= SHMR__PROCESS;
	return 0;
}

static int posix_open(struct shmr_region *r, uint32_t flags)
{
	char path[POSIX_PATH_MAX];
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

/* shm_open() + fstat() + mmap() + close(): the mapping keeps the object. */
static int posix_attach(const char *name, uint32_t flags, void **addr, uint64_t *size,
			uint64_t *id)
{
	bool ro = flags & SHMR_REGION_RDONLY;
	char path[POSIX_PATH_MAX];
	struct stat st;
	int fd, err = 0;
	void *p;

	err = shm_path(name, path, sizeof(path));
	if (err)
		return err;
	fd = shm_open(path, ro ? O_RDONLY : O_RDWR, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
	} else if (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
		err = -EINVAL;	/* an empty POSIX object made by someone else */
	} else {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | (ro ? 0 : PROT_WRITE), MAP_SHARED,
			 fd, 0);
		if (p == MAP_FAILED) {
			err = -errno;
		} else {
			*addr = p;
			*size = (uint64_t)st.st_size;
			*id = (uint64_t)st.st_ino;
		}
	}
	close(fd);
	return err;
}

static int posix_unlink(const char *name)
{
	char path[POSIX_PATH_MAX];
	int err = shm_path(name, path, sizeof(path));

	if (err)
		return err;
	if (shm_unlink(path))
		return -errno;
	/* a PROCESS region unlinked in time is no longer the tracker's business */
	shmr__tracker_unregister(path + 1);
	return 0;
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
	char path[POSIX_PATH_MAX];
	struct stat s, s2;

	if (fstat(r->fd, &s))
		return -errno;
	fill_stat(&s, st);
	snprintf(st->name, sizeof(st->name), "%s", r->name);
	if (r->flags & SHMR__ANON) {
		st->flags |= SHMR_STAT_ANON;
		return 0;
	}
	/* only the creator's handle knows: the file carries no such mark */
	if (r->flags & SHMR__PROCESS)
		st->flags |= SHMR_STAT_PROCESS;
	/* unlinked: the name is gone or names another object */
	memcpy(path, POSIX_DIR "/", sizeof(POSIX_DIR "/"));
	if (shm_file(r->name, path + sizeof(POSIX_DIR), sizeof(path) - sizeof(POSIX_DIR)) ||
	    stat(path, &s2) || s2.st_ino != s.st_ino || s2.st_dev != s.st_dev)
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

struct shmr__backend shmr__backend_posix = {
	.kind = SHMR_BACKEND_POSIX,
	.name = "posix",
	.features = SHMR_FEATURE_NAMED | SHMR_FEATURE_ANON,	/* | PROCESS: shmr__posix_probe() */
	.create = posix_create,
	.open = posix_open,
	.attach = posix_attach,
	.unlink = posix_unlink,
	.stat = posix_stat,
	.stat_id = posix_stat_id,
	.list = posix_list,
	.adopt = posix_adopt,
};
