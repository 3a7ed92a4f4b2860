// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Batched region control over io_uring (shmr_batch_*).
 *
 * A queued operation keeps the library-level arguments, checked as the
 * matching shmr_region_*() call checks them (shmr__opts_check(), ...). A
 * submit either runs each operation through the backend's own call (the
 * fallback: kernel or posix backend alike), or, on the ring, fills the
 * module's command struct with the kernel backend's prep function, sends
 * one IORING_OP_URING_CMD SQE per operation (cmd_op = SHMR_IOC_*, the first
 * 8 bytes of the command area = the struct's address) on the backend's
 * control fd or a region fd, enters the kernel once, and reads each answer
 * with the backend's done function (kernel.h). New handles are allocated
 * when queued and tracked when their command succeeds, as the region calls
 * do it.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "kernel.h"

#define BATCH_MAX	4096
#define LIST_MAX	4096

enum op_kind {
	OP_CREATE = 1,
	OP_OPEN,
	OP_UNLINK,
	OP_STAT,
	OP_STAT_ID,
	OP_LIST,
	OP_FEATURES,
	OP_EVENTS,
	OP_WAIT_EVENTS,
};

struct batch_op {
	int kind;		/* enum op_kind */
	int res;		/* result; preset (non-zero) when invalid at queue time */
	int done;		/* 1: res is final, nothing to run */
	unsigned int lflags;	/* SHMR_REGION_* (create/open) */
	uint64_t size;		/* create */
	uint32_t mode;		/* create */
	uint64_t id;		/* stat_id */
	const struct shmr_region *region;	/* stat/events */
	struct shmr_region *nr;	/* create/open: the new handle, until it is the caller's */
	void *out;		/* caller's out pointer */
	size_t cap;		/* list */
	struct shmr_region_info *infos;		/* list buffer (ring) */
	const void *caller;	/* where it was queued (registry) */
	union {			/* the module's command (ring) */
		struct shmr_create create;
		struct shmr_open open;
		struct shmr_unlink unlink;
		struct shmr_stat stat;
		struct shmr_list list;
		struct shmr_features features;
		struct shmr_events events;
	} k;
	char name[SHMR_REGION_NAME_MAX + 1];	/* unlink */
};

struct shmr_batch {
	int transport;		/* SHMR_BATCH_* */
	int ring_ok;		/* ring initialised */
	pid_t pid;		/* creator: the ring is not usable in a child */
	unsigned int cap, n;
	int submitted;		/* results of the last submit are in ops[0..n) */
	const struct shmr__backend *be;
	struct io_uring ring;
	struct batch_op *ops;
};

/* ---- the once-per-process probe ---------------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_transport;	/* SHMR_BATCH_*, or 0 with probe_err */
static int probe_err;

static void prep_cmd(struct io_uring_sqe *sqe, int fd, unsigned int op, void *arg)
{
	uint64_t ptr = (uint64_t)(uintptr_t)arg;

	/* liburing 2.3 has no uring_cmd helper: fill the SQE by hand */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &ptr, sizeof(ptr));
}

/* One FEATURES command through a small ring: does the module answer it? */
static int ring_probe(void)
{
	struct shmr_features f;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (ret)
		return ret;
	memset(&f, 0, sizeof(f));
	sqe = io_uring_get_sqe(&ring);
	prep_cmd(sqe, shmr__kctl, SHMR_IOC_FEATURES, &f);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret >= 0) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	if (!ret && !(f.features & SHMR_FEAT_URING_CMD))
		ret = -EOPNOTSUPP;
	return ret;
}

/* The transport, on the backend's control fd: no second one is opened. */
static void probe(void)
{
	const struct shmr__backend *be;
	const char *env;
	int err = 0;

	be = shmr__backend_get(&err);
	if (!be) {
		probe_err = err;
		return;
	}
	if (be->kind != SHMR_BACKEND_KERNEL) {
		probe_transport = SHMR_BATCH_POSIX;
		return;
	}
	probe_transport = SHMR_BATCH_IOCTL;
	env = getenv("SHMR_URING");
	if (env && (!strcmp(env, "off") || !strcmp(env, "0")))
		return;
	if (!(shmr__kfeat & SHMR_FEAT_URING_CMD))
		return;
	if (ring_probe() == 0)
		probe_transport = SHMR_BATCH_RING;
}

/* ---- batch objects ----------------------------------------------------- */

/*
 * Two SQEs per operation at most (wait_events: poll + command). SUBMIT_ALL:
 * an SQE that fails early (a closed fd) must not stop the ones after it.
 */
static int ring_setup(struct shmr_batch *b)
{
	int ret = io_uring_queue_init(2 * b->cap, &b->ring, IORING_SETUP_SUBMIT_ALL);

	if (ret == -EINVAL)
		ret = io_uring_queue_init(2 * b->cap, &b->ring, 0);
	b->ring_ok = !ret;
	return ret;
}

/* After a failed submit the prepared SQEs must not run later: a new ring. */
static void ring_reset(struct shmr_batch *b)
{
	io_uring_queue_exit(&b->ring);
	if (ring_setup(b))
		b->transport = SHMR_BATCH_IOCTL;
}

SHMR_API int shmr_batch_new(unsigned int entries, unsigned int flags, struct shmr_batch **out)
{
	struct shmr_batch *b;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (entries == 0 || entries > BATCH_MAX || (flags & ~SHMR_BATCH_FALLBACK))
		return -EINVAL;
	pthread_once(&probe_once, probe);
	if (!probe_transport)
		return probe_err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ops = calloc(entries, sizeof(*b->ops));
	if (!b->ops) {
		free(b);
		return -ENOMEM;
	}
	b->cap = entries;
	b->pid = getpid();
	b->be = shmr__backend_get(&ret);
	b->transport = probe_transport;
	if (b->transport == SHMR_BATCH_RING && (flags & SHMR_BATCH_FALLBACK))
		b->transport = SHMR_BATCH_IOCTL;
	if (b->transport == SHMR_BATCH_RING && ring_setup(b))
		b->transport = SHMR_BATCH_IOCTL;
	*out = b;
	return 0;
}

/* What queued operations own: list buffers, handles that never ran. */
static void ops_release(struct shmr_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		free(b->ops[i].infos);
		b->ops[i].infos = NULL;
		free(b->ops[i].nr);
		b->ops[i].nr = NULL;
	}
}

SHMR_API void shmr_batch_free(struct shmr_batch *b)
{
	if (!b)
		return;
	if (b->ring_ok) {
		if (b->pid == getpid())
			io_uring_queue_exit(&b->ring);
		else	/* the child's copy of the parent's ring: only drop our view */
			close(b->ring.ring_fd);
	}
	ops_release(b);
	free(b->ops);
	free(b);
}

SHMR_API int shmr_batch_transport(const struct shmr_batch *b)
{
	return b ? b->transport : -EINVAL;
}

SHMR_API int shmr_batch_result(const struct shmr_batch *b, unsigned int idx)
{
	if (!b || !b->submitted || idx >= b->n)
		return -EINVAL;
	return b->ops[idx].res;
}

/* A new operation slot, or NULL with *err. */
static struct batch_op *op_new(struct shmr_batch *b, int kind, int *err)
{
	struct batch_op *op;

	if (b->submitted) {
		ops_release(b);
		b->n = 0;
		b->submitted = 0;
	}
	if (b->n >= b->cap) {
		*err = -ENOSPC;
		return NULL;
	}
	op = &b->ops[b->n];
	/* the command struct k is filled whole by op_cmd() when it runs */
	memset(op, 0, offsetof(struct batch_op, k));
	op->name[0] = '\0';
	op->kind = kind;
	return op;
}

static int op_queued(struct shmr_batch *b, struct batch_op *op, int preset)
{
	if (preset) {
		op->res = preset;
		op->done = 1;
	}
	return (int)b->n++;
}

SHMR_API int shmr_batch_create(struct shmr_batch *b, const struct shmr_region_opts *opts,
			       struct shmr_region **out)
{
	struct shmr_region_opts o;
	struct batch_op *op;
	int err = 0;

	if (!b || !out)
		return -EINVAL;
	*out = NULL;
	op = op_new(b, OP_CREATE, &err);
	if (!op)
		return err;
	op->out = out;
	op->caller = __builtin_return_address(0);
	err = shmr__opts_check(b->be, opts, &o);
	if (err)
		return op_queued(b, op, err);
	op->nr = shmr__region_alloc(o.name, 0);
	if (!op->nr)
		return op_queued(b, op, -ENOMEM);
	op->size = o.size;
	op->mode = o.mode;
	op->lflags = o.flags;
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_open(struct shmr_batch *b, const char *name, unsigned int flags,
			     struct shmr_region **out)
{
	struct batch_op *op;
	int err = 0;

	if (!b || !out)
		return -EINVAL;
	*out = NULL;
	op = op_new(b, OP_OPEN, &err);
	if (!op)
		return err;
	op->out = out;
	op->caller = __builtin_return_address(0);
	err = shmr__open_check(name, flags);
	if (err)
		return op_queued(b, op, err);
	op->nr = shmr__region_alloc(name, (flags & SHMR_REGION_RDONLY) ? SHMR__RDONLY : 0);
	if (!op->nr)
		return op_queued(b, op, -ENOMEM);
	op->lflags = flags;
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_unlink(struct shmr_batch *b, const char *name)
{
	struct batch_op *op;
	int err = 0;

	if (!b)
		return -EINVAL;
	op = op_new(b, OP_UNLINK, &err);
	if (!op)
		return err;
	err = shmr__check_name(name);
	if (err)
		return op_queued(b, op, err);
	strcpy(op->name, name);
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_stat(struct shmr_batch *b, const struct shmr_region *r,
			     struct shmr_region_stat *st)
{
	struct batch_op *op;
	int err = 0;

	if (!b || !r || !st)
		return -EINVAL;
	op = op_new(b, OP_STAT, &err);
	if (!op)
		return err;
	op->out = st;
	op->region = r;
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_stat_id(struct shmr_batch *b, uint64_t id, struct shmr_region_stat *st)
{
	struct batch_op *op;
	int err = 0;

	if (!b || !st)
		return -EINVAL;
	op = op_new(b, OP_STAT_ID, &err);
	if (!op)
		return err;
	op->out = st;
	op->id = id;
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_list(struct shmr_batch *b, struct shmr_region_stat *out, size_t cap)
{
	struct batch_op *op;
	int err = 0;

	if (!b || (!out && cap) || cap > LIST_MAX)
		return -EINVAL;
	op = op_new(b, OP_LIST, &err);
	if (!op)
		return err;
	op->out = out;
	op->cap = cap;
	if (cap && b->transport == SHMR_BATCH_RING) {
		op->infos = calloc(cap, sizeof(*op->infos));
		if (!op->infos)
			return op_queued(b, op, -ENOMEM);
	}
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_features(struct shmr_batch *b, uint64_t *features)
{
	struct batch_op *op;
	int err = 0;

	if (!b || !features)
		return -EINVAL;
	op = op_new(b, OP_FEATURES, &err);
	if (!op)
		return err;
	op->out = features;
	return op_queued(b, op, 0);
}

static int queue_events(struct shmr_batch *b, int kind, struct shmr_region *r, uint32_t *events)
{
	struct batch_op *op;
	int err = 0;

	if (!b || !r || !events)
		return -EINVAL;
	*events = 0;
	op = op_new(b, kind, &err);
	if (!op)
		return err;
	op->out = events;
	op->region = r;
	if (!(b->be->features & SHMR_FEATURE_EVENTS))
		return op_queued(b, op, -EOPNOTSUPP);
	return op_queued(b, op, 0);
}

SHMR_API int shmr_batch_events(struct shmr_batch *b, struct shmr_region *r, uint32_t *events)
{
	return queue_events(b, OP_EVENTS, r, events);
}

SHMR_API int shmr_batch_wait_events(struct shmr_batch *b, struct shmr_region *r,
				    uint32_t *events)
{
	return queue_events(b, OP_WAIT_EVENTS, r, events);
}

/* ---- running operations ------------------------------------------------ */

/* A new handle's command ended with res: it becomes the caller's, or goes. */
static int finish_region(struct batch_op *op, int res)
{
	if (res == 0) {
		shmr__region_track(op->nr, NULL, 0, op->caller);
		*(struct shmr_region **)op->out = op->nr;
	} else {
		free(op->nr);
	}
	op->nr = NULL;
	return res;
}

static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, -1);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (p.revents & POLLNVAL)
		return -EBADF;
	return 0;
}

/* The fallback, kernel or posix backend: the backend's own calls, in order. */
static void run_backend(const struct shmr_batch *b, struct batch_op *op)
{
	const struct shmr__backend *be = b->be;
	struct shmr_region *r = op->nr;
	int res = 0;

	switch (op->kind) {
	case OP_CREATE:
		res = finish_region(op, be->create(r, op->size, op->mode, op->lflags));
		break;
	case OP_OPEN:
		res = finish_region(op, be->open(r, op->lflags));
		break;
	case OP_UNLINK:
		res = be->unlink(op->name);
		break;
	case OP_STAT:
		res = be->stat(op->region, op->out);
		break;
	case OP_STAT_ID:
		res = be->stat_id(op->id, op->out);
		break;
	case OP_LIST:
		res = be->list(op->out, op->cap);
		break;
	case OP_FEATURES:
		*(uint64_t *)op->out = be->features;
		break;
	case OP_WAIT_EVENTS:
		res = wait_readable(op->region->fd);
		if (res)
			break;
		/* fall through */
	case OP_EVENTS:
		res = be->events((struct shmr_region *)op->region, op->out);
		break;
	}
	op->res = res;
	op->done = 1;
}

/*
 * The ring: the command of an operation (number, struct, fd), filled by the
 * kernel backend's prep functions. An operation that fails here (stat by id
 * 0) completes at once: -errno, and nothing to send.
 */
static int op_cmd(struct batch_op *op, unsigned int *cmd, void **arg, int *fd)
{
	*fd = shmr__kctl;
	switch (op->kind) {
	case OP_CREATE:
		shmr__kcreate_prep(&op->k.create, op->nr, op->size, op->mode, op->lflags);
		*arg = &op->k.create;
		*cmd = SHMR_IOC_CREATE;
		return 0;
	case OP_OPEN:
		shmr__kopen_prep(&op->k.open, op->nr, op->lflags);
		*arg = &op->k.open;
		*cmd = SHMR_IOC_OPEN;
		return 0;
	case OP_UNLINK:
		shmr__kunlink_prep(&op->k.unlink, op->name);
		*arg = &op->k.unlink;
		*cmd = SHMR_IOC_UNLINK;
		return 0;
	case OP_STAT:
		*fd = op->region->fd;
		*arg = &op->k.stat;
		*cmd = SHMR_IOC_STAT;
		return shmr__kstat_prep(&op->k.stat, 0, false);
	case OP_STAT_ID:
		*arg = &op->k.stat;
		*cmd = SHMR_IOC_STAT;
		return shmr__kstat_prep(&op->k.stat, op->id, true);
	case OP_LIST:
		shmr__klist_prep(&op->k.list, op->infos, (uint32_t)op->cap);
		*arg = &op->k.list;
		*cmd = SHMR_IOC_LIST;
		return 0;
	case OP_FEATURES:
		memset(&op->k.features, 0, sizeof(op->k.features));
		*arg = &op->k.features;
		*cmd = SHMR_IOC_FEATURES;
		return 0;
	default:
		*fd = op->region->fd;
		memset(&op->k.events, 0, sizeof(op->k.events));
		*arg = &op->k.events;
		*cmd = SHMR_IOC_EVENTS;
		return 0;
	}
}

/* The module answered res for op's struct: the kernel backend reads it. */
static void op_complete(struct batch_op *op, int res)
{
	op->done = 1;
	switch (op->kind) {
	case OP_CREATE:
		res = finish_region(op, shmr__kcreate_done(op->nr, &op->k.create, res));
		break;
	case OP_OPEN:
		res = finish_region(op, shmr__kopen_done(op->nr, &op->k.open, res));
		break;
	case OP_STAT:
	case OP_STAT_ID:
		if (!res)
			shmr__kinfo_to_stat(&op->k.stat.info, op->out);
		break;
	case OP_LIST:
		if (!res)
			res = shmr__klist_done(&op->k.list, op->infos, op->out, op->cap);
		break;
	case OP_FEATURES:
		if (!res)
			*(uint64_t *)op->out = shmr__kfeatures(op->k.features.features);
		break;
	case OP_EVENTS:
	case OP_WAIT_EVENTS:
		if (!res)
			*(uint32_t *)op->out = op->k.events.events;
		break;
	}
	op->res = res;
}

/*
 * The commands the module never runs on io_uring's non-blocking issue
 * (kmod/README.md, "io_uring"): through the ring each would go to an io-wq
 * worker, a wake-up and a context switch per command, and since a submit
 * waits for every result that made batched CREATE 0.3-0.6x the ioctl loop
 * (docs/uring.md). They run as ioctl()s in the submitting thread instead,
 * which leaves a batch of them one NSCHECK ahead of the same calls made one
 * by one; the ring carries the commands the module answers inline.
 */
static bool op_by_ioctl(const struct batch_op *op)
{
	switch (op->kind) {
	case OP_CREATE:
	case OP_OPEN:
	case OP_UNLINK:
	case OP_STAT_ID:
		return true;
	default:
		return false;
	}
}

/* A completion of the ring: 1 if it finished an operation. */
static unsigned int ring_done(struct shmr_batch *b, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	unsigned int i = (unsigned int)(data >> 1);
	int ret;

	if (i >= b->n || b->ops[i].done)
		return 0;
	if (data & 1) {
		/* the poll; on failure the linked command is cancelled */
		if (cqe->res < 0)
			b->ops[i].res = cqe->res;
		return 0;
	}
	ret = cqe->res;
	if (ret == -ECANCELED && b->ops[i].res < 0)
		ret = b->ops[i].res;
	op_complete(&b->ops[i], ret);
	return 1;
}

/* user_data: operation index << 1, low bit set on a wait_events poll */
static int run_ring(struct shmr_batch *b)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned int i, nsqe = 0, pending = 0;
	int ret;

	for (i = 0; i < b->n; i++) {
		struct batch_op *op = &b->ops[i];
		unsigned int cmd;
		void *arg;
		int fd;

		if (op->done)
			continue;
		ret = op_cmd(op, &cmd, &arg, &fd);
		if (ret) {
			op_complete(op, ret);
			continue;
		}
		if (op_by_ioctl(op)) {
			op_complete(op, shmr__kioctl(fd, cmd, arg));
			continue;
		}
		if (op->kind == OP_WAIT_EVENTS) {
			sqe = io_uring_get_sqe(&b->ring);
			io_uring_prep_poll_add(sqe, fd, POLLIN);
			io_uring_sqe_set_data64(sqe, ((uint64_t)i << 1) | 1);
			sqe->flags |= IOSQE_IO_LINK;
			nsqe++;
		}
		sqe = io_uring_get_sqe(&b->ring);
		prep_cmd(sqe, fd, cmd, arg);
		io_uring_sqe_set_data64(sqe, (uint64_t)i << 1);
		nsqe++;
		pending++;
	}
	if (!pending)
		return 0;
	do {
		ret = io_uring_submit_and_wait(&b->ring, nsqe);
	} while (ret == -EINTR);
	if (ret < 0) {
		/* nothing was consumed: drop the prepared SQEs */
		ring_reset(b);
		return ret;
	}
	/* without SUBMIT_ALL the kernel stops at an SQE that failed early */
	while ((unsigned int)ret < nsqe) {
		int more = io_uring_submit(&b->ring);

		if (more <= 0)
			break;
		ret += more;
	}
	while (pending) {
		struct io_uring_cqe *cqes[64];
		unsigned int got, k;

		/* what has completed, in bulk; wait only when nothing has */
		got = io_uring_peek_batch_cqe(&b->ring, cqes, 64);
		if (!got) {
			do {
				ret = io_uring_wait_cqe(&b->ring, &cqe);
			} while (ret == -EINTR);
			if (ret < 0)
				return ret;
			continue;
		}
		for (k = 0; k < got; k++)
			pending -= ring_done(b, cqes[k]);
		io_uring_cq_advance(&b->ring, got);
	}
	return 0;
}

/* Does an operation still to run go to the control fd? */
static bool uses_ctl(const struct shmr_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		const struct batch_op *op = &b->ops[i];

		if (!op->done && op->kind != OP_STAT && op->kind != OP_EVENTS &&
		    op->kind != OP_WAIT_EVENTS)
			return true;
	}
	return false;
}

SHMR_API int shmr_batch_submit(struct shmr_batch *b)
{
	unsigned int i;
	int ret;

	if (!b)
		return -EINVAL;
	if (b->submitted)	/* nothing queued since the last submit */
		return 0;
	if (b->pid != getpid())
		return -ECHILD;
	/*
	 * Follow unshare()/setns(): same fd number, maybe another file. The
	 * ring's commands take the control fd as it is; the fallback's calls
	 * check for themselves, and a region fd needs no check.
	 */
	if (b->transport == SHMR_BATCH_RING && uses_ctl(b))
		shmr__kernel_ctl();
	switch (b->transport) {
	case SHMR_BATCH_RING:
		ret = run_ring(b);
		if (ret < 0)
			return ret;
		break;
	default:
		for (i = 0; i < b->n; i++)
			if (!b->ops[i].done)
				run_backend(b, &b->ops[i]);
		break;
	}
	b->submitted = 1;
	return (int)b->n;
}
