// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl transport: FEATURES; each command on the wrong kind of fd;
 * unknown command numbers, magic and direction; the extensible-struct size
 * rules for every command (smaller -> EINVAL, larger with a non-zero tail
 * -> E2BIG, larger with a zero tail -> accepted); a NULL argument; and the
 * validation of SEAL, EVENTS and EXITED (flags, reserved words).
 */
#include "shmr_test.h"

FIXTURE(misc) {
	int ctl;
	int fd;			/* named region, read-write */
	uint64_t pg;
	uint64_t id;
	char name[128];
};

FIXTURE_SETUP(misc)
{
	struct shmr_create c;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "abi_misc");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			       SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, self->fd);
	self->id = c.id;
}

FIXTURE_TEARDOWN(misc)
{
	shmr_cleanup();
	close(self->fd);
	close(self->ctl);
}

/* ---- FEATURES ------------------------------------------------------------ */

static void check_features(struct __test_metadata *_metadata,
			   const struct shmr_features *f)
{
	const uint64_t known = (SHMR_FEAT_ATTACH_NOFD << 1) - 1;

	EXPECT_EQ(0U, f->flags);
	EXPECT_EQ((uint32_t)SHMR_ABI_VERSION, f->abi_version);
	EXPECT_EQ(1U, f->abi_version);
	/*
	 * Huge pages need CONFIG_TRANSPARENT_HUGEPAGE, which PREEMPT_RT
	 * kernels (6.12-rt) lack: then neither the feature nor the flag.
	 */
	if (f->features & SHMR_FEAT_HUGE) {
		EXPECT_EQ((uint64_t)SHMR_CREATE_ALL, f->create_flags);
	} else {
		EXPECT_EQ((uint64_t)(SHMR_CREATE_ALL & ~SHMR_CREATE_HUGE),
			  f->create_flags);
	}
	EXPECT_EQ((uint64_t)SHMR_OPEN_ALL, f->open_flags);
	/* no bits the header does not define */
	EXPECT_EQ(0ULL, (unsigned long long)(f->features & ~known));
	/* what this module is specified to have (issue 3) */
	EXPECT_EQ((uint64_t)(SHMR_FEAT_NAMED | SHMR_FEAT_ANON | SHMR_FEAT_ATTACH |
			     SHMR_FEAT_PROCESS | SHMR_FEAT_SEAL |
			     SHMR_FEAT_EVENTS | SHMR_FEAT_EXITED | SHMR_FEAT_IPC_NS |
			     SHMR_FEAT_NSCHECK | SHMR_FEAT_ATTACH_NOFD),
		  f->features & ~(uint64_t)(SHMR_FEAT_URING_CMD | SHMR_FEAT_HUGE));
	EXPECT_NE(0ULL, (unsigned long long)f->max_region_size);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, (unsigned long long)f->max_region_size);
	EXPECT_NE(0ULL, (unsigned long long)f->max_regions);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, (unsigned long long)f->max_regions);
	EXPECT_NE(0ULL, (unsigned long long)f->max_user_bytes);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, (unsigned long long)f->max_user_bytes);
	EXPECT_NE(0ULL, (unsigned long long)f->max_user_regions);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, (unsigned long long)f->max_user_regions);
	EXPECT_TRUE(shmr_all_bytes(f->reserved, sizeof(f->reserved), 0));
}

TEST_F(misc, features_control_fd)
{
	struct shmr_features f;

	/* everything but the input flags pre-filled with 0xA5 */
	shmr_fill_a5(&f, sizeof(f));
	f.flags = 0;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_FEATURES, &f));
	check_features(_metadata, &f);
}

TEST_F(misc, features_region_fd)
{
	struct shmr_features f, f2;
	int ro;

	shmr_fill_a5(&f, sizeof(f));
	f.flags = 0;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_FEATURES, &f));
	check_features(_metadata, &f);
	ASSERT_EQ(0, shmr_features(self->ctl, &f2));
	EXPECT_EQ(0, memcmp(&f, &f2, sizeof(f)));

	ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, shmr_features(ro, &f2));
	EXPECT_EQ(0, memcmp(&f, &f2, sizeof(f)));
	close(ro);
}

TEST_F(misc, features_flags_nonzero)
{
	struct shmr_features f;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&f, 0, sizeof(f));
		f.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_FEATURES, &f))
			TH_LOG("control fd, bit %d", bit);
		memset(&f, 0, sizeof(f));
		f.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_FEATURES, &f))
			TH_LOG("region fd, bit %d", bit);
	}
	memset(&f, 0, sizeof(f));
	f.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_FEATURES, &f));
}

/* ---- commands, fds and sizes ---------------------------------------------- */

/*
 * One command with a valid argument for it. prep() fills buf (zeroed, at
 * least the v1 size) and returns the fd to issue it on; done() undoes a
 * successful call.
 */
struct cmd {
	const char *name;
	unsigned int nr;
	unsigned int dir;
	size_t size;		/* the struct as this header has it */
	size_t ver0;		/* its first version: the least the module takes */
	int (*prep)(FIXTURE_DATA(misc) *self, void *buf);
	void (*done)(FIXTURE_DATA(misc) *self, void *buf);
};

static int prep_ctl(FIXTURE_DATA(misc) *self, void *buf)
{
	(void)buf;
	return self->ctl;
}

static int prep_region(FIXTURE_DATA(misc) *self, void *buf)
{
	(void)buf;
	return self->fd;
}

static int prep_create(FIXTURE_DATA(misc) *self, void *buf)
{
	struct shmr_create *c = buf;

	c->size = self->pg;
	c->mode = 0600;
	return self->ctl;
}

static void done_create(FIXTURE_DATA(misc) *self, void *buf)
{
	(void)self;
	close(((struct shmr_create *)buf)->fd);
}

static int prep_open(FIXTURE_DATA(misc) *self, void *buf)
{
	((struct shmr_open *)buf)->name = (uintptr_t)self->name;
	return self->ctl;
}

static void done_open(FIXTURE_DATA(misc) *self, void *buf)
{
	(void)self;
	close(((struct shmr_open *)buf)->fd);
}

static int prep_unlink(FIXTURE_DATA(misc) *self, void *buf)
{
	((struct shmr_unlink *)buf)->name = (uintptr_t)self->name;
	return self->ctl;
}

static void done_unlink(FIXTURE_DATA(misc) *self, void *buf)
{
	int fd;

	(void)buf;
	/* put a region back under the name for the next call */
	fd = shmr_create(self->ctl, self->name, self->pg, 0, 0600, NULL);
	if (fd >= 0)
		close(fd);
}

static int prep_seal(FIXTURE_DATA(misc) *self, void *buf)
{
	(void)self;
	/* a fresh region each time: sealing the fixture's would change it */
	((struct shmr_seal *)buf)->seals = SHMR_SEAL_WRITE;
	return shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
}

static int prep_attach(FIXTURE_DATA(misc) *self, void *buf)
{
	((struct shmr_attach_req *)buf)->name = (uintptr_t)self->name;
	return self->ctl;
}

static void done_attach(FIXTURE_DATA(misc) *self, void *buf)
{
	struct shmr_attach_req *a = buf;

	(void)self;
	munmap((void *)(uintptr_t)a->addr, a->size);
}

#define CMD(n, d, s, p, dn) \
	{ #n, _IOC_NR(SHMR_IOC_##n), d, sizeof(struct s), SHMR_##n##_SIZE_VER0, p, dn }
static const struct cmd cmds[] = {
	CMD(FEATURES, _IOC_READ | _IOC_WRITE, shmr_features, prep_ctl, NULL),
	CMD(CREATE, _IOC_READ | _IOC_WRITE, shmr_create, prep_create, done_create),
	CMD(OPEN, _IOC_READ | _IOC_WRITE, shmr_open, prep_open, done_open),
	CMD(UNLINK, _IOC_WRITE, shmr_unlink, prep_unlink, done_unlink),
	CMD(STAT, _IOC_READ | _IOC_WRITE, shmr_stat, prep_region, NULL),
	CMD(LIST, _IOC_READ | _IOC_WRITE, shmr_list, prep_ctl, NULL),
	CMD(SEAL, _IOC_WRITE, shmr_seal, prep_seal, NULL),
	CMD(EVENTS, _IOC_READ | _IOC_WRITE, shmr_events, prep_region, NULL),
	CMD(EXITED, _IOC_READ | _IOC_WRITE, shmr_exited, prep_ctl, NULL),
	CMD(ATTACH, _IOC_READ | _IOC_WRITE, shmr_attach_req, prep_attach, done_attach),
};

/* The header's numbers are what the table rebuilds. */
TEST(cmd_table_matches_header)
{
	EXPECT_EQ(SHMR_IOC_FEATURES, _IOC(_IOC_READ | _IOC_WRITE, SHMR_IOC_MAGIC, 0,
					  sizeof(struct shmr_features)));
	EXPECT_EQ(SHMR_IOC_UNLINK, _IOC(_IOC_WRITE, SHMR_IOC_MAGIC, 3,
					sizeof(struct shmr_unlink)));
	EXPECT_EQ(SHMR_IOC_SEAL, _IOC(_IOC_WRITE, SHMR_IOC_MAGIC, 6,
				      sizeof(struct shmr_seal)));
	EXPECT_EQ(SHMR_IOC_EXITED, _IOC(_IOC_READ | _IOC_WRITE, SHMR_IOC_MAGIC, 8,
					sizeof(struct shmr_exited)));
	EXPECT_EQ(SHMR_IOC_ATTACH, _IOC(_IOC_READ | _IOC_WRITE, SHMR_IOC_MAGIC, 10,
					sizeof(struct shmr_attach_req)));
	/* every struct a multiple of 8 bytes */
	EXPECT_EQ(0U, sizeof(struct shmr_features) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_create) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_open) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_unlink) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_stat) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_region_info) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_attach_info) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_list) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_seal) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_events) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_exit_record) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_exited) % 8);
	EXPECT_EQ(0U, sizeof(struct shmr_attach_req) % 8);
}

#define BUFSZ	8192

static unsigned char issue_buf[BUFSZ] __attribute__((aligned(8)));

/* A zeroed argument, prepared as valid for c; the fd to issue it on. */
static int issue_prep(FIXTURE_DATA(misc) *self, const struct cmd *c)
{
	memset(issue_buf, 0, sizeof(issue_buf));
	return c->prep(self, issue_buf);
}

/* Undo what a successful command made, close the fd prep opened. */
static int issue_done(FIXTURE_DATA(misc) *self, const struct cmd *c, int fd,
		      int ret)
{
	if (ret == 0 && c->done)
		c->done(self, issue_buf);
	if (fd != self->ctl && fd != self->fd)
		close(fd);
	return ret;
}

/*
 * Issue cmd with the ioctl size field set to size (and direction dir, magic
 * magic), the argument prepared as valid. tail_byte >= 0 puts that byte
 * value at buf[tail_at] first. Cleans up after a success. Returns the result.
 */
static int issue(FIXTURE_DATA(misc) *self, const struct cmd *c,
		 unsigned int dir, unsigned int magic, size_t size,
		 long tail_at, int tail_byte, bool *tail_zero_after)
{
	int fd = issue_prep(self, c), ret;

	if (fd < 0)
		return INT_MIN;
	if (tail_byte >= 0)
		issue_buf[tail_at] = (unsigned char)tail_byte;
	ret = shmr_ioctl(fd, _IOC(dir, magic, c->nr, size), issue_buf);
	if (tail_zero_after)
		*tail_zero_after = size <= c->size ||
			shmr_all_bytes(issue_buf + c->size, size - c->size, 0);
	return issue_done(self, c, fd, ret);
}

/*
 * Issue c with size bytes, valid, and canary placed right after them; say
 * whether the module left the canary alone.
 */
static int issue_canary(FIXTURE_DATA(misc) *self, const struct cmd *c,
			size_t size, const unsigned char canary[8], bool *kept)
{
	int fd = issue_prep(self, c), ret;

	if (fd < 0)
		return INT_MIN;
	memcpy(issue_buf + size, canary, 8);
	ret = shmr_ioctl(fd, _IOC(c->dir, SHMR_IOC_MAGIC, c->nr, size), issue_buf);
	*kept = !memcmp(issue_buf + size, canary, 8);
	return issue_done(self, c, fd, ret);
}

/*
 * Every size from the first version to this header's is accepted, and the
 * module writes nothing past the size it was given: a binary built before
 * a struct grew keeps working.
 */
TEST_F(misc, v1_size_accepted)
{
	static unsigned char canary[8] = { 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5 };
	unsigned int i;
	size_t size;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		EXPECT_LE(c->ver0, c->size) TH_LOG("%s", c->name);
		EXPECT_EQ(0U, c->ver0 % 8) TH_LOG("%s", c->name);
		for (size = c->ver0; size <= c->size; size += 8) {
			bool canary_kept = false;

			EXPECT_EQ(0, issue_canary(self, c, size, canary, &canary_kept))
				TH_LOG("%s, size %zu", c->name, size);
			EXPECT_TRUE(canary_kept) TH_LOG("%s, size %zu", c->name, size);
		}
	}
}

TEST_F(misc, size_smaller_than_v1)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		EXPECT_EQ(-EINVAL, issue(self, c, c->dir, SHMR_IOC_MAGIC, c->ver0 - 8,
					 -1, -1, NULL))
			TH_LOG("%s, size %zu", c->name, c->ver0 - 8);
		EXPECT_EQ(-EINVAL, issue(self, c, c->dir, SHMR_IOC_MAGIC, c->ver0 - 1,
					 -1, -1, NULL))
			TH_LOG("%s, size %zu", c->name, c->ver0 - 1);
		EXPECT_EQ(-EINVAL, issue(self, c, c->dir, SHMR_IOC_MAGIC, 0, -1, -1, NULL))
			TH_LOG("%s, size 0", c->name);
		EXPECT_EQ(-EINVAL, issue(self, c, c->dir, SHMR_IOC_MAGIC, 8, -1, -1, NULL))
			TH_LOG("%s, size 8", c->name);
	}
}

TEST_F(misc, size_larger_nonzero_tail)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		/* first byte past v1, last byte of a longer struct, one byte more */
		EXPECT_EQ(-E2BIG, issue(self, c, c->dir, SHMR_IOC_MAGIC, c->size + 8,
					(long)c->size, 1, NULL))
			TH_LOG("%s, size %zu, tail[0]", c->name, c->size + 8);
		EXPECT_EQ(-E2BIG, issue(self, c, c->dir, SHMR_IOC_MAGIC, c->size + 256,
					(long)c->size + 255, 0x80, NULL))
			TH_LOG("%s, size %zu, tail[255]", c->name, c->size + 256);
		EXPECT_EQ(-E2BIG, issue(self, c, c->dir, SHMR_IOC_MAGIC, c->size + 1,
					(long)c->size, 0xff, NULL))
			TH_LOG("%s, size %zu, tail[0]", c->name, c->size + 1);
	}
}

TEST_F(misc, size_larger_zero_tail)
{
	const size_t extra[] = { 8, 1, 4, 256, 4096 };
	unsigned int i, j;
	bool tail_zero;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		for (j = 0; j < ARRAY_SIZE(extra); j++) {
			tail_zero = false;
			EXPECT_EQ(0, issue(self, c, c->dir, SHMR_IOC_MAGIC,
					   c->size + extra[j], -1, -1, &tail_zero))
				TH_LOG("%s, size %zu", c->name, c->size + extra[j]);
			/* the module wrote nothing but zeros past its struct */
			EXPECT_TRUE(tail_zero)
				TH_LOG("%s, size %zu", c->name, c->size + extra[j]);
		}
	}
}

TEST_F(misc, wrong_direction)
{
	const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		for (j = 0; j < ARRAY_SIZE(dirs); j++) {
			if (dirs[j] == c->dir)
				continue;
			EXPECT_EQ(-ENOTTY, issue(self, c, dirs[j], SHMR_IOC_MAGIC,
						 c->size, -1, -1, NULL))
				TH_LOG("%s, dir %u", c->name, dirs[j]);
		}
	}
}

TEST_F(misc, wrong_magic)
{
	/* 0xB8: the magic of mshv and mrvl_cn10k_dpi, which shmr used to share */
	const unsigned int magics[] = { 0, SHMR_IOC_MAGIC - 1, SHMR_IOC_MAGIC + 1, 0xB8, 0xff };
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		for (j = 0; j < ARRAY_SIZE(magics); j++) {
			EXPECT_EQ(-ENOTTY, issue(self, c, c->dir, magics[j],
						 c->size, -1, -1, NULL))
				TH_LOG("%s, magic %#x", c->name, magics[j]);
		}
	}
}

TEST_F(misc, unknown_numbers)
{
	static unsigned char buf[BUFSZ];
	const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	/*
	 * Not 1 and 2: FIBMAP and FIGETBSZ, which the VFS answers itself for
	 * regular files before the driver sees them.
	 */
	const unsigned long plain[] = { 0, 0x5401 /* TCGETS */, SHMR_IOC_MAGIC << 8, ~0UL };
	unsigned int nr, j;

	for (nr = _IOC_NR(SHMR_IOC_EXITED) + 1; nr <= 0xff; nr++) {
		for (j = 0; j < ARRAY_SIZE(dirs); j++) {
			unsigned long cmd = _IOC(dirs[j], SHMR_IOC_MAGIC, nr, 64);

			/* ATTACH's number and direction: a command (size 64 < v1) */
			if (nr == _IOC_NR(SHMR_IOC_ATTACH) &&
			    dirs[j] == _IOC_DIR(SHMR_IOC_ATTACH)) {
				EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, cmd, buf));
				EXPECT_EQ(-ENOTTY, shmr_ioctl(self->fd, cmd, buf));
				continue;
			}
			memset(buf, 0, sizeof(buf));
			EXPECT_EQ(-ENOTTY, shmr_ioctl(self->ctl, cmd, buf))
				TH_LOG("control fd, nr %#x dir %u", nr, dirs[j]);
			EXPECT_EQ(-ENOTTY, shmr_ioctl(self->fd, cmd, buf))
				TH_LOG("region fd, nr %#x dir %u", nr, dirs[j]);
		}
	}
	for (j = 0; j < ARRAY_SIZE(plain); j++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, shmr_ioctl(self->ctl, plain[j], buf))
			TH_LOG("control fd, cmd %#lx", plain[j]);
		EXPECT_EQ(-ENOTTY, shmr_ioctl(self->fd, plain[j], buf))
			TH_LOG("region fd, cmd %#lx", plain[j]);
	}
}

TEST_F(misc, wrong_fd_kind)
{
	/* control-only commands on a region fd, region-only ones on the control fd */
	static const unsigned long region_refuses[] = {
		SHMR_IOC_CREATE, SHMR_IOC_OPEN, SHMR_IOC_UNLINK, SHMR_IOC_LIST,
		SHMR_IOC_EXITED, SHMR_IOC_ATTACH,
	};
	static const char *const region_names[] = {
		"CREATE", "OPEN", "UNLINK", "LIST", "EXITED", "ATTACH",
	};
	unsigned char buf[BUFSZ] __attribute__((aligned(8)));
	struct shmr_region_info info;
	unsigned int i, j;
	int ro;

	ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	for (i = 0; i < ARRAY_SIZE(region_refuses); i++) {
		for (j = 0; j < ARRAY_SIZE(cmds); j++)
			if (_IOC_NR(region_refuses[i]) == cmds[j].nr)
				break;
		ASSERT_LT(j, ARRAY_SIZE(cmds));
		/* an argument that would be valid on the control fd */
		memset(buf, 0, sizeof(buf));
		cmds[j].prep(self, buf);
		EXPECT_EQ(-ENOTTY, shmr_ioctl(self->fd, region_refuses[i], buf))
			TH_LOG("%s on a region fd", region_names[i]);
		memset(buf, 0, sizeof(buf));
		cmds[j].prep(self, buf);
		EXPECT_EQ(-ENOTTY, shmr_ioctl(ro, region_refuses[i], buf))
			TH_LOG("%s on a read-only region fd", region_names[i]);
	}
	/* the refused UNLINK did not unlink */
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(0U, info.flags & SHMR_INFO_UNLINKED);

	memset(buf, 0, sizeof(buf));
	((struct shmr_seal *)buf)->seals = SHMR_SEAL_WRITE;
	EXPECT_EQ(-ENOTTY, shmr_ioctl(self->ctl, SHMR_IOC_SEAL, buf));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-ENOTTY, shmr_ioctl(self->ctl, SHMR_IOC_EVENTS, buf));
	close(ro);
}

TEST_F(misc, null_argument)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];
		unsigned long cmd = _IOC(c->dir, SHMR_IOC_MAGIC, c->nr, c->size);
		int fd = c->prep == prep_region ? self->fd : self->ctl;

		if (c->prep == prep_seal)
			fd = self->fd;
		EXPECT_EQ(-EFAULT, shmr_ioctl(fd, cmd, NULL)) TH_LOG("%s", c->name);
		EXPECT_EQ(-EFAULT, shmr_ioctl(fd, cmd, (void *)0xffff888000000000ULL))
			TH_LOG("%s, kernel pointer", c->name);
	}
}

/* ---- SEAL / EVENTS / EXITED validation -------------------------------------- */

TEST_F(misc, seal_positive)
{
	struct shmr_region_info info;
	struct shmr_seal s = { .seals = SHMR_SEAL_WRITE };

	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ((uint32_t)SHMR_INFO_SEALED, info.flags & SHMR_INFO_SEALED);
}

TEST_F(misc, seal_unknown_bits)
{
	struct shmr_region_info info;
	struct shmr_seal s;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (SHMR_SEAL_ALL & (1U << bit))
			continue;
		memset(&s, 0, sizeof(s));
		s.seals = (1U << bit) | SHMR_SEAL_WRITE;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s))
			TH_LOG("bit %d", bit);
	}
	memset(&s, 0, sizeof(s));
	s.seals = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(0U, info.flags & SHMR_INFO_SEALED);
}

TEST_F(misc, seal_flags_nonzero)
{
	struct shmr_seal s;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&s, 0, sizeof(s));
		s.seals = SHMR_SEAL_WRITE;
		s.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s))
			TH_LOG("bit %d", bit);
	}
}

TEST_F(misc, seal_reserved_nonzero)
{
	struct shmr_region_info info;
	struct shmr_seal s;

	memset(&s, 0, sizeof(s));
	s.seals = SHMR_SEAL_WRITE;
	s.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s));
	s.reserved[0] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(0U, info.flags & SHMR_INFO_SEALED);
}

TEST_F(misc, seal_read_only_handle)
{
	struct shmr_region_info info;
	struct shmr_seal s = { .seals = SHMR_SEAL_WRITE };
	int ro;

	ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EPERM, shmr_ioctl(ro, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(0U, info.flags & SHMR_INFO_SEALED);
	close(ro);
}

TEST_F(misc, events_positive)
{
	struct shmr_events e;
	int ro;

	shmr_fill_a5(&e, sizeof(e));
	e.flags = 0;
	memset(e.reserved, 0, sizeof(e.reserved));
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_EVENTS, &e));
	EXPECT_EQ(0U, e.events);	/* nothing happened to this handle yet */

	ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	memset(&e, 0, sizeof(e));
	e.events = 0xA5A5A5A5;
	ASSERT_EQ(0, shmr_ioctl(ro, SHMR_IOC_EVENTS, &e));
	EXPECT_EQ(0U, e.events);
	close(ro);
}

TEST_F(misc, events_flags_nonzero)
{
	struct shmr_events e;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&e, 0, sizeof(e));
		e.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_EVENTS, &e))
			TH_LOG("bit %d", bit);
	}
}

TEST_F(misc, events_reserved_nonzero)
{
	struct shmr_events e;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(e.reserved); i++) {
		memset(&e, 0, sizeof(e));
		e.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_EVENTS, &e))
			TH_LOG("reserved[%u]", i);
		memset(&e, 0, sizeof(e));
		e.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_EVENTS, &e))
			TH_LOG("reserved[%u]", i);
	}
}

TEST_F(misc, exited_positive)
{
	struct shmr_exited x;

	memset(&x, 0, sizeof(x));
	x.count = 0xA5A5A5A5;
	x.total = 0xA5A5A5A5;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x));
	EXPECT_EQ(0U, x.count);
	EXPECT_NE(0xA5A5A5A5U, x.total);
}

TEST_F(misc, exited_record_zeroed)
{
	struct shmr_exit_record *rec;
	struct shmr_exited x;
	const uint32_t cap = 1024;
	int status, found = -1;
	uint32_t i;
	pid_t pid;

	/* a child that exits with status 3 while holding a handle */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = shmr_open(self->ctl, self->name, 0, NULL);

		_exit(fd < 0 ? 1 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(3, WEXITSTATUS(status));

	rec = calloc(cap, sizeof(*rec));
	ASSERT_NE(NULL, rec);
	shmr_fill_a5(rec, cap * sizeof(*rec));
	memset(&x, 0, sizeof(x));
	x.records = (uintptr_t)rec;
	x.cap = cap;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x));
	ASSERT_LE(1U, x.count);
	EXPECT_LE(x.count, x.total);
	for (i = 0; i < x.count; i++)
		if (rec[i].region_id == self->id && rec[i].pid == pid)
			found = (int)i;
	ASSERT_LE(0, found);
	EXPECT_EQ(0, rec[found].signal);
	EXPECT_EQ(3, rec[found].status);
	EXPECT_EQ(1U, rec[found].handles);
	EXPECT_EQ(0U, rec[found].mappings);
	EXPECT_EQ(0U, rec[found].reserved0);
	EXPECT_STREQ(self->name, rec[found].name);
	EXPECT_TRUE(shmr_str_zero_padded(rec[found].name, sizeof(rec[found].name)));
	EXPECT_TRUE(shmr_str_zero_padded(rec[found].comm, sizeof(rec[found].comm)));
	/* nothing written past count */
	if (x.count < cap) {
		EXPECT_TRUE(shmr_all_bytes(&rec[x.count], sizeof(*rec), 0xA5));
	}
	/* forget them again, so that the run ends with no records held */
	memset(&x, 0, sizeof(x));
	x.records = (uintptr_t)rec;
	x.cap = cap;
	x.flags = SHMR_EXITED_CLEAR;
	EXPECT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x));
	memset(&x, 0, sizeof(x));
	EXPECT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x));
	EXPECT_EQ(0U, x.total);
	free(rec);
}

TEST_F(misc, exited_flags_unknown)
{
	struct shmr_exited x;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if ((1U << bit) & SHMR_EXITED_CLEAR)
			continue;
		memset(&x, 0, sizeof(x));
		x.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x))
			TH_LOG("bit %d", bit);
	}
	memset(&x, 0, sizeof(x));
	x.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x));
}

TEST_F(misc, exited_reserved_nonzero)
{
	struct shmr_exited x;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(x.reserved); i++) {
		memset(&x, 0, sizeof(x));
		x.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_EXITED, &x))
			TH_LOG("reserved[%u]", i);
	}
}

/* ---- the control fd is not a file ------------------------------------------ */

TEST_F(misc, control_fd_read_write_mmap)
{
	char buf[64] = { 0 };
	void *p;

	/* no read/write/mmap file operations: the VFS answers */
	EXPECT_EQ(-1, read(self->ctl, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->ctl, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->ctl, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	if (p != MAP_FAILED)
		munmap(p, self->pg);
}

TEST_HARNESS_MAIN
