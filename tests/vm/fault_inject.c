// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection through debugfs shmr/fail_nth: for each operation (named
 * create, named process-lifetime create, anonymous create, the control
 * fd's open and a named create in a new IPC namespace, create-or-open, open by name, mmap + touch,
 * a region's first ATTACH and later ones, UNLINK,
 * LIST, STAT by fd and by id, EXITED) walk N = 1, 2, ...: arm fail_nth = N
 * and run the operation once. While it fails, the errno is the injected
 * one (ENOMEM, EMFILE for the fd reservation), the countdown is consumed,
 * faults_injected went up by one, the *_live counters, the module
 * refcount, the module's slab objects and the open fds are what they were
 * before, and a failed create left no name (a failed unlink left it). The
 * walk ends when the operation succeeds with the countdown not consumed;
 * then its result is released and everything is back. Each walk must have
 * failed at least as often as it has points it always reaches. Then the
 * knob itself: bad input is refused and leaves it as it was, and other
 * processes are not affected.
 */
#include <pthread.h>
#include <sched.h>
#include "shmr_test.h"

#define FAIL_NTH_PATH	"/sys/kernel/debug/shmr/fail_nth"
#define WALK_MAX	64
#define LIVE_MAX	32

/* Skip (exit 255, like SHMR_REQUIRE_DEVICE) without the knob. */
#define REQUIRE_FAIL_NTH() do {						\
	if (access(FAIL_NTH_PATH, F_OK) != 0)				\
		SKIP(_exit(255), "%s absent: module without fault injection or debugfs not mounted", \
		     FAIL_NTH_PATH);					\
} while (0)

/* ---- the knob ---------------------------------------------------------- */

/* Write @s to fail_nth: 0 or -errno. */
static int knob_write(const char *s)
{
	int fd = open(FAIL_NTH_PATH, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

static int knob_arm(unsigned int n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u\n", n);
	return knob_write(buf);
}

/* The countdown left, or -errno. */
static long knob_read(void)
{
	char buf[32];
	ssize_t n;
	int fd = open(FAIL_NTH_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/* ---- counters ---------------------------------------------------------- */

struct live {
	int n;
	char name[LIVE_MAX][48];
	long long val[LIVE_MAX];
};

static void live_add(struct live *l, const char *name, long long v)
{
	if (l->n == LIVE_MAX)
		return;
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", name);
	l->val[l->n++] = v;
}

/* The first number in @path, or -1 if it cannot be read. */
static long long read_num(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long long count_fds(void)
{
	char path[64];
	long long n = 0;
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

/*
 * KASAN keeps freed objects in a quarantine, still counted by the slab:
 * its counts say nothing then (make check-debug's kernel; kmemleak covers
 * leaks there). Probed once, by a KASAN symbol in /proc/kallsyms.
 */
static bool kasan_kernel(void)
{
	static int kasan = -1;
	char line[256];
	FILE *f;

	if (kasan >= 0)
		return kasan;
	kasan = 0;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, " kasan_save_stack")) {
			kasan = 1;
			break;
		}
	}
	fclose(f);
	return kasan;
}

/*
 * Every *_live counter, the module's reference count, the objects in the
 * module's slab caches (only with slub_debug sanity checks, as the VM
 * boots: such caches are unmerged and have no per-cpu slabs; not under
 * KASAN) and this process's open fds: 0 or -errno.
 */
static int live_snap(struct live *l)
{
	static const char * const caches[] = {
		"shmr_region", "shmr_handle", "shmr_attach",
	};
	char line[256], key[48], path[96];
	long long v;
	FILE *f = fopen(SHMR_COUNTERS_PATH, "re");
	unsigned int i;
	size_t len;

	memset(l, 0, sizeof(*l));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%47s %lld", key, &v) != 2)
			continue;
		len = strlen(key);
		if (len < 5 || strcmp(key + len - 5, "_live"))
			continue;
		live_add(l, key, v);
	}
	fclose(f);
	if (!l->n)
		return -ENOENT;
	live_add(l, "module refcnt", read_num("/sys/module/shmr/refcnt"));
	for (i = 0; !kasan_kernel() && i < sizeof(caches) / sizeof(caches[0]); i++) {
		/* Exact only for debug caches (no per-cpu slabs). */
		snprintf(path, sizeof(path),
			 "/sys/kernel/slab/%s/sanity_checks", caches[i]);
		if (read_num(path) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/objects",
			 caches[i]);
		v = read_num(path);
		if (v >= 0)
			live_add(l, caches[i], v);
	}
	live_add(l, "open fds", count_fds());
	return 0;
}

/* Number of differing counters, each printed. */
static int live_diff(const char *what, unsigned int nth,
		     const struct live *a, const struct live *b)
{
	int i, bad = 0;

	if (a->n != b->n) {
		fprintf(stderr, "# %s N=%u: counter set changed\n", what, nth);
		return 1;
	}
	for (i = 0; i < a->n; i++) {
		if (a->val[i] == b->val[i])
			continue;
		fprintf(stderr, "# %s N=%u: %s %lld -> %lld\n", what, nth,
			a->name[i], a->val[i], b->val[i]);
		bad++;
	}
	return bad;
}

/* ---- the walk ---------------------------------------------------------- */

struct op_ctx {
	int ctl;
	uint64_t pg;
	int target;		/* region fd for open/mmap/stat */
	uint64_t target_id;
	char target_name[128];
	char name[128];		/* what a create walk uses */
	uint32_t create_flags;
	int fd;			/* result of the op */
	void *map;
};

struct op {
	const char *what;
	/* Run once with the knob armed: 0 or -errno. */
	int (*run)(struct op_ctx *c);
	/* After a failure (knob disarmed): 0 if nothing was left behind. */
	int (*check_failed)(struct op_ctx *c);
	/* Release what a successful run made (knob disarmed). */
	void (*undo)(struct op_ctx *c);
	bool may_emfile;	/* reserves an fd */
};

struct walk_result {
	unsigned int failed;	/* N that failed */
	unsigned int emfile;	/* of which with EMFILE */
	unsigned int nth_ok;	/* the N that succeeded */
};

/*
 * Walk N = 1, 2, ... over @op. Returns 0 or the number of problems found
 * (each printed).
 */
static int walk(const struct op *op, struct op_ctx *c, struct walk_result *res)
{
	struct live before, after;
	long long inj0, inj1;
	unsigned int nth;
	long left;
	int ret, bad = 0;

	memset(res, 0, sizeof(*res));
	for (nth = 1; nth <= WALK_MAX; nth++) {
		if (live_snap(&before)) {
			fprintf(stderr, "# %s: counters unreadable\n", op->what);
			return 1;
		}
		inj0 = shmr_counter("faults_injected");
		c->fd = -1;
		c->map = NULL;
		if (knob_arm(nth)) {
			fprintf(stderr, "# %s: cannot arm fail_nth\n", op->what);
			return 1;
		}
		ret = op->run(c);
		left = knob_read();
		knob_arm(0);
		inj1 = shmr_counter("faults_injected");

		if (!ret) {
			res->nth_ok = nth;
			if (left <= 0) {
				fprintf(stderr, "# %s N=%u: succeeded but the countdown was consumed (left %ld): an injected failure was swallowed\n",
					op->what, nth, left);
				bad++;
			}
			if (inj1 != inj0) {
				fprintf(stderr, "# %s N=%u: succeeded, faults_injected %lld -> %lld\n",
					op->what, nth, inj0, inj1);
				bad++;
			}
			op->undo(c);
			if (live_snap(&after))
				return bad + 1;
			bad += live_diff(op->what, nth, &before, &after);
			return bad;
		}

		res->failed++;
		if (getenv("FAULT_INJECT_VERBOSE"))
			fprintf(stderr, "# %s N=%u: %s\n", op->what, nth,
				strerror(-ret));
		if (ret == -EMFILE && op->may_emfile) {
			res->emfile++;
		} else if (ret != -ENOMEM) {
			fprintf(stderr, "# %s N=%u: failed with %s, not ENOMEM%s\n",
				op->what, nth, strerror(-ret),
				op->may_emfile ? " or EMFILE" : "");
			bad++;
		}
		if (left != 0) {
			fprintf(stderr, "# %s N=%u: failed (%s) but the countdown is %ld\n",
				op->what, nth, strerror(-ret), left);
			bad++;
		}
		if (inj1 != inj0 + 1) {
			fprintf(stderr, "# %s N=%u: faults_injected %lld -> %lld\n",
				op->what, nth, inj0, inj1);
			bad++;
		}
		if (live_snap(&after))
			return bad + 1;
		bad += live_diff(op->what, nth, &before, &after);
		if (op->check_failed && op->check_failed(c)) {
			fprintf(stderr, "# %s N=%u: failed but left something behind\n",
				op->what, nth);
			bad++;
		}
		if (bad)
			return bad;
	}
	fprintf(stderr, "# %s: still failing at N=%u\n", op->what, WALK_MAX);
	return bad + 1;
}

/* ---- operations -------------------------------------------------------- */

static int run_create_named(struct op_ctx *c)
{
	int fd = shmr_create(c->ctl, c->name, c->pg, SHMR_CREATE_EXCL |
			     c->create_flags, 0600, NULL);

	if (fd < 0)
		return fd;
	c->fd = fd;
	return 0;
}

/* CREATE without EXCL of an existing name: opens it. */
static int run_create_existing(struct op_ctx *c)
{
	struct shmr_create cr;
	int fd = shmr_create(c->ctl, c->target_name, c->pg, 0, 0600, &cr);

	if (fd < 0)
		return fd;
	c->fd = fd;
	if (cr.id != c->target_id || (cr.result & SHMR_RESULT_CREATED)) {
		close(fd);
		return -EIO;
	}
	return 0;
}

/* The target region is still there, by name, and unchanged. */
static int check_target(struct op_ctx *c)
{
	struct shmr_open o;
	int fd = shmr_open(c->ctl, c->target_name, 0, &o);

	if (fd < 0)
		return 1;
	close(fd);
	return o.id != c->target_id;
}

static int check_no_name(struct op_ctx *c)
{
	int fd = shmr_open(c->ctl, c->name, 0, NULL);

	if (fd == -ENOENT)
		return 0;
	fprintf(stderr, "# open of %s after a failed create: %d\n", c->name, fd);
	if (fd >= 0)
		close(fd);
	shmr_unlink(c->ctl, c->name);
	return 1;
}

static void undo_create_named(struct op_ctx *c)
{
	close(c->fd);
	shmr_unlink(c->ctl, c->name);
}

static int run_create_anon(struct op_ctx *c)
{
	int fd = shmr_create(c->ctl, NULL, 2 * c->pg, 0, 0600, NULL);

	if (fd < 0)
		return fd;
	c->fd = fd;
	return 0;
}

static void undo_close(struct op_ctx *c)
{
	close(c->fd);
}

static int run_open(struct op_ctx *c)
{
	int fd = shmr_open(c->ctl, c->target_name, 0, NULL);

	if (fd < 0)
		return fd;
	c->fd = fd;
	return 0;
}

static int run_mmap(struct op_ctx *c)
{
	size_t len = 2 * c->pg;
	volatile unsigned char *p;
	void *m;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, c->target, 0);
	if (m == MAP_FAILED)
		return -errno;
	p = m;
	p[0] = 0x5a;
	p[len - 1] = 0xa5;
	if (p[0] != 0x5a || p[len - 1] != 0xa5) {
		munmap(m, len);
		return -EIO;
	}
	c->map = m;
	return 0;
}

/*
 * A fresh anonymous region and its first mmap, which makes the region's
 * map file (the vm_file of its mappings): the map file holds a module
 * reference until the region is freed, so the walk needs the region to go
 * with its result.
 */
static int run_create_mmap(struct op_ctx *c)
{
	int ret = run_create_anon(c);

	if (ret)
		return ret;
	c->target = c->fd;
	ret = run_mmap(c);
	if (ret)
		close(c->fd);
	c->target = -1;
	return ret;
}

static void undo_munmap(struct op_ctx *c)
{
	munmap(c->map, 2 * c->pg);
}

static void undo_munmap_close(struct op_ctx *c)
{
	munmap(c->map, 2 * c->pg);
	close(c->fd);
}

/*
 * Map the target once, so that its map file exists: later mmaps of an
 * attached process allocate nothing.
 */
static int prime_target(struct op_ctx *c)
{
	int ret = run_mmap(c);

	if (!ret)
		undo_munmap(c);
	return ret;
}

static int run_list(struct op_ctx *c)
{
	struct shmr_region_info infos[16];
	struct shmr_list l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.regions = (uintptr_t)infos;
	l.cap = 16;
	ret = shmr_ioctl(c->ctl, SHMR_IOC_LIST, &l);
	if (ret)
		return ret;
	return l.total >= 1 ? 0 : -EIO;
}

static int run_stat(struct op_ctx *c, int fd, uint64_t id)
{
	struct shmr_attach_info att[8];
	struct shmr_stat s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.attach = (uintptr_t)att;
	s.attach_cap = 8;
	ret = shmr_ioctl(fd, SHMR_IOC_STAT, &s);
	if (ret)
		return ret;
	return s.info.id == c->target_id && s.attach_count == 1 ? 0 : -EIO;
}

static int run_stat_fd(struct op_ctx *c)
{
	return run_stat(c, c->target, 0);
}

static int run_stat_id(struct op_ctx *c)
{
	return run_stat(c, c->ctl, c->target_id);
}

static void undo_nothing(struct op_ctx *c);

/*
 * ATTACH of a fresh named region (made and its handle closed first, both
 * under the knob): the create's points, then at the region's first ATTACH
 * its attach file and map file (two each: the private data, the file) and
 * the process's attach entry (the handle's went with it). The attach file
 * and the map file hold module references until the region is freed, so
 * the walk needs the region to go with its result.
 */
static int run_create_attach(struct op_ctx *c)
{
	struct shmr_attach_req a;
	volatile unsigned char *p;
	int ret = run_create_named(c);

	if (ret)
		return ret;
	close(c->fd);
	c->fd = -1;
	ret = shmr_attach(c->ctl, c->name, 0, &a);
	if (ret) {
		shmr_unlink(c->ctl, c->name);
		return ret;
	}
	p = (volatile unsigned char *)(uintptr_t)a.addr;
	p[0] = 0x5a;
	p[c->pg - 1] = 0xa5;
	if (p[0] != 0x5a || p[c->pg - 1] != 0xa5 || a.size != c->pg) {
		munmap((void *)(uintptr_t)a.addr, a.size);
		shmr_unlink(c->ctl, c->name);
		return -EIO;
	}
	c->map = (void *)(uintptr_t)a.addr;
	return 0;
}

static void undo_create_attach(struct op_ctx *c)
{
	munmap(c->map, c->pg);
	shmr_unlink(c->ctl, c->name);
}

/* ATTACH of the target, whose attach and map files exist. */
static int run_attach(struct op_ctx *c)
{
	struct shmr_attach_req a;
	int ret = shmr_attach(c->ctl, c->target_name, SHMR_ATTACH_RDONLY, &a);

	if (ret)
		return ret;
	if (a.id != c->target_id || a.size != 2 * c->pg) {
		munmap((void *)(uintptr_t)a.addr, a.size);
		return -EIO;
	}
	c->map = (void *)(uintptr_t)a.addr;
	return 0;
}

/* check_target(): after a failed UNLINK the name still opens the target. */
static int run_unlink(struct op_ctx *c)
{
	return shmr_unlink(c->ctl, c->target_name);
}

static int run_exited(struct op_ctx *c)
{
	struct shmr_exit_record recs[4];
	struct shmr_exited e;

	memset(&e, 0, sizeof(e));
	e.records = (uintptr_t)recs;
	e.cap = 4;
	return shmr_ioctl(c->ctl, SHMR_IOC_EXITED, &e);
}

static void undo_nothing(struct op_ctx *c)
{
}

/* Open the control device (binds this process's IPC namespace). */
static int run_ctl_open(struct op_ctx *c)
{
	c->fd = shmr_ctl_open();
	return c->fd < 0 ? c->fd : 0;
}

static const struct op op_create_named = {
	"create named", run_create_named, check_no_name, undo_create_named,
	true,
};
static const struct op op_create_anon = {
	"create anonymous", run_create_anon, NULL, undo_close, true,
};
static const struct op op_create_existing = {
	"create-or-open existing", run_create_existing, check_target,
	undo_close, true,
};
static const struct op op_open = {
	"open by name", run_open, NULL, undo_close, true,
};
static const struct op op_mmap = {
	"mmap+touch", run_mmap, NULL, undo_munmap, false,
};
static const struct op op_create_mmap = {
	"create anonymous + first mmap+touch", run_create_mmap, NULL,
	undo_munmap_close, true,
};
static const struct op op_create_attach = {
	"create named + first attach+touch", run_create_attach, check_no_name,
	undo_create_attach, true,
};
static const struct op op_attach = {
	"attach", run_attach, NULL, undo_munmap, false,
};
static const struct op op_unlink = {
	"unlink", run_unlink, check_target, undo_nothing, false,
};
static const struct op op_exited = {
	"exited", run_exited, NULL, undo_nothing, false,
};
static const struct op op_list = {
	"list", run_list, NULL, undo_nothing, false,
};
static const struct op op_stat_fd = {
	"stat by fd", run_stat_fd, NULL, undo_nothing, false,
};
static const struct op op_stat_id = {
	"stat by id", run_stat_id, NULL, undo_nothing, false,
};
static const struct op op_ctl_open = {
	"open /dev/shmr", run_ctl_open, NULL, undo_close, false,
};

/* ---- tests ------------------------------------------------------------- */

FIXTURE(fault) {
	struct op_ctx c;
	struct live start;
};

FIXTURE_SETUP(fault)
{
	SHMR_REQUIRE_DEVICE();
	REQUIRE_FAIL_NTH();
	memset(&self->c, 0, sizeof(self->c));
	self->c.target = -1;
	self->c.fd = -1;
	ASSERT_EQ(0, knob_arm(0));
	ASSERT_EQ(0, live_snap(&self->start));
	self->c.ctl = shmr_ctl_open();
	ASSERT_LE(0, self->c.ctl);
	self->c.pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->c.name, sizeof(self->c.name), "fault_inject");
	shmr_track(self->c.name);
}

FIXTURE_TEARDOWN(fault)
{
	struct live end;

	knob_arm(0);
	shmr_cleanup();
	if (self->c.target >= 0)
		close(self->c.target);
	close(self->c.ctl);
	/* Everything the test made is gone again. */
	if (live_snap(&end) == 0 &&
	    live_diff("teardown", 0, &self->start, &end))
		_metadata->passed = 0;
}

/* A named target region for open, mmap, list and stat, held by an fd. */
static int make_target(struct op_ctx *c)
{
	struct shmr_create cr;

	shmr_test_name(c->target_name, sizeof(c->target_name), "fault_target");
	shmr_track(c->target_name);
	c->target = shmr_create(c->ctl, c->target_name, 2 * c->pg,
				SHMR_CREATE_EXCL, 0600, &cr);
	if (c->target < 0)
		return c->target;
	c->target_id = cr.id;
	return 0;
}

#define WALK(op, min_failed) do {					\
	struct walk_result res;						\
									\
	ASSERT_EQ(0, walk(&(op), &self->c, &res));			\
	TH_LOG("%s: %u failure(s) (%u EMFILE), succeeded at N=%u",	\
	       (op).what, res.failed, res.emfile, res.nth_ok);		\
	if ((min_failed) < 0) {	/* the operation allocates nothing */	\
		ASSERT_EQ(0U, res.failed);				\
	} else {							\
		ASSERT_LE((unsigned int)(min_failed), res.failed);	\
	}								\
	if ((op).may_emfile)						\
		ASSERT_EQ(1U, res.emfile);				\
} while (0)

TEST_F_TIMEOUT(fault, create_named, 300)
{
	WALK(op_create_named, 6);
	ASSERT_EQ(-ENOENT, shmr_open(self->c.ctl, self->c.name, 0, NULL));
}

TEST_F_TIMEOUT(fault, create_named_process, 300)
{
	self->c.create_flags = SHMR_CREATE_PROCESS;
	WALK(op_create_named, 7);
	ASSERT_EQ(-ENOENT, shmr_open(self->c.ctl, self->c.name, 0, NULL));
}

TEST_F_TIMEOUT(fault, create_anonymous, 300)
{
	WALK(op_create_anon, 6);
}

/*
 * In a new IPC namespace the namespace entry is allocated when the control
 * fd is opened, its exit log at the first CREATE.
 */
TEST_F_TIMEOUT(fault, create_named_new_ipcns, 300)
{
	struct walk_result res;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ctl;

		if (unshare(CLONE_NEWIPC))
			_exit(100);
		/* the namespace entry */
		if (walk(&op_ctl_open, &self->c, &res))
			_exit(107);
		fprintf(stderr, "# new ipcns, open: %u failure(s), succeeded at N=%u\n",
			res.failed, res.nth_ok);
		if (res.failed < 1)
			_exit(108);
		ctl = shmr_ctl_open();
		if (ctl < 0)
			_exit(101);
		self->c.ctl = ctl;
		if (walk(&op_create_named, &self->c, &res))
			_exit(102);
		fprintf(stderr, "# new ipcns: %u failure(s) (%u EMFILE), succeeded at N=%u\n",
			res.failed, res.emfile, res.nth_ok);
		/*
		 * region, shmem, exit log, then the handle's points from the
		 * first attempt that got the log kept it.
		 */
		if (res.failed < 5)
			_exit(103);
		/* with the entry in place, every handle point as in create_named */
		if (walk(&op_create_named, &self->c, &res))
			_exit(105);
		if (res.failed < 6 || res.emfile != 1)
			_exit(106);
		if (shmr_open(ctl, self->c.name, 0, NULL) != -ENOENT)
			_exit(104);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F_TIMEOUT(fault, create_or_open_existing, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	WALK(op_create_existing, 6);
}

TEST_F_TIMEOUT(fault, open_by_name, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	WALK(op_open, 4);
}

/*
 * A process already attached (it holds a handle) maps a region mapped
 * before without allocating.
 */
TEST_F_TIMEOUT(fault, mmap_touch, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	ASSERT_EQ(0, prime_target(&self->c));
	WALK(op_mmap, -1);
}

/*
 * The first mmap of a region makes its map file: the create's points, then
 * the map file's two (its private data, the file).
 */
TEST_F_TIMEOUT(fault, mmap_touch_first, 300)
{
	WALK(op_create_mmap, 8);
}

/*
 * A region's first ATTACH: the create's six points, the attach file's and
 * the map file's two each, the attach entry.
 */
TEST_F_TIMEOUT(fault, attach_first, 300)
{
	WALK(op_create_attach, 11);
	ASSERT_EQ(-ENOENT, shmr_open(self->c.ctl, self->c.name, 0, NULL));
}

/*
 * ATTACH of a region attached before by a process that holds a handle of
 * it: nothing to allocate; in a process with no attach entry for it (a
 * forked child), the entry.
 */
TEST_F_TIMEOUT(fault, attach_again, 300)
{
	struct walk_result res;
	int status;
	pid_t pid;

	ASSERT_EQ(0, make_target(&self->c));
	ASSERT_EQ(0, run_attach(&self->c));
	undo_munmap(&self->c);
	WALK(op_attach, -1);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (walk(&op_attach, &self->c, &res))
			_exit(100);
		_exit(res.failed == 1 ? 0 : 101);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * mmap in a process with no attach entry for the region (the fd came over
 * fork): the mapping needs a new entry, and STAT counts the process.
 */
TEST_F_TIMEOUT(fault, mmap_touch_new_attach, 300)
{
	struct walk_result res;
	int status;
	pid_t pid;

	ASSERT_EQ(0, make_target(&self->c));
	ASSERT_EQ(0, prime_target(&self->c));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_region_info info;

		if (walk(&op_mmap, &self->c, &res) || res.failed < 1)
			_exit(100);
		if (run_mmap(&self->c))
			_exit(101);
		if (shmr_stat_fd(self->c.target, &info) ||
		    info.nattach != 2 || info.mappings != 1)
			_exit(102);
		undo_munmap(&self->c);
		if (shmr_stat_fd(self->c.target, &info) ||
		    info.nattach != 1 || info.mappings != 0)
			_exit(103);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * mmap through a read-only handle, the only fd of the region, in a process
 * that is not attached yet (the fd came over fork): the failed mmap leaves
 * the unlinked region alive for the next one.
 */
TEST_F_TIMEOUT(fault, mmap_touch_readonly_only_fd, 300)
{
	int fd, status;
	pid_t pid;

	ASSERT_EQ(0, make_target(&self->c));
	fd = shmr_open(self->c.ctl, self->c.target_name, SHMR_OPEN_RDONLY,
		       NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_unlink(self->c.ctl, self->c.target_name));
	close(self->c.target);
	self->c.target = fd;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		void *m;

		if (knob_arm(1))
			_exit(100);
		m = mmap(NULL, self->c.pg, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED || errno != ENOMEM || knob_read() != 0)
			_exit(101);
		m = mmap(NULL, self->c.pg, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED || *(volatile char *)m != 0 ||
		    munmap(m, self->c.pg))
			_exit(102);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F_TIMEOUT(fault, unlink, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	/* UNLINK allocates nothing (the name is copied to the stack) */
	WALK(op_unlink, -1);
	ASSERT_EQ(-ENOENT, shmr_open(self->c.ctl, self->c.target_name, 0,
				     NULL));
}

TEST_F_TIMEOUT(fault, exited, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	WALK(op_exited, 1);
}

TEST_F_TIMEOUT(fault, list, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	WALK(op_list, 1);
}

TEST_F_TIMEOUT(fault, stat, 300)
{
	ASSERT_EQ(0, make_target(&self->c));
	WALK(op_stat_fd, 1);
	WALK(op_stat_id, 1);
}

/* Disarmed, nothing fails; a forked child (another process) is unaffected. */
static int child_create(void *arg)
{
	struct op_ctx *c = arg;
	int fd = shmr_create(c->ctl, NULL, c->pg, 0, 0600, NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(fault, other_process_unaffected, 300)
{
	struct shmr_creds same = { .uid = 0, .gid = 0,
				   .caps = SHMR_CAPS_UNCHANGED };
	long long inj = shmr_counter("faults_injected");

	ASSERT_EQ(0, knob_arm(1));
	ASSERT_EQ(0, shmr_run_as(&same, child_create, &self->c));
	ASSERT_EQ(1, knob_read());
	ASSERT_EQ(inj, shmr_counter("faults_injected"));
	ASSERT_EQ(0, knob_arm(0));
	ASSERT_EQ(0, knob_read());
	ASSERT_EQ(0, child_create(&self->c));
}

/*
 * Threads of one process create and close anonymous regions while the
 * main thread re-arms the knob: each injected failure fails exactly one
 * operation of one thread, with the injected errno, and nothing leaks.
 */
#define MT_THREADS	4
#define MT_OPS		150

struct mt_arg {
	struct op_ctx *c;
	int failed, bad;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	int i, fd;

	for (i = 0; i < MT_OPS; i++) {
		fd = shmr_create(a->c->ctl, NULL, a->c->pg, 0, 0600, NULL);
		if (fd >= 0)
			close(fd);
		else if (fd == -ENOMEM || fd == -EMFILE)
			a->failed++;
		else
			a->bad++;
	}
	return NULL;
}

TEST_F_TIMEOUT(fault, threads, 300)
{
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	long long inj0 = shmr_counter("faults_injected");
	int i, failed = 0, arms = 1;
	struct live before, after;

	ASSERT_EQ(0, live_snap(&before));
	memset(args, 0, sizeof(args));
	/* Armed before the threads start, so that something fails. */
	ASSERT_EQ(0, knob_arm(1));
	for (i = 0; i < MT_THREADS; i++) {
		args[i].c = &self->c;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mt_worker, &args[i]));
	}
	for (i = 0; i < 200; i++) {
		usleep(500);
		ASSERT_EQ(0, knob_arm(1 + i % 13));
		arms++;
	}
	for (i = 0; i < MT_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, args[i].bad);
		failed += args[i].failed;
	}
	ASSERT_EQ(0, knob_arm(0));
	TH_LOG("%d arms, %d failures injected", arms, failed);
	ASSERT_EQ(inj0 + failed, shmr_counter("faults_injected"));
	ASSERT_LT(0, failed);
	ASSERT_EQ(0, live_snap(&after));
	ASSERT_EQ(0, live_diff("threads", 0, &before, &after));
}

TEST_F_TIMEOUT(fault, knob_input, 300)
{
	static const char * const bad[] = {
		"garbage", "-1", "-0x10", "1x", " 3", "0x", "1 2",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(0, knob_arm(7));
		EXPECT_EQ(-EINVAL, knob_write(bad[i])) {
			TH_LOG("input \"%s\"", bad[i]);
		}
		/* A refused write leaves the knob as it was. */
		ASSERT_EQ(7, knob_read());
	}
	ASSERT_EQ(-ERANGE, knob_write("4294967296"));
	ASSERT_EQ(0, knob_write("3\n"));
	ASSERT_EQ(3, knob_read());
	ASSERT_EQ(0, knob_write("0x10"));
	ASSERT_EQ(16, knob_read());
	ASSERT_EQ(0, knob_write("0"));
	ASSERT_EQ(0, knob_read());
}

TEST_HARNESS_MAIN
