// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_uring: the commands submitted through io_uring (IORING_OP_URING_CMD,
 * cmd_op = SHMR_IOC_*, the struct pointer in the SQE command area) run the
 * same handlers and validation as ioctl().
 */
#include "shmr_test.h"
#include <liburing.h>

static int uring_cmd(struct io_uring *ring, int fd, unsigned int op, void *arg)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	uint64_t ptr = (uintptr_t)arg;
	int ret;

	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &ptr, sizeof(ptr));
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

FIXTURE(uring) {
	int ctl;
	long pg;
	struct io_uring ring;
	char name[64];
};

FIXTURE_SETUP(uring)
{
	struct shmr_features f;
	int ret;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "kmod_uring");
	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	ASSERT_TRUE(!!(f.features & SHMR_FEAT_URING_CMD));
	ret = io_uring_queue_init(8, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(_exit(255), "io_uring unavailable (%d)", ret);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	shmr_cleanup();
	close(self->ctl);
}

TEST_F(uring, features)
{
	struct shmr_features f;

	memset(&f, 0, sizeof(f));
	ASSERT_EQ(0, uring_cmd(&self->ring, self->ctl, SHMR_IOC_FEATURES, &f));
	EXPECT_EQ((uint32_t)SHMR_ABI_VERSION, f.abi_version);
	EXPECT_TRUE(!!(f.features & SHMR_FEAT_URING_CMD));
	f.flags = 1;
	EXPECT_EQ(-EINVAL, uring_cmd(&self->ring, self->ctl, SHMR_IOC_FEATURES,
				     &f));
}

TEST_F(uring, create_stat_unlink)
{
	struct shmr_attach_info a[2];
	struct shmr_create c;
	struct shmr_unlink u;
	struct shmr_stat s;
	unsigned char *p;

	memset(&c, 0, sizeof(c));
	c.name = (uintptr_t)shmr_track(self->name);
	c.size = self->pg;
	c.flags = SHMR_CREATE_EXCL;
	c.mode = 0600;
	ASSERT_EQ(0, uring_cmd(&self->ring, self->ctl, SHMR_IOC_CREATE, &c));
	ASSERT_LE(0, c.fd);
	EXPECT_EQ(SHMR_RESULT_CREATED, c.result);
	EXPECT_EQ(FD_CLOEXEC, fcntl(c.fd, F_GETFD) & FD_CLOEXEC);
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;

	/* on the region fd, with the attach list: attributed to us */
	memset(&s, 0, sizeof(s));
	s.attach = (uintptr_t)a;
	s.attach_cap = 2;
	ASSERT_EQ(0, uring_cmd(&self->ring, c.fd, SHMR_IOC_STAT, &s));
	EXPECT_EQ(c.id, s.info.id);
	EXPECT_STREQ(self->name, s.info.name);
	ASSERT_EQ(1U, s.attach_count);
	EXPECT_EQ(getpid(), a[0].pid);
	EXPECT_EQ(1U, a[0].handles);
	EXPECT_EQ(1U, a[0].mappings);
	/* the same validation */
	s.flags = 1;
	EXPECT_EQ(-EINVAL, uring_cmd(&self->ring, c.fd, SHMR_IOC_STAT, &s));
	/* the same fd rules */
	EXPECT_EQ(-ENOTTY, uring_cmd(&self->ring, c.fd, SHMR_IOC_LIST, &s));
	EXPECT_EQ(-ENOTTY, uring_cmd(&self->ring, self->ctl,
				     _IOWR(SHMR_IOC_MAGIC, 0x7f, struct shmr_stat),
				     &s));
	EXPECT_EQ(-EFAULT, uring_cmd(&self->ring, self->ctl, SHMR_IOC_CREATE,
				     (void *)8));

	memset(&u, 0, sizeof(u));
	u.name = (uintptr_t)self->name;
	EXPECT_EQ(0, uring_cmd(&self->ring, self->ctl, SHMR_IOC_UNLINK, &u));
	EXPECT_EQ(-ENOENT, uring_cmd(&self->ring, self->ctl, SHMR_IOC_UNLINK, &u));
	munmap(p, self->pg);
	close(c.fd);
}

TEST_HARNESS_MAIN
