// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Batched region control over io_uring (shmr_batch_*).
 *
 * Operations are kept as the module's command structs; a submit either
 * fills one IORING_OP_URING_CMD SQE per operation (cmd_op = SHMR_IOC_*,
 * the first 8 bytes of the command area = the struct's address) and enters
 * the kernel once, or, in the fallback, runs the same structs through
 * ioctl() one by one (kernel backend) or calls the posix backend. The
 * completion step is shared: new fds become tracked region handles, region
 * infos become struct shmr_region_stat.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/shmr.h>

#include "region.h"

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
	int fd;			/* fd the command goes to (-1: the control fd) */
	unsigned int lflags;	/* library flags (create/open) */
	uint64_t size;		/* create */
	uint32_t mode;		/* create */
	uint64_t id;		/* stat_id */
	const struct shmr_region *region;	/* stat/events (posix fallback) */
	void *out;		/* caller's out pointer */
	size_t cap;		/* list */
	struct shmr_region_info *infos;		/* list buffer */
	const void *caller;	/* where it was queued (registry) */
	union {
		struct shmr_create create;
		struct shmr_open open;
		struct shmr_unlink unlink;
		struct shmr_stat stat;
		struct shmr_list list;
		struct shmr_features features;
		struct shmr_events events;
	} k;
	char name[SHMR_REGION_NAME_MAX + 1];
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
static int uring_ctl = -1;	/* the backend's control fd (kernel backend) */

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

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
	prep_cmd(sqe, uring_ctl, SHMR_IOC_FEATURES, &f);
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

static void probe(void)
{
	const struct shmr__backend *be;
	struct shmr_features f;
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
	uring_ctl = shmr__kernel_ctl();
	probe_transport = SHMR_BATCH_IOCTL;
	env = getenv("SHMR_URING");
	if (env && (!strcmp(env, "off") || !strcmp(env, "0")))
		return;
	memset(&f, 0, sizeof(f));
	if (xioctl(uring_ctl, SHMR_IOC_FEATURES, &f) || !(f.features & SHMR_FEAT_URING_CMD))
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

static void ops_release(struct shmr_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		free(b->ops[i].infos);
		b->ops[i].infos = NULL;
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
	memset(op, 0, offsetof(struct batch_op, name));
	op->name[0] = '\0';
	op->kind = kind;
	op->fd = -1;
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

#define CREATE_FLAGS (SHMR_REGION_EXCL | SHMR_REGION_PROCESS | SHMR_REGION_HUGE | \
		      SHMR_REGION_NOCLOEXEC)
#define OPEN_FLAGS (SHMR_REGION_RDONLY | SHMR_REGION_NOCLOEXEC)
#define OPTS_SIZE_V1 (offsetof(struct shmr_region_opts, flags) + sizeof(uint32_t))

/* The checks of shmr_region_create(), in its order. */
static int check_opts(const struct shmr_batch *b, const struct shmr_region_opts *in,
		      struct shmr_region_opts *o)
{
	size_t i;
	int err;

	if (!in || in->sz < OPTS_SIZE_V1)
		return -EINVAL;
	if (in->sz > 4096)
		return -E2BIG;
	memset(o, 0, sizeof(*o));
	if (in->sz > sizeof(*o)) {
		for (i = sizeof(*o); i < in->sz; i++)
			if (((const unsigned char *)in)[i])
				return -E2BIG;
		memcpy(o, in, sizeof(*o));
	} else {
		memcpy(o, in, in->sz);
	}
	if (o->size == 0 || o->mode > 0777 || (o->flags & ~CREATE_FLAGS))
		return -EINVAL;
	if (!o->name && (o->flags & (SHMR_REGION_EXCL | SHMR_REGION_PROCESS)))
		return -EINVAL;
	if (o->name) {
		err = shmr__check_name(o->name);
		if (err)
			return err;
	}
	if ((o->flags & SHMR_REGION_PROCESS) && !(b->be->features & SHMR_FEATURE_PROCESS))
		return -EOPNOTSUPP;
	if ((o->flags & SHMR_REGION_HUGE) && !(b->be->features & SHMR_FEATURE_HUGE))
		return -EOPNOTSUPP;
	if (o->mode == 0)
		o->mode = 0600;
	return 0;
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
	err = check_opts(b, opts, &o);
	if (err)
		return op_queued(b, op, err);
	if (o.name)
		strcpy(op->name, o.name);
	op->size = o.size;
	op->mode = o.mode;
	op->lflags = o.flags;
	op->k.create.name = o.name ? (uint64_t)(uintptr_t)op->name : 0;
	op->k.create.size = o.size;
	op->k.create.mode = o.mode;
	if (o.flags & SHMR_REGION_EXCL)
		op->k.create.flags |= SHMR_CREATE_EXCL;
	if (o.flags & SHMR_REGION_PROCESS)
		op->k.create.flags |= SHMR_CREATE_PROCESS;
	if (o.flags & SHMR_REGION_HUGE)
		op->k.create.flags |= SHMR_CREATE_HUGE;
	if (o.flags & SHMR_REGION_NOCLOEXEC)
		op->k.create.flags |= SHMR_CREATE_NOCLOEXEC;
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
	if (flags & ~OPEN_FLAGS)
		return op_queued(b, op, -EINVAL);
	err = shmr__check_name(name);
	if (err)
		return op_queued(b, op, err);
	strcpy(op->name, name);
	op->lflags = flags;
	op->k.open.name = (uint64_t)(uintptr_t)op->name;
	if (flags & SHMR_REGION_RDONLY)
		op->k.open.flags |= SHMR_OPEN_RDONLY;
	if (flags & SHMR_REGION_NOCLOEXEC)
		op->k.open.flags |= SHMR_OPEN_NOCLOEXEC;
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
	op->k.unlink.name = (uint64_t)(uintptr_t)op->name;
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
	op->fd = r->fd;
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
	/* shmr_region_stat_id(): id 0 names no region (on the control fd the
	 * module would take it as "this handle") */
	if (!id && b->transport != SHMR_BATCH_POSIX)
		return op_queued(b, op, -ENOENT);
	op->k.stat.id = id;
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
	if (cap && b->transport != SHMR_BATCH_POSIX) {
		op->infos = calloc(cap, sizeof(*op->infos));
		if (!op->infos)
			return op_queued(b, op, -ENOMEM);
		op->k.list.regions = (uint64_t)(uintptr_t)op->infos;
		op->k.list.cap = (uint32_t)cap;
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
	op->fd = r->fd;
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

/* The command of an operation: its number, struct and fd. */
static unsigned int op_cmd(struct batch_op *op, void **arg)
{
	switch (op->kind) {
	case OP_CREATE:
		*arg = &op->k.create;
		return SHMR_IOC_CREATE;
	case OP_OPEN:
		*arg = &op->k.open;
		return SHMR_IOC_OPEN;
	case OP_UNLINK:
		*arg = &op->k.unlink;
		return SHMR_IOC_UNLINK;
	case OP_STAT:
	case OP_STAT_ID:
		*arg = &op->k.stat;
		return SHMR_IOC_STAT;
	case OP_LIST:
		*arg = &op->k.list;
		return SHMR_IOC_LIST;
	case OP_FEATURES:
		*arg = &op->k.features;
		return SHMR_IOC_FEATURES;
	default:
		*arg = &op->k.events;
		return SHMR_IOC_EVENTS;
	}
}

static int op_fd(const struct batch_op *op)
{
	return op->fd >= 0 ? op->fd : uring_ctl;
}

static void stat_from_info(const struct shmr_region_info *i, struct shmr_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->id = i->id;
	st->size = i->size;
	st->ctime_ns = i->ctime_ns;
	st->uid = i->uid;
	st->gid = i->gid;
	st->mode = i->mode;
	/* SHMR_INFO_* and SHMR_STAT_* are the same bits */
	st->flags = i->flags & (SHMR_STAT_ANON | SHMR_STAT_UNLINKED | SHMR_STAT_SEALED |
				SHMR_STAT_PROCESS | SHMR_STAT_HUGE);
	st->creator_pid = i->creator_pid;
	st->handles = i->handles;
	st->mappings = i->mappings;
	st->nattach = i->nattach;
	memcpy(st->name, i->name, sizeof(st->name));
	st->name[sizeof(st->name) - 1] = '\0';
}

_Static_assert(SHMR_STAT_ANON == SHMR_INFO_ANON && SHMR_STAT_UNLINKED == SHMR_INFO_UNLINKED &&
	       SHMR_STAT_SEALED == SHMR_INFO_SEALED && SHMR_STAT_PROCESS == SHMR_INFO_PROCESS &&
	       SHMR_STAT_HUGE == SHMR_INFO_HUGE, "info bits");

static uint64_t lib_features(uint64_t kf)
{
	return (kf & (SHMR_FEAT_NAMED | SHMR_FEAT_ANON | SHMR_FEAT_ATTACH | SHMR_FEAT_PROCESS |
		      SHMR_FEAT_HUGE | SHMR_FEAT_SEAL | SHMR_FEAT_EVENTS | SHMR_FEAT_EXITED |
		      SHMR_FEAT_IPC_NS)) | SHMR_FEATURE_LIST_ANON;
}

/* A tracked handle for a new region fd; -ENOMEM closes the fd. */
static int new_region(struct batch_op *op, int fd, uint64_t size, uint64_t id)
{
	struct shmr_region *r = malloc(sizeof(*r));

	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	r->size = size;
	r->id = id;
	r->flags = 0;
	if (op->kind == OP_CREATE && !op->name[0])
		r->flags |= SHMR__ANON;
	if (op->kind == OP_OPEN && (op->lflags & SHMR_REGION_RDONLY))
		r->flags |= SHMR__RDONLY;
	memcpy(r->name, op->name, sizeof(r->name));
	shmr__registry_add(&r->node, SHMR_TRACKED_HANDLE, NULL, 0, op->caller);
	*(struct shmr_region **)op->out = r;
	return 0;
}

/* The kernel answered res for op's struct: fill the caller's outputs. */
static void op_complete(struct batch_op *op, int res)
{
	uint32_t i;

	op->done = 1;
	op->res = res;
	if (res < 0)
		return;
	switch (op->kind) {
	case OP_CREATE:
		op->res = new_region(op, op->k.create.fd, op->k.create.size, op->k.create.id);
		break;
	case OP_OPEN:
		op->res = new_region(op, op->k.open.fd, op->k.open.size, op->k.open.id);
		break;
	case OP_STAT:
	case OP_STAT_ID:
		stat_from_info(&op->k.stat.info, op->out);
		break;
	case OP_LIST:
		for (i = 0; i < op->k.list.count && i < op->cap; i++)
			stat_from_info(&op->infos[i], (struct shmr_region_stat *)op->out + i);
		op->res = op->k.list.total > INT32_MAX ? INT32_MAX : (int)op->k.list.total;
		break;
	case OP_FEATURES:
		*(uint64_t *)op->out = lib_features(op->k.features.features);
		break;
	case OP_EVENTS:
	case OP_WAIT_EVENTS:
		*(uint32_t *)op->out = op->k.events.events;
		break;
	}
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

/* Fallback, kernel backend: the same structs through ioctl(). */
static void run_ioctl(struct batch_op *op)
{
	unsigned int cmd;
	void *arg;
	int ret;

	cmd = op_cmd(op, &arg);
	if (op->kind == OP_WAIT_EVENTS) {
		ret = wait_readable(op_fd(op));
		if (ret) {
			op_complete(op, ret);
			return;
		}
	}
	op_complete(op, xioctl(op_fd(op), cmd, arg));
}

/* Fallback, posix backend: the backend's own calls. */
static void run_posix(const struct shmr_batch *b, struct batch_op *op)
{
	const struct shmr__backend *be = b->be;
	struct shmr_region *r;
	int ret;

	op->done = 1;
	switch (op->kind) {
	case OP_CREATE:
	case OP_OPEN:
		r = malloc(sizeof(*r));
		if (!r) {
			op->res = -ENOMEM;
			return;
		}
		r->fd = -1;
		r->id = 0;
		r->size = 0;
		memcpy(r->name, op->name, sizeof(r->name));
		if (op->kind == OP_CREATE) {
			r->flags = op->name[0] ? 0 : SHMR__ANON;
			ret = be->create(r, op->size, op->mode, op->lflags);
		} else {
			r->flags = (op->lflags & SHMR_REGION_RDONLY) ? SHMR__RDONLY : 0;
			ret = be->open(r, op->lflags);
		}
		if (ret) {
			free(r);
			op->res = ret;
			return;
		}
		shmr__registry_add(&r->node, SHMR_TRACKED_HANDLE, NULL, 0, op->caller);
		*(struct shmr_region **)op->out = r;
		op->res = 0;
		return;
	case OP_UNLINK:
		op->res = be->unlink(op->name);
		return;
	case OP_STAT:
		op->res = be->stat(op->region, op->out);
		return;
	case OP_STAT_ID:
		op->res = be->stat_id(op->id, op->out);
		return;
	case OP_LIST:
		op->res = be->list(op->out, op->cap);
		return;
	case OP_FEATURES:
		*(uint64_t *)op->out = be->features;
		op->res = 0;
		return;
	default:
		op->res = -EOPNOTSUPP;
		return;
	}
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

		if (op->done)
			continue;
		cmd = op_cmd(op, &arg);
		if (op->kind == OP_WAIT_EVENTS) {
			sqe = io_uring_get_sqe(&b->ring);
			io_uring_prep_poll_add(sqe, op_fd(op), POLLIN);
			io_uring_sqe_set_data64(sqe, ((uint64_t)i << 1) | 1);
			sqe->flags |= IOSQE_IO_LINK;
			nsqe++;
		}
		sqe = io_uring_get_sqe(&b->ring);
		prep_cmd(sqe, op_fd(op), cmd, arg);
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
		uint64_t data;

		do {
			ret = io_uring_wait_cqe(&b->ring, &cqe);
		} while (ret == -EINTR);
		if (ret < 0)
			return ret;
		data = io_uring_cqe_get_data64(cqe);
		i = (unsigned int)(data >> 1);
		if (i < b->n && !b->ops[i].done) {
			if (data & 1) {
				/* the poll; on failure the linked command is cancelled */
				if (cqe->res < 0)
					b->ops[i].res = cqe->res;
			} else {
				ret = cqe->res;
				if (ret == -ECANCELED && b->ops[i].res < 0)
					ret = b->ops[i].res;
				op_complete(&b->ops[i], ret);
				pending--;
			}
		}
		io_uring_cqe_seen(&b->ring, cqe);
	}
	return 0;
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
	/* Follow unshare()/setns(): same fd number, maybe another file. */
	if (b->transport != SHMR_BATCH_POSIX)
		shmr__kernel_ctl();
	switch (b->transport) {
	case SHMR_BATCH_RING:
		ret = run_ring(b);
		if (ret < 0)
			return ret;
		break;
	case SHMR_BATCH_IOCTL:
		for (i = 0; i < b->n; i++)
			if (!b->ops[i].done)
				run_ioctl(&b->ops[i]);
		break;
	default:
		for (i = 0; i < b->n; i++)
			if (!b->ops[i].done)
				run_posix(b, &b->ops[i]);
		break;
	}
	b->submitted = 1;
	return (int)b->n;
}
