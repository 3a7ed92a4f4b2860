// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_STAT on a region fd and by id on the control fd: the fields of a
 * fresh region, output zeroed (pre-filled with 0xA5), the attach array and
 * its cap, then one refusal per validation branch: flags, reserved0, each
 * reserved word, id on a region fd, unknown id, bad attach pointer.
 */
#include <time.h>

#include "shmr_test.h"

FIXTURE(stat) {
	int ctl;
	int fd;
	uint64_t pg;
	uint64_t id;
	uint64_t t0, t1;	/* CLOCK_REALTIME around the create */
	char name[128];
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

FIXTURE_SETUP(stat)
{
	struct shmr_create c;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "abi_stat");
	self->t0 = realtime_ns();
	self->fd = shmr_create(self->ctl, shmr_track(self->name), 3 * self->pg,
			       SHMR_CREATE_EXCL, 0640, &c);
	self->t1 = realtime_ns();
	ASSERT_LE(0, self->fd);
	self->id = c.id;
}

FIXTURE_TEARDOWN(stat)
{
	shmr_cleanup();
	close(self->fd);
	close(self->ctl);
}

static void init_stat(struct shmr_stat *s, uint64_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
}

static void own_comm(char comm[SHMR_COMM_LEN])
{
	FILE *f = fopen("/proc/self/comm", "re");

	memset(comm, 0, SHMR_COMM_LEN);
	if (f) {
		if (fgets(comm, SHMR_COMM_LEN, f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
}

/* The fields of the fixture's region as this process created it. */
static void check_info(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stat) *self,
		       const struct shmr_region_info *info,
		       uint32_t mappings)
{
	EXPECT_EQ(self->id, info->id);
	EXPECT_EQ(3 * self->pg, info->size);
	EXPECT_LE(self->t0 - 1000000000ULL, info->ctime_ns);	/* 1 s slack */
	EXPECT_GE(self->t1 + 1000000000ULL, info->ctime_ns);
	EXPECT_EQ(geteuid(), info->uid);
	EXPECT_EQ(getegid(), info->gid);
	EXPECT_EQ(0640U, info->mode);
	EXPECT_EQ(0U, info->flags);
	EXPECT_EQ(getpid(), info->creator_pid);
	EXPECT_EQ(1U, info->handles);
	EXPECT_EQ(mappings, info->mappings);
	EXPECT_EQ(1U, info->nattach);
	EXPECT_STREQ(self->name, info->name);
	EXPECT_TRUE(shmr_str_zero_padded(info->name, sizeof(info->name)));
}

TEST_F(stat, region_fd)
{
	struct shmr_stat s;

	/* output pre-filled with 0xA5: every byte must be rewritten */
	init_stat(&s, 0);
	shmr_fill_a5(&s.info, sizeof(s.info));
	s.attach_count = 0xA5A5A5A5;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	check_info(_metadata, self, &s.info, 0);
	EXPECT_EQ(0U, s.attach_count);
	EXPECT_EQ(0ULL, (unsigned long long)s.id);
	EXPECT_EQ(0ULL, (unsigned long long)s.attach);
	EXPECT_EQ(0U, s.flags);
	EXPECT_EQ(0U, s.reserved0);
	EXPECT_TRUE(shmr_all_bytes(s.reserved, sizeof(s.reserved), 0));
}

TEST_F(stat, by_id)
{
	struct shmr_stat s;

	init_stat(&s, self->id);
	shmr_fill_a5(&s.info, sizeof(s.info));
	s.attach_count = 0xA5A5A5A5;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	check_info(_metadata, self, &s.info, 0);
	EXPECT_EQ(0U, s.attach_count);
	EXPECT_EQ(self->id, s.id);
}

TEST_F(stat, read_only_handle)
{
	struct shmr_region_info info;
	int fd;

	fd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->id, info.id);
	EXPECT_EQ(2U, info.handles);
	EXPECT_EQ(1U, info.nattach);
	close(fd);
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(1U, info.handles);
}

TEST_F(stat, mappings_and_attach)
{
	struct shmr_attach_info att[4];
	char comm[SHMR_COMM_LEN];
	struct shmr_stat s;
	uint64_t t;
	void *m1, *m2;

	own_comm(comm);
	t = realtime_ns();
	m1 = mmap(NULL, 3 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, m1);
	m2 = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, self->pg);
	ASSERT_NE(MAP_FAILED, m2);

	init_stat(&s, 0);
	shmr_fill_a5(&s.info, sizeof(s.info));
	shmr_fill_a5(att, sizeof(att));
	s.attach = (uintptr_t)att;
	s.attach_cap = ARRAY_SIZE(att);
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	check_info(_metadata, self, &s.info, 2);
	ASSERT_EQ(1U, s.attach_count);
	EXPECT_EQ(getpid(), att[0].pid);
	EXPECT_EQ(1U, att[0].handles);
	EXPECT_EQ(2U, att[0].mappings);
	EXPECT_EQ(0U, att[0].flags);
	/* attached since the create, before the mappings */
	EXPECT_LE(self->t0 - 1000000000ULL, att[0].since_ns);
	EXPECT_GE(t + 1000000000ULL, att[0].since_ns);
	EXPECT_STREQ(comm, att[0].comm);
	EXPECT_TRUE(shmr_str_zero_padded(att[0].comm, sizeof(att[0].comm)));
	/* entries past attach_count are not written */
	EXPECT_TRUE(shmr_all_bytes(&att[1], sizeof(att) - sizeof(att[0]), 0xA5));

	/* same through the control fd */
	init_stat(&s, self->id);
	shmr_fill_a5(att, sizeof(att));
	s.attach = (uintptr_t)att;
	s.attach_cap = 1;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	EXPECT_EQ(2U, s.info.mappings);
	ASSERT_EQ(1U, s.attach_count);
	EXPECT_EQ(getpid(), att[0].pid);
	EXPECT_EQ(2U, att[0].mappings);

	munmap(m2, self->pg);
	munmap(m1, 3 * self->pg);
	init_stat(&s, 0);
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	EXPECT_EQ(0U, s.info.mappings);
	EXPECT_EQ(1U, s.info.nattach);
}

TEST_F(stat, attach_cap_zero)
{
	struct shmr_attach_info att[2];
	struct shmr_stat s;

	/* a pointer with cap 0: nothing written, count 0, info still right */
	init_stat(&s, 0);
	shmr_fill_a5(att, sizeof(att));
	s.attach = (uintptr_t)att;
	s.attach_cap = 0;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	EXPECT_EQ(0U, s.attach_count);
	EXPECT_EQ(1U, s.info.nattach);
	EXPECT_TRUE(shmr_all_bytes(att, sizeof(att), 0xA5));

	/* no pointer: the cap is ignored */
	init_stat(&s, 0);
	s.attach = 0;
	s.attach_cap = 8;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	EXPECT_EQ(0U, s.attach_count);
	EXPECT_EQ(1U, s.info.nattach);
}

TEST_F(stat, attach_short_buffer)
{
	struct shmr_attach_info att[3];
	int go[2], ready[2], i;
	pid_t pid[2];
	struct shmr_stat s;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	/* two more processes attached, each by a handle of its own */
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			int fd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);

			close(self->fd);	/* attached only through fd */
			close(go[1]);
			if (fd < 0)
				_exit(1);
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
				_exit(2);
			/* detach before exiting: no exit record left behind */
			close(fd);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));

	init_stat(&s, 0);
	shmr_fill_a5(att, sizeof(att));
	s.attach = (uintptr_t)att;
	s.attach_cap = 2;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	/* a short buffer is not an error: count < nattach */
	EXPECT_EQ(3U, s.info.nattach);
	EXPECT_EQ(3U, s.info.handles);
	EXPECT_EQ(2U, s.attach_count);
	EXPECT_NE(0, att[0].pid);
	EXPECT_NE(att[0].pid, att[1].pid);
	EXPECT_TRUE(shmr_all_bytes(&att[2], sizeof(att[2]), 0xA5));

	init_stat(&s, self->id);
	shmr_fill_a5(att, sizeof(att));
	s.attach = (uintptr_t)att;
	s.attach_cap = 3;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	ASSERT_EQ(3U, s.attach_count);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(1U, att[i].handles);
		EXPECT_EQ(0U, att[i].mappings);
		EXPECT_EQ(0U, att[i].flags);
		EXPECT_TRUE(shmr_str_zero_padded(att[i].comm, sizeof(att[i].comm)));
	}
	EXPECT_TRUE((att[0].pid == getpid()) + (att[1].pid == getpid()) +
		    (att[2].pid == getpid()) == 1);

	close(go[1]);
	for (i = 0; i < 2; i++) {
		int status;

		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status);
	}
}

TEST_F(stat, attach_bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_stat s;

	ASSERT_NE(NULL, buf);
	init_stat(&s, 0);
	s.attach = (uintptr_t)shmr_guard_fault(buf);
	s.attach_cap = 1;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	init_stat(&s, self->id);
	s.attach = 0xffff888000000000ULL;
	s.attach_cap = 1;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	/* an array that runs into the unreadable page */
	init_stat(&s, 0);
	s.attach = (uintptr_t)shmr_guard_fault(buf) - sizeof(struct shmr_attach_info) / 2;
	s.attach_cap = 1;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	shmr_guard_free(buf);
}

TEST_F(stat, anonymous)
{
	struct shmr_stat s;
	struct shmr_create c;
	int fd;

	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, &c);
	ASSERT_LE(0, fd);
	init_stat(&s, 0);
	shmr_fill_a5(&s.info, sizeof(s.info));
	ASSERT_EQ(0, shmr_ioctl(fd, SHMR_IOC_STAT, &s));
	EXPECT_EQ(c.id, s.info.id);
	EXPECT_EQ((uint32_t)SHMR_INFO_ANON, s.info.flags);
	EXPECT_EQ(0600U, s.info.mode);
	EXPECT_TRUE(shmr_all_bytes(s.info.name, sizeof(s.info.name), 0));
	/* visible by id in the namespace too */
	init_stat(&s, c.id);
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	EXPECT_EQ(c.id, s.info.id);
	close(fd);
}

TEST_F(stat, unlinked)
{
	struct shmr_region_info info;

	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ((uint32_t)SHMR_INFO_UNLINKED, info.flags);
	EXPECT_TRUE(shmr_str_zero_padded(info.name, sizeof(info.name)));
	/* still visible by id while alive */
	ASSERT_EQ(0, shmr_stat_id(self->ctl, self->id, &info));
	EXPECT_EQ(self->id, info.id);
}

TEST_F(stat, flags_nonzero)
{
	struct shmr_stat s;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		init_stat(&s, 0);
		s.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s))
			TH_LOG("region fd, bit %d", bit);
		init_stat(&s, self->id);
		s.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s))
			TH_LOG("control fd, bit %d", bit);
	}
	init_stat(&s, 0);
	s.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
}

TEST_F(stat, reserved0_nonzero)
{
	struct shmr_stat s;

	init_stat(&s, 0);
	s.reserved0 = 1;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	init_stat(&s, self->id);
	s.reserved0 = 1U << 31;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
}

TEST_F(stat, reserved_nonzero)
{
	struct shmr_stat s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s.reserved); i++) {
		init_stat(&s, 0);
		s.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s))
			TH_LOG("region fd, reserved[%u]", i);
		init_stat(&s, self->id);
		s.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s))
			TH_LOG("control fd, reserved[%u]", i);
	}
}

TEST_F(stat, id_on_region_fd)
{
	struct shmr_stat s;

	/* "On a region fd ... id must be 0", even its own id */
	init_stat(&s, self->id);
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
	init_stat(&s, ~0ULL);
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->fd, SHMR_IOC_STAT, &s));
}

TEST_F(stat, unknown_id)
{
	struct shmr_stat s;
	struct shmr_create c;
	int fd;

	/* the id of a region that has been freed */
	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, &c);
	ASSERT_LE(0, fd);
	close(fd);
	init_stat(&s, c.id);
	EXPECT_EQ(-ENOENT, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	init_stat(&s, ~0ULL);
	EXPECT_EQ(-ENOENT, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
	init_stat(&s, c.id + 1000000);
	EXPECT_EQ(-ENOENT, shmr_ioctl(self->ctl, SHMR_IOC_STAT, &s));
}

TEST_HARNESS_MAIN
