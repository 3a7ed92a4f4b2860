// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_uring: the commands submitted through io_uring (IORING_OP_URING_CMD,
 * cmd_op = SHMR_IOC_*, the struct pointer in the SQE command area) run the
 * same handlers and validation as ioctl(), in the control fd's IPC
 * namespace whichever task runs them (an io-wq worker or an SQPOLL thread
 * created before unshare()), and commands that may sleep are punted to
 * io-wq rather than run on the non-blocking issue.
 */
#include "shmr_test.h"
#include <dirent.h>
#include <sched.h>
#include <liburing.h>

/* One command; sqe_flags e.g. IOSQE_ASYNC. The CQE's result. */
static int uring_cmd_flags(struct io_uring *ring, int fd, unsigned int op,
			   void *arg, unsigned int sqe_flags)
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
	sqe->flags |= sqe_flags;
	memcpy(sqe->cmd, &ptr, sizeof(ptr));
	/*
	 * Under SQPOLL, liburing counts the SQEs the kernel has not marked
	 * consumed yet, which can include the one before (its CQE may come
	 * before the SQ head moves): at least ours.
	 */
	ret = io_uring_submit(ring);
	if (ret < 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int uring_cmd(struct io_uring *ring, int fd, unsigned int op, void *arg)
{
	return uring_cmd_flags(ring, fd, op, arg, 0);
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

/* ---- the IPC namespace of a command is the control fd's ---------------- */

/*
 * Threads of this process that are io-wq workers ("iou-wrk-TID"); with
 * @busy, only those not sleeping (an idle worker sleeps on its free list).
 */
static int iowq_workers_state(bool busy)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0, fd;
	ssize_t len;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "TID (COMM) STATE ..." */
		p = strrchr(buf, ')');
		if (!strstr(buf, "(iou-wrk-") || !p || p[1] != ' ')
			continue;
		if (!busy || p[2] != 'S')
			n++;
	}
	closedir(dir);
	return n;
}

static int iowq_workers(void)
{
	return iowq_workers_state(false);
}


static int ring_open(struct io_uring *ring, int fd, const char *name,
		     unsigned int sqe_flags, uint64_t *id)
{
	struct shmr_open o;
	int ret;

	memset(&o, 0, sizeof(o));
	o.name = (uintptr_t)name;
	o.flags = SHMR_OPEN_RDONLY;
	ret = uring_cmd_flags(ring, fd, SHMR_IOC_OPEN, &o, sqe_flags);
	if (ret)
		return ret;
	if (id)
		*id = o.id;
	close(o.fd);
	return 0;
}

/* LIST through the ring (ring != NULL) or ioctl: regions visible, or -errno. */
static int list_total(struct io_uring *ring, int fd, unsigned int sqe_flags)
{
	struct shmr_region_info infos[4];
	struct shmr_list l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.regions = (uintptr_t)infos;
	l.cap = 4;
	ret = ring ? uring_cmd_flags(ring, fd, SHMR_IOC_LIST, &l, sqe_flags) :
		     shmr_ioctl(fd, SHMR_IOC_LIST, &l);
	return ret ? ret : (int)l.total;
}

/*
 * In a child: a ring (SQPOLL or not) and a control fd of the first
 * namespace, an async command so that an io-wq worker exists, then
 * unshare(CLONE_NEWIPC) and a control fd of the new namespace. Commands on
 * the new fd must not see the first namespace's name @name (id @id),
 * whichever task io_uring runs them in; commands on the old fd still do.
 * 0, or the number of the step that failed.
 */
static int escape_child(const char *name, uint64_t id, unsigned int setup,
			unsigned int sqe_flags)
{
	struct io_uring_params p;
	struct shmr_features f;
	struct shmr_unlink u;
	struct shmr_stat s;
	struct shmr_create c;
	struct io_uring ring;
	int ctl0, ctl1, fd;
	uint64_t got = 0;

	ctl0 = shmr_ctl_open();
	if (ctl0 < 0)
		return 1;
	memset(&p, 0, sizeof(p));
	p.flags = setup;
	p.sq_thread_idle = 2000;
	if (io_uring_queue_init_params(8, &ring, &p))
		return 2;
	memset(&f, 0, sizeof(f));
	if (uring_cmd_flags(&ring, ctl0, SHMR_IOC_FEATURES, &f, IOSQE_ASYNC))
		return 3;
	/*
	 * Once the worker sleeps on its free list, the next async command
	 * goes to it rather than to a new worker created after unshare().
	 */
	if (!shmr_wait_until(iowq_workers() >= 1 && !iowq_workers_state(true)))
		return 6;
	if (unshare(CLONE_NEWIPC))
		return 4;
	ctl1 = shmr_ctl_open();
	if (ctl1 < 0)
		return 5;

	/* the new namespace through the ring: nothing of the first one */
	if (ring_open(&ring, ctl1, name, sqe_flags, NULL) != -ENOENT)
		return 10;
	if (list_total(&ring, ctl1, sqe_flags) != 0)
		return 11;
	memset(&s, 0, sizeof(s));
	s.id = id;
	if (uring_cmd_flags(&ring, ctl1, SHMR_IOC_STAT, &s, sqe_flags) != -ENOENT)
		return 12;
	memset(&u, 0, sizeof(u));
	u.name = (uintptr_t)name;
	if (uring_cmd_flags(&ring, ctl1, SHMR_IOC_UNLINK, &u, sqe_flags) != -ENOENT)
		return 13;
	/* the same through ioctl */
	if (shmr_open(ctl1, name, SHMR_OPEN_RDONLY, NULL) != -ENOENT)
		return 20;
	if (list_total(NULL, ctl1, 0) != 0)
		return 21;
	if (shmr_unlink(ctl1, name) != -ENOENT)
		return 22;
	/* the name is free here: a region of its own */
	memset(&c, 0, sizeof(c));
	c.name = (uintptr_t)name;
	c.size = 4096;
	c.flags = SHMR_CREATE_EXCL;
	c.mode = 0600;
	if (uring_cmd_flags(&ring, ctl1, SHMR_IOC_CREATE, &c, sqe_flags))
		return 30;
	close(c.fd);
	if (c.id == id || list_total(&ring, ctl1, sqe_flags) != 1)
		return 31;
	if (uring_cmd_flags(&ring, ctl1, SHMR_IOC_UNLINK, &u, sqe_flags))
		return 32;
	/* the old fd stays in the first namespace, through either transport */
	if (ring_open(&ring, ctl0, name, sqe_flags, &got) || got != id)
		return 40;
	fd = shmr_open(ctl0, name, SHMR_OPEN_RDONLY, NULL);
	if (fd < 0)
		return 41;
	close(fd);
	io_uring_queue_exit(&ring);
	return 0;
}

static void escape_run(struct __test_metadata *_metadata, unsigned int setup,
		       unsigned int sqe_flags)
{
	struct shmr_create c;
	char name[64];
	int ctl, fd, status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "kmod_uring_ns");
	fd = shmr_create(ctl, shmr_track(name), 4096, SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(escape_child(name, c.id, setup, sqe_flags));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d failed",
						  WEXITSTATUS(status));
	/* ours is untouched */
	close(fd);
	fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, shmr_unlink(ctl, name));
	shmr_cleanup();
	close(ctl);
}

/* IOSQE_ASYNC: an io-wq worker created before unshare() runs the commands. */
TEST(ipcns_async_worker_after_unshare)
{
	escape_run(_metadata, 0, IOSQE_ASYNC);
}

/* SQPOLL: the submission thread was created before unshare(). */
TEST(ipcns_sqpoll_after_unshare)
{
	escape_run(_metadata, IORING_SETUP_SQPOLL, 0);
}

/* ---- IO_URING_F_NONBLOCK ------------------------------------------------ */

/* One command through ioctl (ring NULL) or the ring, result and struct. */
struct cmd_case {
	const char *what;
	unsigned int op;
	bool on_region;
	union {
		struct shmr_features features;
		struct shmr_create create;
		struct shmr_open open;
		struct shmr_unlink unlink;
		struct shmr_stat stat;
		struct shmr_list list;
		struct shmr_seal seal;
		struct shmr_events events;
		struct shmr_exited exited;
	} u;
};

static int run_case(struct io_uring *ring, int ctl, int rfd, struct cmd_case *k)
{
	int fd = k->on_region ? rfd : ctl;

	return ring ? uring_cmd(ring, fd, k->op, &k->u) :
		      shmr_ioctl(fd, k->op, &k->u);
}

/*
 * In a child with no io-wq worker yet: commands that can run without
 * sleeping (FEATURES, EVENTS, STAT on a region fd, LIST, EXITED: nothing
 * else holds shmr_lock here, and their buffers are small) run on the
 * non-blocking issue (no worker appears); CREATE may sleep and is punted (a
 * worker appears). Every command gives through the ring what it gives
 * through ioctl. 0 or the failed step.
 */
static int nonblock_child(const char *name, int *failed_case)
{
	static struct shmr_region_info infos[4];
	static struct shmr_exit_record recs[4];
	struct shmr_attach_info att[2];
	struct cmd_case a, b;
	struct shmr_create c;
	struct io_uring ring;
	int ctl, rfd, i, ra, rb, fd;

	ctl = shmr_ctl_open();
	rfd = shmr_create(ctl, NULL, 4096, 0, 0600, NULL);
	if (ctl < 0 || rfd < 0)
		return 1;
	if (io_uring_queue_init(8, &ring, 0))
		return 2;
	if (iowq_workers() != 0)
		return 3;
	memset(&a, 0, sizeof(a));
	if (uring_cmd(&ring, ctl, SHMR_IOC_FEATURES, &a.u.features))
		return 4;
	memset(&a, 0, sizeof(a));
	if (uring_cmd(&ring, rfd, SHMR_IOC_EVENTS, &a.u.events))
		return 5;
	memset(&a, 0, sizeof(a));
	a.u.stat.attach = (uintptr_t)att;
	a.u.stat.attach_cap = 2;
	if (uring_cmd(&ring, rfd, SHMR_IOC_STAT, &a.u.stat) ||
	    a.u.stat.attach_count != 1 || att[0].pid != getpid())
		return 6;
	if (list_total(&ring, ctl, 0) != 1)
		return 10;
	memset(&a, 0, sizeof(a));
	a.u.exited.records = (uintptr_t)recs;
	a.u.exited.cap = 4;
	if (uring_cmd(&ring, ctl, SHMR_IOC_EXITED, &a.u.exited))
		return 11;
	if (iowq_workers() != 0)
		return 7;	/* a command that cannot sleep was punted */
	memset(&c, 0, sizeof(c));
	c.name = (uintptr_t)name;
	c.size = 4096;
	c.flags = SHMR_CREATE_EXCL;
	c.mode = 0600;
	if (uring_cmd(&ring, ctl, SHMR_IOC_CREATE, &c) || c.fd < 0)
		return 8;
	close(c.fd);
	if (iowq_workers() < 1)
		return 9;	/* CREATE ran on the non-blocking issue */

	for (i = 0;; i++) {
		memset(&a, 0, sizeof(a));
		switch (i) {
		case 0:
			a.what = "create existing";
			a.op = SHMR_IOC_CREATE;
			a.u.create.name = (uintptr_t)name;
			a.u.create.size = 4096;
			a.u.create.flags = SHMR_CREATE_EXCL;
			break;
		case 1:
			a.what = "create, bad flags";
			a.op = SHMR_IOC_CREATE;
			a.u.create.size = 4096;
			a.u.create.flags = 1U << 31;
			break;
		case 2:
			a.what = "open";
			a.op = SHMR_IOC_OPEN;
			a.u.open.name = (uintptr_t)name;
			a.u.open.flags = SHMR_OPEN_RDONLY;
			break;
		case 3:
			a.what = "open missing";
			a.op = SHMR_IOC_OPEN;
			a.u.open.name = (uintptr_t)"kmod_uring.missing";
			break;
		case 4:
			a.what = "stat by id";
			a.op = SHMR_IOC_STAT;
			a.u.stat.id = c.id;
			break;
		case 5:
			a.what = "stat on a region fd";
			a.op = SHMR_IOC_STAT;
			a.on_region = true;
			a.u.stat.attach = (uintptr_t)att;
			a.u.stat.attach_cap = 2;
			break;
		case 6:
			a.what = "list";
			a.op = SHMR_IOC_LIST;
			a.u.list.regions = (uintptr_t)infos;
			a.u.list.cap = 4;
			break;
		case 7:
			a.what = "exited";
			a.op = SHMR_IOC_EXITED;
			a.u.exited.records = (uintptr_t)recs;
			a.u.exited.cap = 4;
			break;
		case 8:
			a.what = "unlink missing";
			a.op = SHMR_IOC_UNLINK;
			a.u.unlink.name = (uintptr_t)"kmod_uring.missing";
			break;
		case 9:
			a.what = "seal";
			a.op = SHMR_IOC_SEAL;
			a.on_region = true;
			a.u.seal.seals = SHMR_SEAL_WRITE;
			break;
		case 10:
			a.what = "events";
			a.op = SHMR_IOC_EVENTS;
			a.on_region = true;
			break;
		case 11:
			a.what = "open, bad pointer";
			a.op = SHMR_IOC_OPEN;
			a.u.open.name = 8;
			break;
		default:
			goto done;
		}
		b = a;
		ra = run_case(NULL, ctl, rfd, &a);
		rb = run_case(&ring, ctl, rfd, &b);
		if (a.op == SHMR_IOC_OPEN && !ra && !rb) {
			/* two handles: fds and nothing else differ */
			close(a.u.open.fd);
			close(b.u.open.fd);
			a.u.open.fd = b.u.open.fd = 0;
		}
		if (a.op == SHMR_IOC_LIST && a.u.list.total != 2)
			ra = -1000;	/* the anonymous one and the named one */
		if (ra != rb || memcmp(&a.u, &b.u, sizeof(a.u))) {
			*failed_case = i;
			return 20;
		}
	}
done:
	if (uring_cmd(&ring, ctl, SHMR_IOC_UNLINK, &(struct shmr_unlink){
			.name = (uintptr_t)name }))
		return 30;
	fd = shmr_open(ctl, name, 0, NULL);
	if (fd != -ENOENT)
		return 31;
	io_uring_queue_exit(&ring);
	return 0;
}

TEST(nonblocking_issue_punts_commands_that_sleep)
{
	int *failed_case, status;
	char name[64];
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	failed_case = mmap(NULL, sizeof(*failed_case), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, failed_case);
	*failed_case = -1;
	shmr_test_name(name, sizeof(name), "kmod_uring_nb");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* its own IPC namespace: LIST and EXITED see only its region */
		if (unshare(CLONE_NEWIPC))
			_exit(100);
		_exit(nonblock_child(name, failed_case));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d, case %d",
						  WEXITSTATUS(status),
						  *failed_case);
	munmap(failed_case, sizeof(*failed_case));
}

TEST_HARNESS_MAIN
