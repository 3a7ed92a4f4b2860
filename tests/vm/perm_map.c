// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only handle cannot write through any mapping, for an unprivileged
 * user: not with mmap(PROT_WRITE), not with mprotect(), not by storing
 * through a read-only mapping, not with write(), not by reopening the fd
 * through /proc/self/fd; also not when the handle is inherited or received
 * over SCM_RIGHTS by a user who could not open the region at all. Not even
 * root through /proc/self/map_files of a read-only mapping. Root checks
 * afterwards that the region's bytes are unchanged.
 */
#include <sys/socket.h>

#include "shmr_test.h"

#define OWNER_UID	1000
#define OWNER_GID	1000
#define NPAGES		2

struct shared {
	char name[128];
	uint64_t id;
	uint32_t mode;
	int step;		/* last step the child reached */
};

static const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
static const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };

static int create_as_owner(void *arg)
{
	struct shared *sh = arg;
	struct shmr_create c;
	int ctl, fd;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_create(ctl, sh->name, NPAGES * (uint64_t)shmr_page_size(),
			 SHMR_CREATE_EXCL, sh->mode, &c);
	close(ctl);
	if (fd < 0)
		return fd;
	close(fd);
	sh->id = c.id;
	return 0;
}

static void store_byte(void *arg)
{
	*(volatile unsigned char *)arg = 0xee;
}

/*
 * Every way of writing through the read-only handle fd must fail. Returns 0
 * or the number of the step that let a write through (sh->step says which).
 */
static int try_all_writes(struct shared *sh, int fd)
{
	size_t len = NPAGES * (size_t)shmr_page_size();
	char path[64], byte = 1;
	unsigned char *p;
	int fd2;

	sh->step = 1;	/* the handle is read-only */
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return sh->step;
	sh->step = 2;	/* writable shared mapping refused */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EACCES)
		return sh->step;
	sh->step = 3;	/* write-only mapping refused */
	p = mmap(NULL, len, PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EACCES)
		return sh->step;
	sh->step = 4;	/* a read-only mapping works */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return sh->step;
	sh->step = 5;	/* mprotect to writable refused, whole and partial */
	if (mprotect(p, len, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		return sh->step;
	if (mprotect(p + len / 2, len / 2, PROT_WRITE) == 0 || errno != EACCES)
		return sh->step;
	sh->step = 6;	/* a store through the mapping faults */
	if (shmr_child_signal(store_byte, p) != SIGSEGV)
		return sh->step;
	sh->step = 7;	/* the mapping survives a fork read-only too */
	if (shmr_child_signal(store_byte, p + len - 1) != SIGSEGV)
		return sh->step;
	munmap(p, len);
	sh->step = 8;	/* write() refused */
	if (write(fd, &byte, 1) != -1 || errno != EBADF)
		return sh->step;
	sh->step = 9;	/* reopening through /proc is refused (-EACCES) */
	/*
	 * A process started as this user is dumpable and can open its own
	 * /proc/self/fd; the uid switch in shmr_become() cleared that.
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
		if (p != MAP_FAILED)
			p[0] = 0xee;	/* show it: root then finds the byte */
		return sh->step;
	}
	if (errno != EACCES)
		return sh->step;
	sh->step = 10;
	fd2 = open(path, O_WRONLY | O_CLOEXEC);
	if (fd2 >= 0 || errno != EACCES)
		return sh->step;
	sh->step = 11;	/* even read-only: the handle is the only way in */
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	if (fd2 >= 0 || errno != EACCES)
		return sh->step;
	sh->step = 0;
	return 0;
}

/* As the subject: open read-only (read-write must be refused), try writing. */
static int open_ro_and_try(void *arg)
{
	struct shared *sh = arg;
	struct shmr_open o;
	int ctl, fd, ret;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_open(ctl, sh->name, SHMR_OPEN_RDONLY, &o);
	if (fd < 0) {
		close(ctl);
		return fd;
	}
	ret = try_all_writes(sh, fd);
	close(fd);
	close(ctl);
	return ret;
}

FIXTURE(map) {
	struct shared *sh;
};

FIXTURE_SETUP(map)
{
	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid()) TH_LOG("the permission tests run as root");
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset(self->sh, 0, sizeof(*self->sh));
	shmr_test_name(self->sh->name, sizeof(self->sh->name), "perm_map");
}

FIXTURE_TEARDOWN(map)
{
	shmr_cleanup();
	munmap(self->sh, sizeof(*self->sh));
}

static void create_region(struct __test_metadata *_metadata,
			  FIXTURE_DATA(map) *self, uint32_t mode)
{
	self->sh->mode = mode;
	shmr_track(self->sh->name);
	ASSERT_EQ(0, shmr_run_as(&owner, create_as_owner, self->sh));
}

/* As root: the region's bytes are all still zero. */
static bool region_untouched(FIXTURE_DATA(map) *self)
{
	size_t len = NPAGES * (size_t)shmr_page_size();
	int ctl = shmr_ctl_open(), fd;
	bool ok = false;
	void *p;

	if (ctl < 0)
		return false;
	fd = shmr_open(ctl, self->sh->name, SHMR_OPEN_RDONLY, NULL);
	close(ctl);
	if (fd < 0)
		return false;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		ok = shmr_all_bytes(p, len, 0);
		munmap(p, len);
	}
	close(fd);
	return ok;
}

static int open_rw(void *arg)
{
	struct shared *sh = arg;
	int ctl, fd;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_open(ctl, sh->name, 0, NULL);
	close(ctl);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

TEST_F(map, other_read_only_handle)
{
	create_region(_metadata, self, 0604);
	EXPECT_EQ(-EACCES, shmr_run_as(&other, open_rw, self->sh));
	EXPECT_EQ(0, shmr_run_as(&other, open_ro_and_try, self->sh))
		TH_LOG("a write got through at step %d", self->sh->step);
	EXPECT_TRUE(region_untouched(self));
}

TEST_F(map, owner_read_only_handle)
{
	/* the owner could open read-write, but this handle is read-only */
	create_region(_metadata, self, 0600);
	EXPECT_EQ(0, shmr_run_as(&owner, open_ro_and_try, self->sh))
		TH_LOG("a write got through at step %d", self->sh->step);
	EXPECT_TRUE(region_untouched(self));
}

TEST_F(map, root_read_only_handle)
{
	const struct shmr_creds root = { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED };

	/* all capabilities do not make a read-only handle writable */
	create_region(_metadata, self, 0666);
	EXPECT_EQ(0, shmr_run_as(&root, open_ro_and_try, self->sh))
		TH_LOG("a write got through at step %d", self->sh->step);
	EXPECT_TRUE(region_untouched(self));
}

/* ---- a handle received from elsewhere ------------------------------------- */

struct recv_arg {
	struct shared *sh;
	int sock;
};

/* As a user with no access to the region: use the handle received. */
static int receive_and_try(void *arg)
{
	struct recv_arg *ra = arg;
	struct shmr_region_info info;
	int fd, ret;

	ret = open_rw(ra->sh);
	if (ret != -EACCES)
		return ret == 0 ? 1000 : ret;	/* this user must not open it */
	fd = shmr_recv_fd(ra->sock);
	if (fd < 0)
		return fd;
	if (shmr_stat_fd(fd, &info) || info.id != ra->sh->id) {
		close(fd);
		return 1001;
	}
	ret = try_all_writes(ra->sh, fd);
	close(fd);
	return ret;
}

TEST_F(map, received_read_only_handle)
{
	struct recv_arg ra = { .sh = self->sh };
	int sv[2], ctl, fd;

	create_region(_metadata, self, 0600);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ra.sock = sv[1];
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	fd = shmr_open(ctl, self->sh->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	/* queue the fd first; the receiver (run synchronously) picks it up */
	ASSERT_EQ(0, shmr_send_fd(sv[0], fd));
	close(fd);
	EXPECT_EQ(0, shmr_run_as(&other, receive_and_try, &ra))
		TH_LOG("a write got through at step %d", self->sh->step);
	close(sv[0]);
	close(sv[1]);
	close(ctl);
	EXPECT_TRUE(region_untouched(self));
}

static int inherited_try(void *arg)
{
	struct recv_arg *ra = arg;	/* sock is the inherited region fd here */
	int ret = try_all_writes(ra->sh, ra->sock);

	close(ra->sock);
	return ret;
}

TEST_F(map, inherited_read_only_handle)
{
	struct recv_arg ra = { .sh = self->sh };
	int ctl, fd;

	create_region(_metadata, self, 0600);
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	fd = shmr_open(ctl, self->sh->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	close(ctl);
	/* the child inherits fd and becomes a user with no access at all */
	ra.sock = fd;
	EXPECT_EQ(0, shmr_run_as(&other, inherited_try, &ra))
		TH_LOG("a write got through at step %d", self->sh->step);
	close(fd);
	EXPECT_TRUE(region_untouched(self));
}

/* ---- /proc/self/map_files ------------------------------------------------- */

struct mf {
	struct shared *sh;
	int err_rdwr, err_rdonly;	/* errno of each open, 0 if it opened */
	int ctl_err;			/* the memfd control: 0 if it opened */
};

static int map_files_open(void *addr, size_t len, int flags)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)addr, (unsigned long)addr + len);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Map the region read-only and open its map_files entry both ways. */
static int map_files_try(void *arg)
{
	size_t len = NPAGES * (size_t)shmr_page_size();
	struct mf *mf = arg;
	int ctl, fd, mfd;
	void *p, *q;

	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_open(ctl, mf->sh->name, SHMR_OPEN_RDONLY, NULL);
	close(ctl);
	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);	/* the mapping is all that is left */
	if (p == MAP_FAILED)
		return -errno;
	mf->err_rdwr = map_files_open(p, len, O_RDWR);
	mf->err_rdonly = map_files_open(p, len, O_RDONLY);
	munmap(p, len);
	/* control: a memfd's mapping reopens through the same path */
	mfd = memfd_create("perm_map", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)len))
		return -errno;
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, mfd, 0);
	close(mfd);
	if (q == MAP_FAILED)
		return -errno;
	mf->ctl_err = map_files_open(q, len, O_RDWR);
	munmap(q, len);
	return 0;
}

TEST_F(map, map_files_reopen_refused)
{
	/*
	 * /proc/PID/map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE)
	 * in the initial user ns; for root it opens the mapping's vm_file,
	 * the region's read-write map_file: the inode's i_fop must refuse.
	 */
	const struct shmr_creds root = { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED };
	struct mf *mf = mmap(NULL, sizeof(*mf), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, mf);
	memset(mf, 0, sizeof(*mf));
	mf->sh = self->sh;
	create_region(_metadata, self, 0644);
	ASSERT_EQ(0, shmr_run_as(&root, map_files_try, mf));
	EXPECT_EQ(0, mf->ctl_err) TH_LOG("root: a memfd via map_files");
	EXPECT_EQ(EACCES, mf->err_rdwr) TH_LOG("root: region O_RDWR via map_files");
	EXPECT_EQ(EACCES, mf->err_rdonly) TH_LOG("root: region O_RDONLY via map_files");
	/* without the capability proc refuses first, for any file */
	ASSERT_EQ(0, shmr_run_as(&other, map_files_try, mf));
	EXPECT_EQ(EPERM, mf->ctl_err) TH_LOG("other: a memfd via map_files");
	EXPECT_EQ(EPERM, mf->err_rdwr) TH_LOG("other: region O_RDWR via map_files");
	EXPECT_EQ(EPERM, mf->err_rdonly) TH_LOG("other: region O_RDONLY via map_files");
	munmap(mf, sizeof(*mf));
	EXPECT_TRUE(region_untouched(self));
}

TEST_HARNESS_MAIN
