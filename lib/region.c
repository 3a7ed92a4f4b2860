// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The region API: argument checks, backend selection, tracking, and
 * passing regions over Unix sockets. The backends (backend_kernel.c,
 * backend_posix.c) only talk to the system.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "region.h"

/* ---- backend selection ------------------------------------------------- */

/*
 * Chosen once, under backend_lock, which fork() also takes (atfork): fork
 * copies the fd table before it copies memory, so a fork racing another
 * thread's first call could otherwise give a child that believes in a
 * control fd it never inherited (the fd table copied before open()
 * installed it, the memory after ctl_fd was set).
 */
static pthread_mutex_t backend_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct shmr__backend *backend;
static int backend_err;
static bool backend_chosen;
static char backend_msg[512];	/* why there is no backend; "" when there is one */

static void backend_atfork_prepare(void)
{
	pthread_mutex_lock(&backend_lock);
}

static void backend_atfork_release(void)
{
	pthread_mutex_unlock(&backend_lock);
}

__attribute__((constructor)) static void backend_init(void)
{
	pthread_atfork(backend_atfork_prepare, backend_atfork_release,
		       backend_atfork_release);
}

/*
 * The automatic choice falls back to posix only when the module is absent.
 * A /dev/shmr that exists but cannot be used (a permission problem, not the
 * module) is an error: falling back would show this process none of the
 * module's regions and let it create a second region of a name that
 * already exists there. Returns false when the failure may be transient
 * (out of fds or memory): then the choice is made again at the next call.
 */
static bool backend_select(void)
{
	const char *env = secure_getenv("SHMR_BACKEND");
	bool absent;
	int err;

	backend_msg[0] = '\0';
	if (env && *env && strcmp(env, "kernel") && strcmp(env, "posix")) {
		backend_err = -EINVAL;
		snprintf(backend_msg, sizeof(backend_msg),
			 "SHMR_BACKEND=%.64s: expected kernel, posix or nothing", env);
		return true;
	}
	if (env && !strcmp(env, "posix")) {
		shmr__posix_probe();
		backend = &shmr__backend_posix;
		return true;
	}
	err = shmr__kernel_probe(&absent, backend_msg, sizeof(backend_msg));
	if (!err) {
		backend = &shmr__backend_kernel;
		return true;
	}
	if (absent && !(env && !strcmp(env, "kernel"))) {
		backend_msg[0] = '\0';
		shmr__posix_probe();
		backend = &shmr__backend_posix;
		return true;
	}
	backend_err = err;
	return !(err == -EMFILE || err == -ENFILE || err == -ENOMEM || err == -EINTR ||
		 err == -EAGAIN);
}

const struct shmr__backend *shmr__backend_get(int *err)
{
	const struct shmr__backend *b;
	int e;

	if (__atomic_load_n(&backend_chosen, __ATOMIC_ACQUIRE)) {
		/* backend and backend_err no longer change */
		if (!backend)
			*err = backend_err;
		return backend;
	}
	pthread_mutex_lock(&backend_lock);
	if (!backend_chosen && backend_select())
		__atomic_store_n(&backend_chosen, true, __ATOMIC_RELEASE);
	b = backend;
	e = backend_err;
	pthread_mutex_unlock(&backend_lock);
	if (!b)
		*err = e;
	return b;
}

SHMR_API int shmr_backend(void)
{
	int err = 0;
	const struct shmr__backend *b = shmr__backend_get(&err);

	return b ? b->kind : err;
}

SHMR_API const char *shmr_backend_name(void)
{
	int err = 0;
	const struct shmr__backend *b = shmr__backend_get(&err);

	return b ? b->name : "none";
}

SHMR_API const char *shmr_backend_error(void)
{
	static __thread char copy[sizeof(backend_msg)];
	int err = 0;

	if (shmr__backend_get(&err))
		return NULL;
	/* a copy: after a transient failure another call may choose again */
	pthread_mutex_lock(&backend_lock);
	if (backend_msg[0])
		memcpy(copy, backend_msg, sizeof(copy));
	else
		snprintf(copy, sizeof(copy), "%s", strerror(-err));
	pthread_mutex_unlock(&backend_lock);
	return copy;
}

SHMR_API int shmr_features(uint64_t *features)
{
	int err = 0;
	const struct shmr__backend *b = shmr__backend_get(&err);

	if (!features)
		return -EINVAL;
	*features = 0;
	if (!b)
		return err;
	*features = b->features;
	return 0;
}

#define GET_BACKEND(b)						\
	do {							\
		int err_ = 0;					\
		(b) = shmr__backend_get(&err_);			\
		if (!(b))					\
			return err_;				\
	} while (0)

/* ---- checks -------------------------------------------------------------- */

/*
 * "/NAME" is the POSIX shm object NAME itself, what shm_open("/NAME") and
 * Python's SharedMemory("NAME") use (posix backend only; docs/library.md).
 */
static bool raw_posix_name(const char *name, size_t len)
{
	const struct shmr__backend *b;
	int err = 0;

	if (name[0] != '/' || len < 2 || memchr(name + 1, '/', len - 1) ||
	    !strcmp(name, "/.") || !strcmp(name, "/.."))
		return false;
	b = shmr__backend_get(&err);
	return b && b->kind == SHMR_BACKEND_POSIX;
}

int shmr__check_name(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, SHMR_REGION_NAME_MAX + 1);
	if (len == 0 || (memchr(name, '/', len) && !raw_posix_name(name, len)))
		return -EINVAL;
	if (len > SHMR_REGION_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* the first version of struct shmr_region_opts ends after flags */
#define OPTS_SIZE_V1 (offsetof(struct shmr_region_opts, flags) + sizeof(uint32_t))

#define CREATE_FLAGS (SHMR_REGION_EXCL | SHMR_REGION_PROCESS | SHMR_REGION_HUGE | \
		      SHMR_REGION_NOCLOEXEC)
#define OPEN_FLAGS (SHMR_REGION_RDONLY | SHMR_REGION_NOCLOEXEC)

int shmr__opts_check(const struct shmr__backend *b, const struct shmr_region_opts *in,
		     struct shmr_region_opts *o)
{
	size_t i;
	int err;

	if (!in || in->sz < OPTS_SIZE_V1)
		return -EINVAL;
	if (in->sz > 4096)	/* not a struct anyone will ever pass */
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
	if ((o->flags & SHMR_REGION_PROCESS) && !(b->features & SHMR_FEATURE_PROCESS))
		return -EOPNOTSUPP;
	if ((o->flags & SHMR_REGION_HUGE) && !(b->features & SHMR_FEATURE_HUGE))
		return -EOPNOTSUPP;
	if (o->mode == 0)
		o->mode = 0600;
	return 0;
}

int shmr__open_check(const char *name, unsigned int flags)
{
	if (flags & ~OPEN_FLAGS)
		return -EINVAL;
	return shmr__check_name(name);
}

struct shmr_region *shmr__region_alloc(const char *name, uint32_t flags)
{
	struct shmr_region *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->flags = flags | (name && name[0] ? 0 : SHMR__ANON);
	r->id = 0;
	r->size = 0;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	return r;
}

void shmr__region_track(struct shmr_region *r, const char *file, int line, const void *caller)
{
	shmr__registry_add(&r->node, SHMR_TRACKED_HANDLE, file, line, caller);
}

/* ---- create / open / close ---------------------------------------------- */

static int create_common(const struct shmr_region_opts *uopts, struct shmr_region **out,
			 const char *file, int line, const void *caller)
{
	const struct shmr__backend *b;
	struct shmr_region_opts o;
	struct shmr_region *r;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	GET_BACKEND(b);
	err = shmr__opts_check(b, uopts, &o);
	if (err)
		return err;
	r = shmr__region_alloc(o.name, 0);
	if (!r)
		return -ENOMEM;
	err = b->create(r, o.size, o.mode, o.flags);
	if (err) {
		free(r);
		return err;
	}
	shmr__region_track(r, file, line, caller);
	*out = r;
	return 0;
}

SHMR_API int shmr_region_create_at(const struct shmr_region_opts *opts, struct shmr_region **out,
				   const char *file, int line)
{
	return create_common(opts, out, file, line, NULL);
}

SHMR_API int (shmr_region_create)(const struct shmr_region_opts *opts, struct shmr_region **out)
{
	return create_common(opts, out, NULL, 0, __builtin_return_address(0));
}

static int open_common(const char *name, unsigned int flags, struct shmr_region **out,
		       const char *file, int line, const void *caller)
{
	const struct shmr__backend *b;
	struct shmr_region *r;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	GET_BACKEND(b);
	err = shmr__open_check(name, flags);
	if (err)
		return err;
	r = shmr__region_alloc(name, (flags & SHMR_REGION_RDONLY) ? SHMR__RDONLY : 0);
	if (!r)
		return -ENOMEM;
	err = b->open(r, flags);
	if (err) {
		free(r);
		return err;
	}
	shmr__region_track(r, file, line, caller);
	*out = r;
	return 0;
}

SHMR_API int shmr_region_open_at(const char *name, unsigned int flags, struct shmr_region **out,
				 const char *file, int line)
{
	return open_common(name, flags, out, file, line, NULL);
}

SHMR_API int (shmr_region_open)(const char *name, unsigned int flags, struct shmr_region **out)
{
	return open_common(name, flags, out, NULL, 0, __builtin_return_address(0));
}

SHMR_API int shmr_region_close(struct shmr_region *r)
{
	int err = 0;

	if (!r)
		return 0;
	shmr__registry_del(&r->node);
	if (close(r->fd) && errno != EINTR)
		err = -errno;
	free(r);
	return err;
}

SHMR_API int shmr_region_unlink(const char *name)
{
	const struct shmr__backend *b;
	int err;

	GET_BACKEND(b);
	err = shmr__check_name(name);
	if (err)
		return err;
	return b->unlink(name);
}

SHMR_API int shmr_region_fd(const struct shmr_region *r)
{
	return r ? r->fd : -EINVAL;
}

SHMR_API uint64_t shmr_region_size(const struct shmr_region *r)
{
	return r ? r->size : 0;
}

/* ---- map / unmap ------------------------------------------------------- */

static int map_common(struct shmr_region *r, void **addr, const char *file, int line,
		      const void *caller)
{
	struct shmr__mapping *m;
	size_t nlen;
	int prot;
	void *p;

	if (!r || !addr)
		return -EINVAL;
	*addr = NULL;
	if (r->size == 0 || r->size > SIZE_MAX)
		return -EINVAL;
	nlen = strlen(r->name);
	m = malloc(sizeof(*m) + nlen + 1);
	if (!m)
		return -ENOMEM;
	prot = PROT_READ | ((r->flags & SHMR__RDONLY) ? 0 : PROT_WRITE);
	p = mmap(NULL, (size_t)r->size, prot, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		free(m);
		return err;
	}
	m->addr = p;
	m->size = r->size;
	m->id = r->id;
	memcpy(m->name, r->name, nlen + 1);
	shmr__registry_add(&m->node, SHMR_TRACKED_MAPPING, file, line, caller);
	*addr = p;
	return 0;
}

SHMR_API int shmr_region_map_at(struct shmr_region *r, void **addr, const char *file, int line)
{
	return map_common(r, addr, file, line, NULL);
}

SHMR_API int (shmr_region_map)(struct shmr_region *r, void **addr)
{
	return map_common(r, addr, NULL, 0, __builtin_return_address(0));
}

/*
 * Attach through a handle that is closed at once: for a module without
 * SHMR_IOC_ATTACH. The caller sees the same result, no fd is left.
 */
static int attach_by_handle(const struct shmr__backend *b, const char *name, uint32_t flags,
			    void **addr, uint64_t *size, uint64_t *id)
{
	struct shmr_region *r = shmr__region_alloc(name, flags & SHMR_REGION_RDONLY ?
						   SHMR__RDONLY : 0);
	int prot = PROT_READ | ((flags & SHMR_REGION_RDONLY) ? 0 : PROT_WRITE);
	int err;
	void *p;

	if (!r)
		return -ENOMEM;
	err = b->open(r, flags);
	if (err) {
		free(r);
		return err;
	}
	p = r->size && r->size <= SIZE_MAX ?
	    mmap(NULL, (size_t)r->size, prot, MAP_SHARED, r->fd, 0) : MAP_FAILED;
	if (p == MAP_FAILED) {
		err = r->size && r->size <= SIZE_MAX ? -errno : -EINVAL;
	} else {
		*addr = p;
		*size = r->size;
		*id = r->id;
	}
	close(r->fd);
	free(r);
	return err;
}

static int attach_common(const char *name, unsigned int flags, void **addr, size_t *size,
			 const char *file, int line, const void *caller)
{
	const struct shmr__backend *b;
	struct shmr__mapping *m;
	uint64_t len = 0, id = 0;
	void *p = NULL;
	size_t nlen;
	int err;

	if (!addr)
		return -EINVAL;
	*addr = NULL;
	if (size)
		*size = 0;
	GET_BACKEND(b);
	if (flags & ~SHMR_REGION_RDONLY)
		return -EINVAL;
	err = shmr__check_name(name);
	if (err)
		return err;
	/* the registry entry first: nothing can fail once the region is mapped */
	nlen = strlen(name);
	m = malloc(sizeof(*m) + nlen + 1);
	if (!m)
		return -ENOMEM;
	err = b->attach ? b->attach(name, flags, &p, &len, &id) : -EOPNOTSUPP;
	if (err == -EOPNOTSUPP)
		err = attach_by_handle(b, name, flags, &p, &len, &id);
	if (err) {
		free(m);
		return err;
	}
	m->addr = p;
	m->size = len;
	m->id = id;
	memcpy(m->name, name, nlen + 1);
	shmr__registry_add(&m->node, SHMR_TRACKED_MAPPING, file, line, caller);
	*addr = p;
	if (size)
		*size = (size_t)len;
	return 0;
}

SHMR_API int shmr_region_attach_at(const char *name, unsigned int flags, void **addr, size_t *size,
				   const char *file, int line)
{
	return attach_common(name, flags, addr, size, file, line, NULL);
}

SHMR_API int (shmr_region_attach)(const char *name, unsigned int flags, void **addr, size_t *size)
{
	return attach_common(name, flags, addr, size, NULL, 0, __builtin_return_address(0));
}

SHMR_API int shmr_region_unmap(void *addr)
{
	struct shmr__mapping *m;
	int err = 0;

	if (!addr)
		return -EINVAL;
	m = shmr__registry_take_mapping(addr);
	if (!m)
		return -EINVAL;
	if (munmap(m->addr, (size_t)m->size))
		err = -errno;
	free(m);
	return err;
}

/* ---- introspection ------------------------------------------------------ */

SHMR_API int shmr_region_stat(const struct shmr_region *r, struct shmr_region_stat *st)
{
	const struct shmr__backend *b;

	if (!r || !st)
		return -EINVAL;
	GET_BACKEND(b);
	return b->stat(r, st);
}

SHMR_API int shmr_region_stat_id(uint64_t id, struct shmr_region_stat *st)
{
	const struct shmr__backend *b;

	if (!st)
		return -EINVAL;
	GET_BACKEND(b);
	return b->stat_id(id, st);
}

SHMR_API int shmr_region_list(struct shmr_region_stat *out, size_t cap)
{
	const struct shmr__backend *b;

	if (!out && cap)
		return -EINVAL;
	GET_BACKEND(b);
	return b->list(out, cap);
}

SHMR_API int shmr_region_who(const struct shmr_region *r, struct shmr_attacher *out, size_t cap)
{
	const struct shmr__backend *b;

	if (!r || (!out && cap))
		return -EINVAL;
	GET_BACKEND(b);
	if (!(b->features & SHMR_FEATURE_ATTACH))
		return -EOPNOTSUPP;
	return b->who(r, 0, out, cap);
}

SHMR_API int shmr_region_who_id(uint64_t id, struct shmr_attacher *out, size_t cap)
{
	const struct shmr__backend *b;

	if (!out && cap)
		return -EINVAL;
	GET_BACKEND(b);
	if (!(b->features & SHMR_FEATURE_ATTACH))
		return -EOPNOTSUPP;
	return b->who(NULL, id, out, cap);
}

SHMR_API int shmr_region_seal(struct shmr_region *r)
{
	const struct shmr__backend *b;

	if (!r)
		return -EINVAL;
	GET_BACKEND(b);
	if (!(b->features & SHMR_FEATURE_SEAL))
		return -EOPNOTSUPP;
	if (r->flags & SHMR__RDONLY)
		return -EBADF;
	return b->seal(r);
}

SHMR_API int shmr_region_events(struct shmr_region *r, uint32_t *events)
{
	const struct shmr__backend *b;

	if (!r || !events)
		return -EINVAL;
	*events = 0;
	GET_BACKEND(b);
	if (!(b->features & SHMR_FEATURE_EVENTS))
		return -EOPNOTSUPP;
	return b->events(r, events);
}

SHMR_API int shmr_exit_list(struct shmr_exit *out, size_t cap, unsigned int flags)
{
	const struct shmr__backend *b;

	if ((!out && cap) || (flags & ~SHMR_EXITS_CLEAR))
		return -EINVAL;
	GET_BACKEND(b);
	if (!(b->features & SHMR_FEATURE_EXITS))
		return -EOPNOTSUPP;
	return b->exits(out, cap, flags);
}

/* ---- passing regions over Unix sockets ---------------------------------- */

#define SHMR_MSG_MAGIC 0x53484d52u	/* "SHMR" */

struct shmr_msg {
	uint32_t magic;
	uint32_t version;	/* 1 */
	uint32_t flags;		/* SHMR__* of the sender's handle */
	uint32_t reserved;
	uint64_t size;
	uint64_t id;
	char name[SHMR_REGION_NAME_MAX + 1];
};

SHMR_API int shmr_region_send(int sock, const struct shmr_region *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct shmr_msg msg;
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	if (!r || sock < 0)
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	msg.magic = SHMR_MSG_MAGIC;
	msg.version = 1;
	msg.flags = r->flags;
	msg.size = r->size;
	msg.id = r->id;
	memcpy(msg.name, r->name, sizeof(msg.name));
	memset(&u, 0, sizeof(u));
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &r->fd, sizeof(int));
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(msg))
		return -EMSGSIZE;
	return 0;
}

static void close_rights(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			size_t i;

			for (i = 0; i < nfd; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

static int recv_common(int sock, unsigned int flags, struct shmr_region **out,
		       const char *file, int line, const void *caller)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	const struct shmr__backend *b;
	struct shmr_msg msg;
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct shmr_region *r;
	int fd = -1, fl, err;
	ssize_t n;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (sock < 0 || (flags & ~SHMR_REGION_NOCLOEXEC))
		return -EINVAL;
	GET_BACKEND(b);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do {
		n = recvmsg(sock, &mh, (flags & SHMR_REGION_NOCLOEXEC) ? 0 : MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0 && !mh.msg_controllen)
		return -ECONNRESET;
	c = CMSG_FIRSTHDR(&mh);
	if ((size_t)n != sizeof(msg) || msg.magic != SHMR_MSG_MAGIC || msg.version != 1 ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !c || c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)) ||
	    CMSG_NXTHDR(&mh, c) || memchr(msg.name, '\0', sizeof(msg.name)) == NULL) {
		close_rights(&mh);
		return -EBADMSG;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	r = malloc(sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	fl = fcntl(fd, F_GETFL);
	r->flags = (msg.flags & SHMR__ANON) | ((fl >= 0 && (fl & O_ACCMODE) == O_RDONLY) ?
					       SHMR__RDONLY : 0);
	r->size = msg.size;
	r->id = msg.id;
	memcpy(r->name, msg.name, sizeof(r->name));
	err = b->adopt(r);
	if (err) {
		close(fd);
		free(r);
		return err;
	}
	shmr__region_track(r, file, line, caller);
	*out = r;
	return 0;
}

SHMR_API int shmr_region_recv_at(int sock, unsigned int flags, struct shmr_region **out,
				 const char *file, int line)
{
	return recv_common(sock, flags, out, file, line, NULL);
}

SHMR_API int (shmr_region_recv)(int sock, unsigned int flags, struct shmr_region **out)
{
	return recv_common(sock, flags, out, NULL, 0, __builtin_return_address(0));
}
