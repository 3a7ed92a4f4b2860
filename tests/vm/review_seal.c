// SPDX-License-Identifier: GPL-2.0
/*
 * review_seal: sealing (issue 14, items 5 and 8).
 *
 * Pins. A writable mapping whose pages are pinned (pin_user_pages():
 * io_uring fixed buffers, AF_XDP umems, O_DIRECT in flight) can write the
 * region through the pin after munmap() and after its handle is closed, so
 * SEAL must fail with -EBUSY while any page carries a pin, as F_SEAL_WRITE
 * does on a memfd, and succeed once the pin is gone. Two long-term pins are
 * used: an AF_XDP umem (every supported kernel pins a region mapping for
 * it), and an io_uring fixed buffer, the case found in review, where the
 * write through the pin is shown (6.1's io_uring refuses file mappings
 * other than shmem's own and SysV's: skipped there with that reason).
 *
 * Events. SEALED reaches every handle of the region but the one SEAL was
 * called on, in the sealing process too (item 8).
 */
#include "shmr_test.h"
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <liburing.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

FIXTURE(seal) {
	int ctl;
	long pg;
	char name[96];
};

FIXTURE_SETUP(seal)
{
	SHMR_REQUIRE_DEVICE();
	self->pg = shmr_page_size();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	shmr_test_name(self->name, sizeof(self->name), "review_seal");
}

FIXTURE_TEARDOWN(seal)
{
	shmr_cleanup();
	close(self->ctl);
}

static int seal(int fd)
{
	struct shmr_seal s = { .seals = SHMR_SEAL_WRITE };

	return shmr_ioctl(fd, SHMR_IOC_SEAL, &s);
}

static bool sealed(int fd)
{
	struct shmr_region_info info;

	return !shmr_stat_fd(fd, &info) && (info.flags & SHMR_INFO_SEALED);
}

static uint32_t take_events(int fd)
{
	struct shmr_events e;

	memset(&e, 0, sizeof(e));
	if (shmr_ioctl(fd, SHMR_IOC_EVENTS, &e))
		return ~0U;
	return e.events;
}

/*
 * A named region of @len bytes filled with 'A' through a writable mapping
 * that is returned in *@map; its creating handle is closed. Returns a
 * second read-write handle (the one that will seal).
 */
static int region_mapped(struct __test_metadata *_metadata,
			 FIXTURE_DATA(seal) *self, long len, char **map)
{
	int fd, fd2;
	char *p;

	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_EXCL, 0600, NULL);
	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	memset(p, 'A', len);
	fd2 = shmr_open(self->ctl, self->name, 0, NULL);
	close(fd);
	*map = p;
	return fd2;
}

/* ---- AF_XDP umem: a long-term pin on every supported kernel --------------- */

/* An AF_XDP socket whose umem is [p, p + len): the pages are pinned. */
static int xdp_pin(void *p, long len)
{
	struct xdp_umem_reg mr;
	int sk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return -errno;
	memset(&mr, 0, sizeof(mr));
	mr.addr = (uintptr_t)p;
	mr.len = len;
	mr.chunk_size = 2048;
	if (setsockopt(sk, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr))) {
		int err = -errno;

		close(sk);
		return err;
	}
	return sk;
}

TEST_F(seal, busy_while_pinned_by_xdp_umem)
{
	long len = 4 * self->pg;
	int fd, sk, other;
	char *p;

	fd = region_mapped(_metadata, self, len, &p);
	ASSERT_LE(0, fd);
	other = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, other);
	sk = xdp_pin(p, len);
	if (sk == -EAFNOSUPPORT)
		SKIP(return, "no AF_XDP in this kernel");
	ASSERT_LE(0, sk) TH_LOG("AF_XDP umem over a region mapping: %s",
				strerror(-sk));
	/* the writable mapping and the handle that made it are gone */
	ASSERT_EQ(0, munmap(p, len));

	EXPECT_EQ(-EBUSY, seal(fd)) TH_LOG("SEAL while the pages are pinned");
	EXPECT_FALSE(sealed(fd));
	/* a refused SEAL tells nobody */
	EXPECT_EQ(0U, take_events(other));
	/* still unsealed: a writable mapping may be made */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, len);

	/* the umem is released after the socket (deferred work) */
	close(sk);
	EXPECT_TRUE(shmr_wait_until(seal(fd) == 0));
	EXPECT_TRUE(sealed(fd));
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, take_events(other));
	close(other);
	close(fd);
}

/* ---- io_uring fixed buffer: the case found in review ---------------------- */

/* Does io_uring take a SysV shm mapping as a fixed buffer? */
static int sysv_fixed(long len)
{
	struct iovec iov;
	struct io_uring ring;
	int id, ret;
	void *s;

	id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	if (id < 0)
		return -errno;
	s = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	if (s == (void *)-1)
		return -errno;
	iov.iov_base = s;
	iov.iov_len = len;
	ret = io_uring_queue_init(2, &ring, 0);
	if (!ret) {
		ret = io_uring_register_buffers(&ring, &iov, 1);
		io_uring_queue_exit(&ring);
	}
	shmdt(s);
	return ret;
}

/* READ_FIXED of @n bytes from a pipe holding them into the fixed buffer @p. */
static int read_fixed(struct io_uring *ring, void *p, const char *bytes,
		      unsigned int n)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int pfd[2], ret;

	if (pipe(pfd))
		return -errno;
	if (write(pfd[1], bytes, n) != (ssize_t)n) {
		ret = -EIO;
		goto out;
	}
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_read_fixed(sqe, pfd[0], p, n, 0, 0);
	ret = io_uring_submit(ring);
	if (ret != 1) {
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	ret = io_uring_wait_cqe(ring, &cqe);
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
out:
	close(pfd[0]);
	close(pfd[1]);
	return ret;
}

TEST_F(seal, busy_while_fixed_buffer)
{
	long len = 4 * self->pg;
	struct io_uring ring;
	struct iovec iov;
	int fd, rfd, ret;
	char *p, *view;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		SKIP(return, "io_uring unavailable (%d)", ret);
	fd = region_mapped(_metadata, self, len, &p);
	ASSERT_LE(0, fd);
	iov.iov_base = p;
	iov.iov_len = len;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret == -EOPNOTSUPP && sysv_fixed(len) == -EOPNOTSUPP) {
		io_uring_queue_exit(&ring);
		munmap(p, len);
		close(fd);
		SKIP(return, "this kernel's io_uring takes no fixed buffer in a file mapping but shmem's own (SysV shm neither); the AF_XDP test covers the pin");
	}
	ASSERT_EQ(0, ret) TH_LOG("region mapping as a fixed buffer");
	ASSERT_EQ(0, munmap(p, len));

	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	view = mmap(NULL, len, PROT_READ, MAP_SHARED, rfd, 0);
	ASSERT_NE(MAP_FAILED, view);
	close(rfd);

	ret = seal(fd);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("SEAL with a fixed buffer registered");
	if (ret == 0) {
		/* what review found: the sealed region written through the pin */
		EXPECT_EQ(6, read_fixed(&ring, p, "sealed", 6));
		EXPECT_TRUE(shmr_all_bytes(view, len, 'A'))
			TH_LOG("sealed region written through the fixed buffer");
	} else {
		EXPECT_FALSE(sealed(fd));
		/* not sealed: the pin still writes, as it may */
		EXPECT_EQ(5, read_fixed(&ring, p, "fixed", 5));
		EXPECT_EQ(0, memcmp(view, "fixed", 5));
		/* unpinned (maybe after the ring's deferred put): SEAL works */
		ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
		io_uring_queue_exit(&ring);
		EXPECT_TRUE(shmr_wait_until(seal(fd) == 0));
		EXPECT_TRUE(sealed(fd));
	}
	munmap(view, len);
	close(fd);
	if (ret == 0)
		io_uring_queue_exit(&ring);
}

/* Unpinned pages that are merely mapped, read-only or writable, do not block SEAL. */
TEST_F(seal, mapped_pages_do_not_block)
{
	long len = 8 * self->pg;
	int fd, rfd;
	char *p, *r;

	fd = region_mapped(_metadata, self, len, &p);
	ASSERT_LE(0, fd);
	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	r = mmap(NULL, len, PROT_READ, MAP_SHARED, rfd, 0);
	ASSERT_NE(MAP_FAILED, r);
	EXPECT_EQ('A', r[len - 1]);
	EXPECT_EQ(0, seal(fd));
	EXPECT_TRUE(sealed(fd));
	/* the writable mapping made before SEAL keeps writing */
	p[0] = 'B';
	EXPECT_EQ('B', r[0]);
	munmap(r, len);
	munmap(p, len);
	close(rfd);
	close(fd);
}

/* ---- SEALED events ----------------------------------------------------------- */

/*
 * Handles: fd (seals), fd_dup (dup of fd: the same handle), fd2 and fd3
 * (other handles in the sealing process), and one in a child. Every handle
 * but fd's gets SEALED, once.
 */
TEST_F(seal, sealed_event_every_other_handle)
{
	int fd, fd_dup, fd2, fd3, go[2], res[2];
	uint32_t ev = 0;
	pid_t pid;
	int status;
	char c;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	fd_dup = dup(fd);
	ASSERT_LE(0, fd_dup);
	fd2 = shmr_open(self->ctl, self->name, 0, NULL);
	ASSERT_LE(0, fd2);
	fd3 = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY,
				    NULL);
		struct pollfd pfd = { .fd = cfd, .events = POLLIN };

		if (cfd < 0)
			_exit(1);
		if (write(res[1], "r", 1) != 1)
			_exit(2);
		if (poll(&pfd, 1, SHMR_WAIT_SECONDS * 1000) != 1)
			_exit(3);
		ev = take_events(cfd);
		if (write(res[1], &ev, sizeof(ev)) != sizeof(ev))
			_exit(4);
		/* stay attached (no DETACHED) until the parent is done */
		if (read(go[0], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(1, read(res[0], &c, 1));
	ASSERT_EQ(0, seal(fd));
	ASSERT_EQ((ssize_t)sizeof(ev), read(res[0], &ev, sizeof(ev)));
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, ev) TH_LOG("the child's handle");
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, take_events(fd2))
		TH_LOG("another read-write handle of the sealing process");
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, take_events(fd3))
		TH_LOG("a read-only handle of the sealing process");
	EXPECT_EQ(0U, take_events(fd)) TH_LOG("the sealing handle");
	EXPECT_EQ(0U, take_events(fd_dup)) TH_LOG("its dup: the same handle");
	/* sealing again changes nothing and tells nobody */
	EXPECT_EQ(0, seal(fd2));
	EXPECT_EQ(0U, take_events(fd));
	EXPECT_EQ(0U, take_events(fd3));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	close(go[0]);
	close(go[1]);
	close(res[0]);
	close(res[1]);
	close(fd3);
	close(fd2);
	close(fd_dup);
	close(fd);
}

/* Sealed from another process: every handle here gets SEALED. */
TEST_F(seal, sealed_event_from_another_process)
{
	int fd, fd2, status;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	fd2 = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd2);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = shmr_open(self->ctl, self->name, 0, NULL);

		_exit(cfd < 0 ? 1 : seal(cfd) ? 2 : take_events(cfd) ? 3 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, take_events(fd) & SHMR_EV_SEALED);
	EXPECT_EQ((uint32_t)SHMR_EV_SEALED, take_events(fd2) & SHMR_EV_SEALED);
	close(fd2);
	close(fd);
}

TEST_HARNESS_MAIN
