// SPDX-License-Identifier: GPL-2.0
/*
 * perm_exited: SHMR_IOC_EXITED shows a caller only the exit records of
 * regions it could open for reading (the region's owner, group or other
 * bits), or owns, or every record with CAP_IPC_OWNER in the IPC
 * namespace's user namespace; SHMR_EXITED_CLEAR forgets only records the
 * caller was shown. The library's shmr_exit_list() and `shmrctl leaks` go
 * through EXITED and show the same. Uids: shmrtest 1000, shmrpeer 1001
 * (the VM's users) and 1002, without entries.
 */
#include "shmr_test.h"
#include <libgen.h>
#include <sched.h>

/* shmr_test.h has its own shmr_features() (the raw ioctl) */
#define shmr_features shmr_lib_features
#include "shmr.h"
#undef shmr_features

#define TEST_UID	1000
#define PEER_UID	1001
#define STRANGER_UID	1002

struct reg {
	char tag;
	uid_t uid;
	gid_t gid;
	uint32_t mode;
};

/* Who may see each: see expected() */
static const struct reg regs[] = {
	{ 'A', TEST_UID, TEST_UID, 0600 },
	{ 'B', PEER_UID, PEER_UID, 0600 },
	{ 'C', PEER_UID, PEER_UID, 0604 },	/* other may read */
	{ 'D', PEER_UID, TEST_UID, 0640 },	/* group TEST_UID may read */
	{ 'E', TEST_UID, TEST_UID, 0000 },	/* the owner still sees it */
	{ 'F', PEER_UID, PEER_UID, 0602 },	/* other may write only: not open */
};
#define NREGS	(int)(sizeof(regs) / sizeof(regs[0]))
#define ALL	((1 << NREGS) - 1)
#define BIT(t)	(1 << ((t) - 'A'))

static char names[NREGS][64];
static int ctl = -1;

/* Bit i for the region whose name is names[i]; -1 for a name not ours. */
static int mask_of(const char *name)
{
	int i;

	for (i = 0; i < NREGS; i++)
		if (!strcmp(name, names[i]))
			return 1 << i;
	return -1;
}

struct query {
	uint32_t cap;
	uint32_t flags;
};

/* EXITED: the regions shown (bits), total << 8; negative on error. */
static int exited_mask(void *arg)
{
	static struct shmr_exit_record recs[64];
	const struct query *q = arg;
	struct shmr_exited x;
	int mask = 0, m;
	uint32_t i;

	memset(&x, 0, sizeof(x));
	x.records = (uintptr_t)recs;
	x.cap = q->cap;
	x.flags = q->flags;
	if (shmr_ioctl(ctl, SHMR_IOC_EXITED, &x))
		return -1;
	if (x.count > q->cap || x.total < x.count)
		return -2;
	for (i = 0; i < x.count; i++) {
		m = mask_of(recs[i].name);
		if (m < 0 || (mask & m))
			return -3;
		mask |= m;
	}
	return mask | (int)(x.total << 8);
}

/* The same through the library (its own control fd, this namespace). */
static int lib_mask(void *arg)
{
	struct shmr_exit e[64];
	int n, i, mask = 0, m;

	(void)arg;
	setenv("SHMR_BACKEND", "kernel", 1);
	n = shmr_exit_list(e, 64, 0);
	if (n < 0 || n > 64)
		return -1;
	for (i = 0; i < n; i++) {
		m = mask_of(e[i].name);
		if (m < 0 || (mask & m))
			return -3;
		mask |= m;
	}
	return mask | (n << 8);
}

/* `shmrctl leaks --json`: which of our names its output holds. */
static int shmrctl_mask(void *arg)
{
	char exe[PATH_MAX], path[PATH_MAX], out[65536];
	int ofd, st, i, mask = 0;
	ssize_t n;
	pid_t pid;

	(void)arg;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	/* <root>/tests/vm/perm_exited -> <root>/bin/shmrctl */
	snprintf(path, sizeof(path), "%s/bin/shmrctl", dirname(dirname(dirname(exe))));
	ofd = memfd_create("out", 0);
	if (ofd < 0)
		return -2;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		setenv("SHMR_BACKEND", "kernel", 1);
		execl(path, "shmrctl", "leaks", "--json", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -3;
	n = pread(ofd, out, sizeof(out) - 1, 0);
	close(ofd);
	if (n <= 0)
		return -4;
	out[n] = '\0';
	for (i = 0; i < NREGS; i++)
		if (strstr(out, names[i]))
			mask |= 1 << i;
	return mask;
}

/* A region as its owner: created with the owner's fsuid and fsgid. */
static int create_one(void *arg)
{
	const struct reg *r = arg;
	int fd = shmr_create(ctl, names[r - regs], 4096, SHMR_CREATE_EXCL,
			     r->mode, NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static struct shmr_creds as(uid_t uid, gid_t gid, uint64_t caps)
{
	struct shmr_creds cr = { uid, gid, 0, { 0 }, caps };

	return cr;
}

/*
 * Root (CAP_IPC_OWNER) opens every region and is killed: one exit record
 * per region.
 */
static int kill_holder(void)
{
	int rdy[2], status, i, fd;
	pid_t pid;
	char x;

	if (pipe(rdy))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (i = 0; i < NREGS; i++) {
			fd = shmr_open(ctl, names[i], SHMR_OPEN_RDONLY, NULL);
			if (fd < 0)
				_exit(1);
		}
		if (write(rdy[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(rdy[1]);
	if (read(rdy[0], &x, 1) != 1)
		return -2;
	close(rdy[0]);
	if (kill(pid, SIGKILL) || waitpid(pid, &status, 0) != pid)
		return -3;
	return WIFSIGNALED(status) ? 0 : -4;
}

static int query(const struct shmr_creds *cr, uint32_t cap, uint32_t flags)
{
	struct query q = { cap, flags };

	return shmr_run_as(cr, exited_mask, &q);
}

/* The regions shown and the total of a query's result (or its error). */
static int SHOWN(int v)
{
	return v < 0 ? v : v & 0xff;
}

static int TOTAL(int v)
{
	return v < 0 ? v : v >> 8;
}

TEST(exit_records_by_permission)
{
	const struct shmr_creds root = as(0, 0, SHMR_CAPS_UNCHANGED);
	const struct shmr_creds test = as(TEST_UID, TEST_UID, 0);
	const struct shmr_creds peer = as(PEER_UID, PEER_UID, 0);
	const struct shmr_creds stranger = as(STRANGER_UID, STRANGER_UID, 0);
	const struct shmr_creds stranger_cap = as(STRANGER_UID, STRANGER_UID,
						  SHMR_CAP(CAP_IPC_OWNER));
	struct shmr_creds stranger_grp = stranger;
	const int test_sees = BIT('A') | BIT('C') | BIT('D') | BIT('E');
	const int peer_sees = BIT('B') | BIT('C') | BIT('D') | BIT('F');
	int i, v, rest;

	SHMR_REQUIRE_DEVICE();
	/* a namespace of our own: its exit log holds only these records */
	ASSERT_EQ(0, unshare(CLONE_NEWIPC));
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	for (i = 0; i < NREGS; i++) {
		struct shmr_creds owner = as(regs[i].uid, regs[i].gid, 0);

		snprintf(names[i], sizeof(names[i]), "perm_exited.%d.%c",
			 (int)getpid(), regs[i].tag);
		ASSERT_EQ(0, shmr_run_as(&owner, create_one, (void *)&regs[i]))
			TH_LOG("creating %c", regs[i].tag);
	}
	ASSERT_EQ(0, kill_holder());

	v = query(&root, 64, 0);
	ASSERT_EQ(ALL, SHOWN(v));
	EXPECT_EQ(NREGS, TOTAL(v));
	v = query(&test, 64, 0);
	EXPECT_EQ(test_sees, SHOWN(v));
	EXPECT_EQ(4, TOTAL(v));
	v = query(&peer, 64, 0);
	EXPECT_EQ(peer_sees, SHOWN(v));
	EXPECT_EQ(4, TOTAL(v));
	v = query(&stranger, 64, 0);
	EXPECT_EQ(BIT('C'), SHOWN(v));
	EXPECT_EQ(1, TOTAL(v));
	stranger_grp.ngroups = 1;
	stranger_grp.groups[0] = TEST_UID;
	v = query(&stranger_grp, 64, 0);
	EXPECT_EQ(BIT('C') | BIT('D'), SHOWN(v));
	v = query(&stranger_cap, 64, 0);
	EXPECT_EQ(ALL, SHOWN(v));
	/* a short buffer: total still counts only what may be seen */
	v = query(&test, 1, 0);
	EXPECT_EQ(4, TOTAL(v));

	/* the library and shmrctl show the same */
	v = shmr_run_as(&test, lib_mask, NULL);
	EXPECT_EQ(test_sees, SHOWN(v));
	EXPECT_EQ(4, TOTAL(v));
	v = shmr_run_as(&peer, lib_mask, NULL);
	EXPECT_EQ(peer_sees, SHOWN(v));
	EXPECT_EQ(test_sees, shmr_run_as(&test, shmrctl_mask, NULL));
	EXPECT_EQ(BIT('C'), shmr_run_as(&stranger, shmrctl_mask, NULL));

	/* CLEAR forgets what it returned and nothing else */
	v = query(&stranger, 0, SHMR_EXITED_CLEAR);	/* no buffer */
	EXPECT_EQ(0, SHOWN(v));
	EXPECT_EQ(ALL, SHOWN(query(&root, 64, 0)));
	v = query(&stranger, 64, SHMR_EXITED_CLEAR);
	EXPECT_EQ(BIT('C'), SHOWN(v));
	EXPECT_EQ(ALL & ~BIT('C'), SHOWN(query(&root, 64, 0)));
	v = query(&peer, 64, SHMR_EXITED_CLEAR);
	EXPECT_EQ(peer_sees & ~BIT('C'), SHOWN(v));
	v = query(&root, 64, 0);
	EXPECT_EQ(BIT('A') | BIT('E'), SHOWN(v));
	EXPECT_EQ(2, TOTAL(v));
	EXPECT_EQ(0, SHOWN(query(&peer, 64, 0)));
	/* a buffer of one: one of the two goes */
	v = query(&test, 1, SHMR_EXITED_CLEAR);
	ASSERT_LE(0, v);
	EXPECT_TRUE(SHOWN(v) == BIT('A') || SHOWN(v) == BIT('E'));
	EXPECT_EQ(2, TOTAL(v));
	rest = (BIT('A') | BIT('E')) & ~SHOWN(v);
	v = query(&root, 64, 0);
	EXPECT_EQ(rest, SHOWN(v));
	EXPECT_EQ(1, TOTAL(v));

	for (i = 0; i < NREGS; i++)
		EXPECT_EQ(0, shmr_unlink(ctl, names[i]));
	close(ctl);
}

TEST_HARNESS_MAIN
