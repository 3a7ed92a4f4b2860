// SPDX-License-Identifier: GPL-2.0
/*
 * The permission matrix again inside a new user namespace with a new IPC
 * namespace, as `unshare -Ur -i` makes it, but with more than one uid: the
 * test process (root on the host) unshares CLONE_NEWUSER | CLONE_NEWIPC
 * and a helper left on the host writes a multi-line uid_map and gid_map
 * (ns 0 -> host 200000, ns 1000..1007 -> host 201000..201007).
 *
 * Inside: owner/group/other and the mode bits decide OPEN (read-only,
 * read-write, create-or-open) exactly as on the host; the namespace's root
 * holds CAP_IPC_OWNER and CAP_SYS_ADMIN in the user namespace that owns
 * the IPC namespace, so it overrides (open and unlink) for regions of that
 * namespace, as the module's ns_capable(ipc_ns->user_ns, ...) promises;
 * without CAP_IPC_OWNER it is "other" (or "group"); a nested user
 * namespace inside gives its creator no override at all. The host's
 * regions are not visible inside (new IPC namespace). From the host, root
 * that joins the IPC namespace sees the host's ids in STAT and overrides,
 * even without CAP_IPC_OWNER (euid 0 created the user namespace, and its
 * owner has every capability in it: cap_capable()); a host uid without
 * capabilities is "other" there.
 * A region whose owner is not mapped in the namespace shows the overflow
 * ids and the namespace's root still overrides it (like SysV ipcperms()).
 * Read-only handles inside stay read-only: mmap, mprotect, /proc/self/fd
 * reopen and /proc/self/map_files are refused.
 */
#include <sched.h>

#include "perm_tests.h"

#define HOST_BASE	200000		/* host uid/gid of ns uid/gid 0 */
#define HOST_1000	201000		/* host uid/gid of ns uid/gid 1000 */
#define ID_MAP		"0 200000 1\n1000 201000 8\n"
#define UNMAPPED_UID	5000		/* a host uid without a mapping inside */
#define OVERFLOW_ID	65534

#define OWNER_UID	1000
#define OWNER_GID	1000

#define NO_USERNS	(-10003)

/* ---- entering the namespace ---------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/*
 * Unshare CLONE_NEWUSER | CLONE_NEWIPC; a helper forked before that (still
 * root in the initial user namespace) writes ID_MAP into our uid_map and
 * gid_map, which a process inside could not (more than one line). Then
 * become uid 0 / gid 0 inside. 0 or -errno (NO_USERNS if unshare failed).
 */
static int enter_userns(void)
{
	int go[2], status;
	pid_t helper;
	char c = 0;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	helper = fork();
	if (helper < 0)
		return -errno;
	if (helper == 0) {
		char path[64];
		pid_t target = getppid();

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)target);
		if (write_file(path, ID_MAP))
			_exit(3);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)target);
		if (write_file(path, ID_MAP))
			_exit(4);
		_exit(0);
	}
	close(go[0]);
	if (unshare(CLONE_NEWUSER | CLONE_NEWIPC)) {
		close(go[1]);
		waitpid(helper, &status, 0);
		return NO_USERNS;
	}
	if (write(go[1], &c, 1) != 1)
		return -EIO;
	close(go[1]);
	if (waitpid(helper, &status, 0) != helper || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -EIO;
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
		return -errno;
	return 0;
}

#define ENTER_USERNS() do {						\
	int _r = enter_userns();					\
	if (_r == NO_USERNS)						\
		SKIP(_exit(255), "unshare(CLONE_NEWUSER|CLONE_NEWIPC): %s", \
		     strerror(errno));					\
	ASSERT_EQ(0, _r) TH_LOG("entering the user namespace");	\
	ASSERT_EQ(0U, getuid());					\
} while (0)

/* ---- subjects, inside the namespace ------------------------------------- */

struct subject {
	const char *what;
	struct shmr_creds cr;
	enum perm_class cls;
	uint64_t drop;		/* uid 0: the namespace root's caps minus these */
	bool nested;		/* unshare(CLONE_NEWUSER) once more first */
	bool may_unlink;
};

static const struct subject subjects[] = {
	{ "owner", { OWNER_UID, OWNER_GID, 0, { 0 }, 0 }, CLASS_OWNER, 0, false, true },
	{ "owner, other gid", { OWNER_UID, 1003, 0, { 0 }, 0 }, CLASS_OWNER, 0, false, true },
	{ "group (primary)", { 1001, OWNER_GID, 0, { 0 }, 0 }, CLASS_GROUP, 0, false, false },
	{ "group (supplementary)", { 1002, 1002, 1, { OWNER_GID }, 0 }, CLASS_GROUP, 0,
	  false, false },
	{ "other", { 1003, 1003, 0, { 0 }, 0 }, CLASS_OTHER, 0, false, false },
	{ "ns root without CAP_IPC_OWNER", { 0, 0, 0, { 0 }, 0 }, CLASS_OTHER,
	  SHMR_CAP(CAP_IPC_OWNER), false, true /* CAP_SYS_ADMIN */ },
	{ "ns root without CAP_IPC_OWNER, in the group", { 0, OWNER_GID, 0, { 0 }, 0 },
	  CLASS_GROUP, SHMR_CAP(CAP_IPC_OWNER), false, true },
	{ "ns root without CAP_IPC_OWNER and CAP_SYS_ADMIN", { 0, 0, 0, { 0 }, 0 },
	  CLASS_OTHER, SHMR_CAP(CAP_IPC_OWNER) | SHMR_CAP(CAP_SYS_ADMIN), false, false },
	{ "other with CAP_IPC_OWNER in the ns",
	  { 1003, 1003, 0, { 0 }, SHMR_CAP(CAP_IPC_OWNER) }, CLASS_OVERRIDE, 0, false, true },
	{ "ns root", { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED }, CLASS_OVERRIDE, 0, false, true },
	{ "ns root in a nested user ns", { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED },
	  CLASS_OTHER, 0, true, false },
	{ "other in a nested user ns", { 1003, 1003, 0, { 0 }, 0 }, CLASS_OTHER, 0, true,
	  false },
	{ "owner in a nested user ns", { OWNER_UID, OWNER_GID, 0, { 0 }, 0 }, CLASS_OWNER,
	  0, true, true },
};

static struct shmr_creds subject_creds(const struct subject *s)
{
	struct shmr_creds cr = s->cr;

	if (s->drop)
		cr.caps = shmr_caps_current() & ~s->drop;
	return cr;
}

struct op {
	char name[128];
	uint32_t flags;		/* SHMR_OPEN_* */
	bool create;		/* create-or-open instead of OPEN */
	bool unlink;		/* UNLINK instead */
	bool nested;
	uint64_t size;
	uint32_t mode;
	uint64_t id;		/* the region's id, to check a success */
};


/* In the child: the operation's result, 0 or -errno (or WRONG_*). */
static int do_op(void *arg)
{
	const struct op *op = arg;
	int ctl, ret;

	if (op->nested) {
		if (unshare(CLONE_NEWUSER))
			return NO_USERNS;
		/* all caps in the nested ns, none in the IPC ns's owner */
		if (!(shmr_caps_current() & SHMR_CAP(CAP_IPC_OWNER)))
			return NO_USERNS;
	}
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	if (op->unlink) {
		ret = shmr_unlink(ctl, op->name);
		close(ctl);
		return ret;
	}
	ret = perm_attempt(ctl, op->name, op->flags, op->create, op->size, 0, 0600,
			   op->id);
	close(ctl);
	return ret;
}

/* As the subject: create op->name with op->mode, write the id to op->id. */
static int create_named(void *arg)
{
	struct op *op = arg;

	return perm_create_excl(op->name, op->size, op->mode, &op->id);
}

static struct op *shared_op(void)
{
	struct op *op = mmap(NULL, sizeof(*op), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (op == MAP_FAILED)
		return NULL;
	memset(op, 0, sizeof(*op));
	op->size = (uint64_t)shmr_page_size();
	return op;
}

/* ---- the matrix inside --------------------------------------------------- */

FIXTURE(ns) {
	struct op *op;		/* shared with the children */
};

FIXTURE_VARIANT(ns) {
	uint32_t mode;
};

FIXTURE_VARIANT_ADD(ns, m0000) { .mode = 0 };
FIXTURE_VARIANT_ADD(ns, m0400) { .mode = 0400 };
FIXTURE_VARIANT_ADD(ns, m0600) { .mode = 0600 };
FIXTURE_VARIANT_ADD(ns, m0640) { .mode = 0640 };
FIXTURE_VARIANT_ADD(ns, m0604) { .mode = 0604 };
FIXTURE_VARIANT_ADD(ns, m0666) { .mode = 0666 };
FIXTURE_VARIANT_ADD(ns, m0066) { .mode = 0066 };	/* owner excluded */
FIXTURE_VARIANT_ADD(ns, m0060) { .mode = 0060 };
FIXTURE_VARIANT_ADD(ns, m0006) { .mode = 0006 };

FIXTURE_SETUP(ns)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid()) TH_LOG("the permission tests run as root");
	ENTER_USERNS();
	self->op = shared_op();
	ASSERT_NE(NULL, self->op);
	shmr_test_name(self->op->name, sizeof(self->op->name), "perm_userns");
	self->op->mode = variant->mode;
	shmr_track(self->op->name);
	ASSERT_EQ(0, shmr_run_as(&owner, create_named, self->op));
	ASSERT_NE(0ULL, (unsigned long long)self->op->id);
}

FIXTURE_TEARDOWN(ns)
{
	shmr_cleanup();
}

static void run_matrix(struct __test_metadata *_metadata, struct op *op,
		       uint32_t mode, uint32_t flags, bool create, uint32_t need)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		struct shmr_creds cr = subject_creds(&subjects[i]);

		op->flags = flags;
		op->create = create;
		op->nested = subjects[i].nested;
		ret = shmr_run_as(&cr, do_op, op);
		if (ret == NO_USERNS) {
			TH_LOG("%s: no nested user namespace, not checked",
			       subjects[i].what);
			continue;
		}
		EXPECT_EQ(perm_expected(subjects[i].cls, mode, need), ret)
			TH_LOG("mode %04o, %s, %s", mode, subjects[i].what,
			       create ? "create-or-open" :
			       flags & SHMR_OPEN_RDONLY ? "read-only" : "read-write");
	}
}

TEST_F(ns, open_read_only)
{
	run_matrix(_metadata, self->op, variant->mode, SHMR_OPEN_RDONLY, false, 4);
}

TEST_F(ns, open_read_write)
{
	run_matrix(_metadata, self->op, variant->mode, 0, false, 6);
}

TEST_F(ns, create_or_open_is_read_write)
{
	run_matrix(_metadata, self->op, variant->mode, 0, true, 6);
}

TEST_F(ns, stat_ids_in_the_namespace)
{
	struct shmr_region_info info = { 0 };
	int ctl = shmr_ctl_open();

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, shmr_stat_id(ctl, self->op->id, &info));
	EXPECT_EQ((uint32_t)OWNER_UID, info.uid);
	EXPECT_EQ((uint32_t)OWNER_GID, info.gid);
	EXPECT_EQ(variant->mode, info.mode);
	close(ctl);
}

/* UNLINK, per subject a fresh region of the variant's mode. */
TEST_F(ns, unlink_matrix)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	unsigned int i;
	int ret, ctl;

	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		const struct subject *s = &subjects[i];
		struct shmr_creds cr = subject_creds(s);
		struct shmr_open o;
		int fd;

		shmr_test_name(self->op->name, sizeof(self->op->name), "perm_userns.u");
		shmr_track(self->op->name);
		self->op->unlink = false;
		ASSERT_EQ(0, shmr_run_as(&owner, create_named, self->op));
		self->op->unlink = true;
		self->op->nested = s->nested;
		ret = shmr_run_as(&cr, do_op, self->op);
		if (ret == NO_USERNS) {
			TH_LOG("%s: no nested user namespace, not checked", s->what);
			continue;
		}
		EXPECT_EQ(s->may_unlink ? 0 : -EPERM, ret)
			TH_LOG("mode %04o, %s", variant->mode, s->what);
		/* as the namespace's root: is the name still there? */
		fd = shmr_open(ctl, self->op->name, SHMR_OPEN_RDONLY, &o);
		if (s->may_unlink) {
			EXPECT_EQ(-ENOENT, fd) TH_LOG("%s", s->what);
		} else {
			EXPECT_LE(0, fd) TH_LOG("%s", s->what);
			EXPECT_EQ(self->op->id, o.id);
		}
		if (fd >= 0)
			close(fd);
	}
	close(ctl);
}

/* ---- the host's regions and the namespace's ------------------------------ */

struct host_view {
	char name[128];
	uint64_t named_id, anon_id;
	int step;
};

/* In a child: not in the new namespace, then in it. */
static int look_from_inside(void *arg)
{
	struct host_view *hv = arg;
	struct shmr_region_info info[16];
	struct shmr_list l;
	struct shmr_create c;
	int ctl, fd, ret;

	hv->step = 1;	/* control: visible before unshare */
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return hv->step;
	fd = shmr_open(ctl, hv->name, SHMR_OPEN_RDONLY, NULL);
	if (fd < 0)
		return hv->step;
	close(fd);
	if (shmr_stat_id(ctl, hv->anon_id, NULL))
		return hv->step;
	close(ctl);

	ret = enter_userns();
	if (ret)
		return ret == NO_USERNS ? NO_USERNS : hv->step;
	/* the namespace's root, all capabilities in the new user ns */
	hv->step = 2;
	if (!(shmr_caps_current() & SHMR_CAP(CAP_IPC_OWNER)))
		return hv->step;
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return hv->step;
	hv->step = 3;	/* the name is not there */
	if (shmr_open(ctl, hv->name, SHMR_OPEN_RDONLY, NULL) != -ENOENT)
		return hv->step;
	hv->step = 4;	/* nor are the ids */
	if (shmr_stat_id(ctl, hv->named_id, NULL) != -ENOENT ||
	    shmr_stat_id(ctl, hv->anon_id, NULL) != -ENOENT)
		return hv->step;
	hv->step = 5;	/* unlink does not reach it */
	if (shmr_unlink(ctl, hv->name) != -ENOENT)
		return hv->step;
	hv->step = 6;	/* LIST is empty */
	memset(&l, 0, sizeof(l));
	l.regions = (uintptr_t)info;
	l.cap = 16;
	if (shmr_ioctl(ctl, SHMR_IOC_LIST, &l) || l.total != 0)
		return hv->step;
	hv->step = 7;	/* the same name is free here: a new region */
	fd = shmr_create(ctl, hv->name, (uint64_t)shmr_page_size(),
			 SHMR_CREATE_EXCL, 0600, &c);
	if (fd < 0 || c.id == hv->named_id)
		return hv->step;
	close(fd);
	if (shmr_ioctl(ctl, SHMR_IOC_LIST, &l) || l.total != 1 ||
	    l.count != 1 || info[0].id != c.id || info[0].uid != 0)
		return hv->step;
	if (shmr_unlink(ctl, hv->name))
		return hv->step;
	close(ctl);
	return 0;
}

TEST(host_regions_invisible_inside)
{
	const struct shmr_creds root = { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED };
	struct host_view *hv;
	struct shmr_create c;
	int ctl, named, anon, ret;

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid());
	hv = mmap(NULL, sizeof(*hv), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hv);
	memset(hv, 0, sizeof(*hv));
	shmr_test_name(hv->name, sizeof(hv->name), "perm_userns.host");
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	named = shmr_create(ctl, shmr_track(hv->name), (uint64_t)shmr_page_size(),
			    SHMR_CREATE_EXCL, 0666, &c);
	ASSERT_LE(0, named);
	hv->named_id = c.id;
	anon = shmr_create(ctl, NULL, (uint64_t)shmr_page_size(), 0, 0666, &c);
	ASSERT_LE(0, anon);
	hv->anon_id = c.id;
	ret = shmr_run_as(&root, look_from_inside, hv);
	if (ret == NO_USERNS)
		SKIP(goto out, "cannot create a user namespace");
	EXPECT_EQ(0, ret) TH_LOG("failed at step %d", hv->step);
	/* still linked on the host */
	ret = shmr_open(ctl, hv->name, SHMR_OPEN_RDONLY, NULL);
	EXPECT_LE(0, ret);
	if (ret >= 0)
		close(ret);
out:
	close(named);
	close(anon);
	shmr_cleanup();
	close(ctl);
	munmap(hv, sizeof(*hv));
}

/*
 * The namespace side of the two host tests below: enter, create a region
 * as ns uid 1000 (mode 0000), tell the parent, wait until it is done.
 */
struct ns_peer {
	char name[128];
	char name2[128];	/* created from the host by an unmapped uid */
	uint64_t id, id2;
	pid_t pid;
	int ready[2], done[2];
	int result[16];
};

static void ns_peer_main(struct ns_peer *p)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	struct op *op = shared_op();
	char c = 0;
	int ret;

	close(p->ready[0]);
	close(p->done[1]);
	ret = enter_userns();
	if (ret == 0 && op) {
		snprintf(op->name, sizeof(op->name), "%s", p->name);
		op->mode = 0;
		ret = shmr_run_as(&owner, create_named, op);
		p->id = op->id;
	}
	c = ret == 0 ? 'y' : ret == NO_USERNS ? 's' : 'n';
	if (write(p->ready[1], &c, 1) != 1)
		_exit(1);
	/* wait for the parent; the namespace lives while we do */
	if (read(p->done[0], &c, 1) < 0)
		_exit(1);
	_exit(0);
}

static int start_ns_peer(struct ns_peer *p)
{
	pid_t pid;
	char c;

	if (pipe2(p->ready, O_CLOEXEC) || pipe2(p->done, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();	/* p is shared: only the parent writes p->pid */
	if (pid < 0)
		return -errno;
	if (pid == 0)
		ns_peer_main(p);
	p->pid = pid;
	close(p->ready[1]);
	close(p->done[0]);
	if (read(p->ready[0], &c, 1) != 1)
		return -EIO;
	return c == 'y' ? 0 : c == 's' ? NO_USERNS : -EIO;
}

static void stop_ns_peer(struct ns_peer *p)
{
	int status;

	close(p->done[1]);
	waitpid(p->pid, &status, 0);
	close(p->ready[0]);
}

/* setns() into the peer's IPC namespace (keeping the host's user ns). */
static int join_ipc(pid_t pid)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWIPC))
		ret = -errno;
	close(fd);
	return ret;
}

/* Host root in the namespace's IPC ns: results[0..] of each step. */
static int host_side(void *arg)
{
	struct ns_peer *p = arg;
	struct shmr_region_info info = { 0 };
	const struct shmr_creds host_other = { 1003, 1003, 0, { 0 }, 0 };
	struct shmr_creds nocap = { 0, 0, 0, { 0 }, 0 };
	struct op *op = shared_op();
	int ctl, fd, ret;

	if (!op)
		return -1;
	ret = join_ipc(p->pid);
	if (ret)
		return ret;
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return -2;
	/* STAT shows the owner as the host sees it */
	p->result[0] = shmr_stat_id(ctl, p->id, &info);
	p->result[1] = (int)info.uid;
	p->result[2] = (int)info.gid;
	/* CAP_IPC_OWNER in an ancestor user ns: mode 0000 is no obstacle */
	fd = shmr_open(ctl, p->name, 0, NULL);
	p->result[3] = fd < 0 ? fd : 0;
	if (fd >= 0)
		close(fd);
	/*
	 * Host root without CAP_IPC_OWNER still overrides: euid 0 created
	 * the user ns, and its owner has every capability in it
	 * (cap_capable()). A host uid that is not the owner is "other".
	 */
	snprintf(op->name, sizeof(op->name), "%s", p->name);
	op->id = p->id;
	nocap.caps = shmr_caps_current() & ~SHMR_CAP(CAP_IPC_OWNER);
	p->result[13] = shmr_run_as(&nocap, do_op, op);
	p->result[4] = shmr_run_as(&host_other, do_op, op);
	/* a host uid with no mapping inside creates a region there */
	{
		struct shmr_creds unmapped = { UNMAPPED_UID, UNMAPPED_UID, 0, { 0 }, 0 };

		snprintf(op->name, sizeof(op->name), "%s", p->name2);
		op->mode = 0600;
		p->result[5] = shmr_run_as(&unmapped, create_named, op);
		p->id2 = op->id;
	}
	close(ctl);
	return 0;
}

/* Back inside (a new process joining both namespaces of the peer). */
static int inside_side(void *arg)
{
	struct ns_peer *p = arg;
	const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };
	struct shmr_creds nocap = { 0, 0, 0, { 0 }, 0 };
	struct shmr_region_info info = { 0 };
	struct op *op = shared_op();
	char path[64];
	int fd, ctl;

	if (!op)
		return -1;
	/* the IPC ns first: once in the user ns, /proc/PID/ns is out of reach */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	if (join_ipc(p->pid))
		return -3;
	if (setns(fd, CLONE_NEWUSER))
		return -4;
	close(fd);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
		return -4;
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return -5;
	p->result[6] = shmr_stat_id(ctl, p->id2, &info);
	p->result[7] = (int)info.uid;
	p->result[8] = (int)info.gid;
	snprintf(op->name, sizeof(op->name), "%s", p->name2);
	op->id = p->id2;
	op->flags = 0;
	/* ns "other": mode 0600 of a stranger */
	p->result[9] = shmr_run_as(&other, do_op, op);
	/* ns root without CAP_IPC_OWNER: other */
	nocap.caps = shmr_caps_current() & ~SHMR_CAP(CAP_IPC_OWNER);
	p->result[10] = shmr_run_as(&nocap, do_op, op);
	/* ns root: CAP_IPC_OWNER in the IPC ns's user ns, mapped or not */
	p->result[11] = do_op(op);
	/* and it may unlink it (CAP_SYS_ADMIN there) */
	p->result[12] = shmr_unlink(ctl, p->name2);
	/* the peer's own region (mode 0000, ns uid 1000) goes too */
	p->result[14] = shmr_unlink(ctl, p->name);
	close(ctl);
	return 0;
}

TEST(host_and_unmapped_owners)
{
	const struct shmr_creds root = { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED };
	struct ns_peer *p;
	int ret;

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid());
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, sizeof(*p));
	memset(p->result, 0x7f, sizeof(p->result));
	shmr_test_name(p->name, sizeof(p->name), "perm_userns.peer");
	shmr_test_name(p->name2, sizeof(p->name2), "perm_userns.unmapped");
	ret = start_ns_peer(p);
	if (ret == NO_USERNS) {
		stop_ns_peer(p);
		SKIP(return, "cannot create a user namespace");
	}
	ASSERT_EQ(0, ret);

	EXPECT_EQ(0, shmr_run_as(&root, host_side, p));
	EXPECT_EQ(0, p->result[0]);
	EXPECT_EQ(HOST_1000, p->result[1]) TH_LOG("STAT uid seen from the host");
	EXPECT_EQ(HOST_1000, p->result[2]) TH_LOG("STAT gid seen from the host");
	EXPECT_EQ(0, p->result[3]) TH_LOG("host root opening a 0000 region");
	EXPECT_EQ(0, p->result[13]) TH_LOG("host root without CAP_IPC_OWNER (owns the user ns)");
	EXPECT_EQ(-EACCES, p->result[4]) TH_LOG("host uid 1003 in the ns's IPC ns");
	EXPECT_EQ(0, p->result[5]) TH_LOG("unmapped host uid creating a region");

	EXPECT_EQ(0, shmr_run_as(&root, inside_side, p));
	EXPECT_EQ(0, p->result[6]);
	EXPECT_EQ(OVERFLOW_ID, p->result[7]) TH_LOG("unmapped uid seen inside");
	EXPECT_EQ(OVERFLOW_ID, p->result[8]) TH_LOG("unmapped gid seen inside");
	EXPECT_EQ(-EACCES, p->result[9]) TH_LOG("ns other");
	EXPECT_EQ(-EACCES, p->result[10]) TH_LOG("ns root without CAP_IPC_OWNER");
	EXPECT_EQ(0, p->result[11]) TH_LOG("ns root");
	EXPECT_EQ(0, p->result[12]) TH_LOG("ns root unlinking");
	EXPECT_EQ(0, p->result[14]) TH_LOG("ns root unlinking ns uid 1000's region");
	stop_ns_peer(p);
	munmap(p, sizeof(*p));
}

/* ---- read-only handles inside --------------------------------------------- */

struct ro {
	char name[128];
	int step;
	int err;	/* errno at the failing step */
};

static void store_byte(void *arg)
{
	*(volatile unsigned char *)arg = 0xee;
}

/* Open read-only and try every way to write; 0 or the step that got through. */
static int ro_try(void *arg)
{
	size_t len = 2 * (size_t)shmr_page_size();
	struct ro *ro = arg;
	char path[96];
	unsigned char *p;
	int ctl, fd, fd2, mfd;

	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);	/* our own /proc/self */
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ro->step = 100;
	ro->step = 1;
	fd = shmr_open(ctl, ro->name, SHMR_OPEN_RDONLY, NULL);
	close(ctl);
	if (fd < 0)
		return ro->err = -fd, ro->step;
	ro->step = 2;	/* writable mapping refused */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EACCES)
		return ro->err = errno, ro->step;
	ro->step = 3;	/* read-only mapping, mprotect to writable refused */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return ro->err = errno, ro->step;
	if (mprotect(p, len, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		return ro->err = errno, ro->step;
	ro->step = 4;	/* a store faults */
	if (shmr_child_signal(store_byte, p) != SIGSEGV)
		return ro->step;
	ro->step = 5;	/* /proc/self/fd reopen refused by the module */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0 || errno != EACCES)
		return ro->err = errno, ro->step;
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	if (fd2 >= 0 || errno != EACCES)
		return ro->err = errno, ro->step;
	ro->step = 6;	/* control: a memfd reopens here (the path works) */
	mfd = memfd_create("perm_userns", MFD_CLOEXEC);
	if (mfd < 0)
		return ro->err = errno, ro->step;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 < 0)
		return ro->err = errno, ro->step;
	close(fd2);
	close(mfd);
	ro->step = 7;	/* map_files: refused (no CAP_SYS_ADMIN in init ns) */
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)p, (unsigned long)p + len);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0 || (errno != EPERM && errno != EACCES))
		return ro->err = errno, ro->step;
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	if (fd2 >= 0 || (errno != EPERM && errno != EACCES))
		return ro->err = errno, ro->step;
	ro->step = 8;	/* the mapping is still there, read-only */
	if (p[0] != 0 || shmr_child_signal(store_byte, p + len - 1) != SIGSEGV)
		return ro->step;
	munmap(p, len);
	close(fd);
	return ro->step = 0;
}

static int create_ro_region(void *arg)
{
	struct ro *ro = arg;
	int ctl, fd;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_create(ctl, ro->name, 2 * (uint64_t)shmr_page_size(),
			 SHMR_CREATE_EXCL, 0644, NULL);
	close(ctl);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

TEST(read_only_handles_inside)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };
	const struct shmr_creds root = { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED };
	size_t len = 2 * (size_t)shmr_page_size();
	struct ro *ro;
	int ctl, fd;
	void *p;

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid());
	ENTER_USERNS();
	ro = mmap(NULL, sizeof(*ro), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, sizeof(*ro));
	shmr_test_name(ro->name, sizeof(ro->name), "perm_userns.ro");
	shmr_track(ro->name);
	ASSERT_EQ(0, shmr_run_as(&owner, create_ro_region, ro));
	EXPECT_EQ(0, shmr_run_as(&other, ro_try, ro))
		TH_LOG("ns other: got through at step %d (errno %d)", ro->step, ro->err);
	EXPECT_EQ(0, shmr_run_as(&owner, ro_try, ro))
		TH_LOG("ns owner: got through at step %d (errno %d)", ro->step, ro->err);
	EXPECT_EQ(0, shmr_run_as(&root, ro_try, ro))
		TH_LOG("ns root: got through at step %d (errno %d)", ro->step, ro->err);
	/* nothing was written */
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	fd = shmr_open(ctl, ro->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(shmr_all_bytes(p, len, 0));
	munmap(p, len);
	close(fd);
	close(ctl);
	shmr_cleanup();
}

TEST_HARNESS_MAIN
