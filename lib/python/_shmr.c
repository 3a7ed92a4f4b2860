// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * _shmr: the C half of the Python binding of libshmr (the Python half is
 * lib/python/shmr/__init__.py; design: docs/python.md).
 *
 * Region: one mapping of a region and, for those created or received, a
 * handle; one attached by name (shmr_region_attach()) has no handle until
 * fileno() or stat() needs one. The mapping is exported through the buffer
 * protocol (no copy); close() refuses while buffers are exported, like
 * mmap.mmap. A Region that is garbage collected without close() is NOT
 * closed: it is a leak, and the library's report names it (with the
 * Python file:line that made it).
 *
 * Mutex, RWLock, Cond: the library's robust locks at an offset inside any
 * writable buffer, which they hold (so the memory cannot go away under
 * them). Blocking calls release the GIL and wait in slices so that signal
 * handlers (KeyboardInterrupt) still run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shmr.h"

/* Python 3.9, the oldest supported, lacks these two helpers of 3.10. */
#if PY_VERSION_HEX < 0x030a0000
static inline PyObject *Py_NewRef(PyObject *o)
{
	Py_INCREF(o);
	return o;
}

static int PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *v)
{
	Py_INCREF(v);
	if (PyModule_AddObject(m, name, v)) {	/* steals v only on success */
		Py_DECREF(v);
		return -1;
	}
	return 0;
}
#endif

static PyObject *OwnerDead;
static PyObject *NotRecoverable;

/* ---- "where" strings: the registry keeps the pointer, so never free them */

struct where_str {
	struct where_str *next;
	char s[];
};
static struct where_str *where_list;

static const char *where_intern(const char *s)
{
	struct where_str *w;
	size_t n;

	if (!s || !*s)
		return NULL;
	for (w = where_list; w; w = w->next)
		if (!strcmp(w->s, s))
			return w->s;
	n = strlen(s);
	w = malloc(sizeof(*w) + n + 1);
	if (!w)
		return NULL;
	memcpy(w->s, s, n + 1);
	w->next = where_list;
	where_list = w;
	return w->s;
}

static PyObject *set_errno(int err, PyObject *name)
{
	int b = shmr_backend();

	if (b < 0 && -b == err) {
		/* no backend: the library says why (the device, its group) */
		PyObject *args = Py_BuildValue("(is)", err, shmr_backend_error());

		if (args) {
			PyErr_SetObject(PyExc_OSError, args);
			Py_DECREF(args);
		}
		return NULL;
	}
	errno = err;
	if (name && name != Py_None)
		return PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, name);
	return PyErr_SetFromErrno(PyExc_OSError);
}

/* ---- Region ------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD
	struct shmr_region *r;	/* the handle; NULL while attached without one */
	void *addr;		/* the mapping; NULL once closed */
	uint64_t size;
	Py_ssize_t exports;
	int readonly;
	/* attached by name: what opening its handle later needs */
	PyObject *name;
	const char *file;
	int line;
} RegionObject;

static PyTypeObject RegionType;

static PyObject *region_finish(struct shmr_region *r, int readonly, const char *file, int line,
			       PyObject *name)
{
	RegionObject *self;
	void *addr;
	int err;

	err = shmr_region_map_at(r, &addr, file, line);
	if (err) {
		shmr_region_close(r);
		return set_errno(-err, name);
	}
	self = PyObject_New(RegionObject, &RegionType);
	if (!self) {
		shmr_region_unmap(addr);
		shmr_region_close(r);
		return NULL;
	}
	self->r = r;
	self->addr = addr;
	self->size = shmr_region_size(r);
	self->exports = 0;
	self->readonly = readonly;
	self->name = NULL;
	self->file = NULL;
	self->line = 0;
	return (PyObject *)self;
}

/* Region.create(name or None, size, mode, flags, file, line) */
static PyObject *region_create(PyObject *cls, PyObject *args)
{
	PyObject *name_obj;
	const char *name = NULL, *file;
	unsigned long long size;
	unsigned int mode, flags;
	struct shmr_region *r;
	int line, err;

	(void)cls;
	if (!PyArg_ParseTuple(args, "OKIIzi", &name_obj, &size, &mode, &flags, &file, &line))
		return NULL;
	if (name_obj != Py_None) {
		name = PyUnicode_AsUTF8(name_obj);
		if (!name)
			return NULL;
	}
	file = where_intern(file);
	{
		struct shmr_region_opts o = SHMR_REGION_OPTS(.name = name, .size = size,
							     .mode = mode, .flags = flags);

		Py_BEGIN_ALLOW_THREADS
		err = shmr_region_create_at(&o, &r, file, line);
		Py_END_ALLOW_THREADS
	}
	if (err)
		return set_errno(-err, name_obj);
	return region_finish(r, 0, file, line, name_obj);
}

/* Region.open(name, flags, file, line) */
static PyObject *region_open(PyObject *cls, PyObject *args)
{
	PyObject *name_obj;
	const char *name, *file;
	unsigned int flags;
	struct shmr_region *r;
	int line, err;

	(void)cls;
	if (!PyArg_ParseTuple(args, "UIzi", &name_obj, &flags, &file, &line))
		return NULL;
	name = PyUnicode_AsUTF8(name_obj);
	if (!name)
		return NULL;
	file = where_intern(file);
	Py_BEGIN_ALLOW_THREADS
	err = shmr_region_open_at(name, flags, &r, file, line);
	Py_END_ALLOW_THREADS
	if (err)
		return set_errno(-err, name_obj);
	return region_finish(r, !!(flags & SHMR_REGION_RDONLY), file, line, name_obj);
}

/*
 * Region.attach(name, flags, file, line): map the region without a handle
 * (shmr_region_attach(): one ioctl on the kernel backend, no fd).
 */
static PyObject *region_attach(PyObject *cls, PyObject *args)
{
	PyObject *name_obj;
	const char *name, *file;
	unsigned int flags;
	RegionObject *self;
	size_t size = 0;
	void *addr;
	int line, err;

	(void)cls;
	if (!PyArg_ParseTuple(args, "UIzi", &name_obj, &flags, &file, &line))
		return NULL;
	name = PyUnicode_AsUTF8(name_obj);
	if (!name)
		return NULL;
	file = where_intern(file);
	Py_BEGIN_ALLOW_THREADS
	err = shmr_region_attach_at(name, flags, &addr, &size, file, line);
	Py_END_ALLOW_THREADS
	if (err)
		return set_errno(-err, name_obj);
	self = PyObject_New(RegionObject, &RegionType);
	if (!self) {
		shmr_region_unmap(addr);
		return NULL;
	}
	self->r = NULL;
	self->addr = addr;
	self->size = size;
	self->exports = 0;
	self->readonly = !!(flags & SHMR_REGION_RDONLY);
	self->name = Py_NewRef(name_obj);
	self->file = file;
	self->line = line;
	return (PyObject *)self;
}

/* The id of this process's mapping at addr, from the registry; 0 if none. */
static uint64_t mapping_id(void *addr)
{
	struct shmr_tracked *t = NULL;
	uint64_t id = 0;
	int n, cap = 0, i;

	for (;;) {
		n = shmr_registry_list(t, (size_t)cap);
		if (n < 0 || n <= cap)
			break;
		free(t);
		cap = n + 8;
		t = calloc((size_t)cap, sizeof(*t));
		if (!t)
			return 0;
	}
	for (i = 0; i < n && i < cap; i++)
		if (t[i].kind == SHMR_TRACKED_MAPPING && t[i].addr == addr)
			id = t[i].id;
	free(t);
	return id;
}

/*
 * A handle for a Region attached without one, opened by name when first
 * needed: it must be the attached region's (ENOENT if the name was
 * unlinked or now names another region). 0, or -1 with an exception set.
 */
static int region_need_handle(RegionObject *self)
{
	struct shmr_region_stat st;
	struct shmr_region *r;
	unsigned int flags = self->readonly ? SHMR_REGION_RDONLY : 0;
	const char *name;
	int err;

	if (self->r)
		return 0;
	name = PyUnicode_AsUTF8(self->name);
	if (!name)
		return -1;
	/* with the GIL held: no other thread closes or opens meanwhile */
	err = shmr_region_open_at(name, flags, &r, self->file, self->line);
	if (!err) {
		err = shmr_region_stat(r, &st);
		if (!err && st.id != mapping_id(self->addr))
			err = -ENOENT;
		if (err)
			shmr_region_close(r);
	}
	if (err) {
		set_errno(-err, self->name);
		return -1;
	}
	self->r = r;
	return 0;
}

/*
 * Region.adopt(fd, file, line): take over fd (a region's fd received from
 * another process, e.g. by multiprocessing's fd passing) by handing it to
 * shmr_region_recv() over a private socketpair, so that the library checks
 * and records it like any received region. fd is consumed.
 */
struct shmr_py_msg {		/* the library's SCM_RIGHTS message, version 1 */
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t reserved;
	uint64_t size;
	uint64_t id;
	char name[SHMR_REGION_NAME_MAX + 1];
};

static PyObject *region_adopt(PyObject *cls, PyObject *args)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct shmr_py_msg msg;
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct shmr_region *r;
	const char *file;
	int fd, line, sv[2], err;
	ssize_t n;

	(void)cls;
	if (!PyArg_ParseTuple(args, "izi", &fd, &file, &line))
		return NULL;
	file = where_intern(file);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = errno;
		close(fd);
		return set_errno(err, NULL);
	}
	memset(&msg, 0, sizeof(msg));
	msg.magic = 0x53484d52u;
	msg.version = 1;
	msg.flags = 1U << 1;	/* anonymous: only anonymous regions travel by fd */
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
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	n = sendmsg(sv[0], &mh, MSG_NOSIGNAL);
	err = errno;
	close(fd);
	close(sv[0]);
	if (n != (ssize_t)sizeof(msg)) {
		close(sv[1]);
		return set_errno(n < 0 ? err : EMSGSIZE, NULL);
	}
	err = shmr_region_recv_at(sv[1], 0, &r, file, line);
	close(sv[1]);
	if (err)
		return set_errno(-err, NULL);
	return region_finish(r, 0, file, line, NULL);
}

static int region_check(RegionObject *self)
{
	if (!self->addr) {
		PyErr_SetString(PyExc_ValueError, "shmr region is closed");
		return -1;
	}
	return 0;
}

static PyObject *region_close(RegionObject *self, PyObject *unused)
{
	(void)unused;
	if (!self->addr)
		Py_RETURN_NONE;
	if (self->exports > 0) {
		PyErr_SetString(PyExc_BufferError, "cannot close exported pointers exist");
		return NULL;
	}
	shmr_region_unmap(self->addr);
	shmr_region_close(self->r);	/* NULL: none */
	self->r = NULL;
	self->addr = NULL;
	Py_CLEAR(self->name);
	Py_RETURN_NONE;
}

static PyObject *region_fd(RegionObject *self, PyObject *unused)
{
	(void)unused;
	if (region_check(self) || region_need_handle(self))
		return NULL;
	return PyLong_FromLong(shmr_region_fd(self->r));
}

static PyObject *region_stat(RegionObject *self, PyObject *unused)
{
	struct shmr_region_stat st;
	int err;

	(void)unused;
	if (region_check(self) || region_need_handle(self))
		return NULL;
	err = shmr_region_stat(self->r, &st);
	if (err)
		return set_errno(-err, NULL);
	return Py_BuildValue("{s:K,s:K,s:K,s:I,s:I,s:I,s:I,s:i,s:I,s:I,s:I,s:s}",
			     "id", (unsigned long long)st.id,
			     "size", (unsigned long long)st.size,
			     "ctime_ns", (unsigned long long)st.ctime_ns,
			     "uid", st.uid, "gid", st.gid, "mode", st.mode, "flags", st.flags,
			     "creator_pid", st.creator_pid, "handles", st.handles,
			     "mappings", st.mappings, "nattach", st.nattach, "name", st.name);
}

static PyObject *region_get_size(RegionObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLongLong(self->size);
}

static PyObject *region_get_closed(RegionObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->addr == NULL);
}

static PyObject *region_get_address(RegionObject *self, void *closure)
{
	(void)closure;
	if (region_check(self))
		return NULL;
	return PyLong_FromVoidPtr(self->addr);
}

static int region_getbuffer(RegionObject *self, Py_buffer *view, int flags)
{
	if (region_check(self)) {
		view->obj = NULL;
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)self, self->addr, (Py_ssize_t)self->size,
			      self->readonly, flags))
		return -1;
	self->exports++;
	return 0;
}

static void region_releasebuffer(RegionObject *self, Py_buffer *view)
{
	(void)view;
	self->exports--;
}

static void region_dealloc(RegionObject *self)
{
	/* Not closed: a leak, kept for the report (see the top comment). */
	Py_XDECREF(self->name);
	PyObject_Free(self);
}

static PyMethodDef region_methods[] = {
	{ "create", region_create, METH_VARARGS | METH_CLASS,
	  "create(name, size, mode, flags, file, line)" },
	{ "open", region_open, METH_VARARGS | METH_CLASS, "open(name, flags, file, line)" },
	{ "attach", region_attach, METH_VARARGS | METH_CLASS,
	  "attach(name, flags, file, line): mapped, no handle until one is needed" },
	{ "adopt", region_adopt, METH_VARARGS | METH_CLASS, "adopt(fd, file, line)" },
	{ "close", (PyCFunction)region_close, METH_NOARGS, "unmap and close (idempotent)" },
	{ "fileno", (PyCFunction)region_fd, METH_NOARGS,
	  "the handle's fd (attached: a handle opened now, by name)" },
	{ "stat", (PyCFunction)region_stat, METH_NOARGS, "shmr_region_stat() as a dict" },
	{ NULL, NULL, 0, NULL }
};

static PyGetSetDef region_getset[] = {
	{ "size", (getter)region_get_size, NULL, "bytes", NULL },
	{ "closed", (getter)region_get_closed, NULL, "closed", NULL },
	{ "address", (getter)region_get_address, NULL, "mapping address", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyBufferProcs region_as_buffer = {
	(getbufferproc)region_getbuffer,
	(releasebufferproc)region_releasebuffer,
};

static PyTypeObject RegionType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_shmr.Region",
	.tp_basicsize = sizeof(RegionObject),
	.tp_dealloc = (destructor)region_dealloc,
	.tp_as_buffer = &region_as_buffer,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A mapped shmr region handle (use shmr.SharedMemory).",
	.tp_methods = region_methods,
	.tp_getset = region_getset,
};

/* ---- locks: common part ------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	Py_buffer view;
	void *p;
} LockObject;

#define SLICE_NS	200000000LL	/* wait at most this long between signal checks */

static int lock_init_common(LockObject *self, PyObject *args, PyObject *kw, size_t size)
{
	static char *kwlist[] = { "buffer", "offset", NULL };
	PyObject *buf;
	Py_ssize_t off = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|n", kwlist, &buf, &off))
		return -1;
	if (self->view.obj) {
		PyErr_SetString(PyExc_RuntimeError, "already initialised");
		return -1;
	}
	if (PyObject_GetBuffer(buf, &self->view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS))
		return -1;
	if (off < 0 || (size_t)off > (size_t)self->view.len ||
	    (size_t)self->view.len - (size_t)off < size) {
		PyBuffer_Release(&self->view);
		PyErr_Format(PyExc_ValueError, "offset %zd: %zu bytes do not fit in a buffer of %zd",
			     off, size, self->view.len);
		return -1;
	}
	self->p = (char *)self->view.buf + off;
	if ((uintptr_t)self->p % 8) {
		PyBuffer_Release(&self->view);
		PyErr_SetString(PyExc_ValueError, "lock address is not 8-byte aligned");
		return -1;
	}
	return 0;
}

static void lock_dealloc(LockObject *self)
{
	if (self->view.obj)
		PyBuffer_Release(&self->view);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int lock_check(LockObject *self)
{
	if (!self->view.obj) {
		PyErr_SetString(PyExc_ValueError, "lock is closed");
		return -1;
	}
	return 0;
}

static PyObject *lock_close(LockObject *self, PyObject *unused)
{
	(void)unused;
	if (self->view.obj)
		PyBuffer_Release(&self->view);
	self->p = NULL;
	Py_RETURN_NONE;
}

/* Map a lock error to an exception; returns NULL. */
static PyObject *lock_error(int err, const char *what)
{
	switch (err) {
	case -EOWNERDEAD:
		PyErr_Format(OwnerDead, "%s: the previous owner died; the lock is held: repair the data, then call consistent()", what);
		break;
	case -ENOTRECOVERABLE:
		PyErr_Format(NotRecoverable, "%s: the lock is not recoverable", what);
		break;
	case -EDEADLK:
		PyErr_Format(PyExc_RuntimeError, "%s: already held by this thread", what);
		break;
	case -EPERM:
		PyErr_Format(PyExc_RuntimeError, "%s: not held by this thread", what);
		break;
	case -EINVAL:
		PyErr_Format(PyExc_ValueError, "%s: no initialised shmr lock there", what);
		break;
	default:
		set_errno(-err, NULL);
		break;
	}
	return NULL;
}

static void ts_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static long long ts_ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static struct timespec ns_ts(long long ns)
{
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };

	return ts;
}

typedef int (*timed_fn)(void *obj, clockid_t clk, const struct timespec *abs);
typedef int (*try_fn)(void *obj);

/*
 * Acquire with threading's arguments: blocking, timeout (-1: forever).
 * Returns 1 acquired, 0 not acquired, -1 exception set.
 */
static int acquire_common(void *obj, try_fn tryf, timed_fn timedf, int blocking, double timeout,
			  const char *what)
{
	struct timespec now, abs;
	long long deadline = -1, slice;
	int err;

	if (!blocking) {
		if (timeout != -1) {
			PyErr_SetString(PyExc_ValueError,
					"can't specify a timeout for a non-blocking call");
			return -1;
		}
		err = tryf(obj);
	} else {
		if (timeout < 0 && timeout != -1) {
			PyErr_SetString(PyExc_ValueError, "timeout value must be a non-negative number");
			return -1;
		}
		ts_now(&now);
		if (timeout >= 0)
			deadline = ts_ns(&now) + (long long)(timeout * 1e9);
		for (;;) {
			ts_now(&now);
			slice = ts_ns(&now) + SLICE_NS;
			if (deadline >= 0 && deadline < slice)
				slice = deadline;
			abs = ns_ts(slice);
			Py_BEGIN_ALLOW_THREADS
			err = timedf(obj, CLOCK_MONOTONIC, &abs);
			Py_END_ALLOW_THREADS
			if (err != -ETIMEDOUT)
				break;
			if (deadline >= 0 && slice == deadline)
				break;
			if (PyErr_CheckSignals())
				return -1;
		}
	}
	if (err == 0)
		return 1;
	if (err == -EBUSY || err == -ETIMEDOUT)
		return 0;
	lock_error(err, what);
	return -1;
}

/*
 * owner(): None when free, else (pid, tid, state). An unrecoverable lock is
 * a state, not an error: attaching to it and asking must work, only
 * acquiring raises (the C call answers -ENOTRECOVERABLE, with no owner).
 */
static PyObject *owner_result(int err, pid_t pid, pid_t tid)
{
	if (err == -ENOENT)
		Py_RETURN_NONE;
	if (err == -EOWNERDEAD)
		return Py_BuildValue("(iis)", (int)pid, 0, "dead");
	if (err == -ENOTRECOVERABLE)
		return Py_BuildValue("(iis)", 0, 0, "unrecoverable");
	if (err)
		return lock_error(err, "owner");
	return Py_BuildValue("(iis)", (int)pid, (int)tid, "alive");
}

static char *acquire_kwlist[] = { "blocking", "timeout", NULL };

/* ---- Mutex ---------------------------------------------------------------- */

static int mutex_timed(void *m, clockid_t clk, const struct timespec *abs)
{
	return shmr_mutex_timedlock(m, clk, abs);
}

static int mutex_try(void *m)
{
	return shmr_mutex_trylock(m);
}

static int mutex_init(LockObject *self, PyObject *args, PyObject *kw)
{
	return lock_init_common(self, args, kw, sizeof(struct shmr_mutex));
}

static PyObject *mutex_initialize(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_mutex_init(self->p, 0);
	if (err)
		return lock_error(err, "init");
	Py_RETURN_NONE;
}

static PyObject *mutex_acquire(LockObject *self, PyObject *args, PyObject *kw)
{
	int blocking = 1, rc;
	double timeout = -1;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|pd", acquire_kwlist, &blocking, &timeout))
		return NULL;
	if (lock_check(self))
		return NULL;
	rc = acquire_common(self->p, mutex_try, mutex_timed, blocking, timeout, "acquire");
	if (rc < 0)
		return NULL;
	return PyBool_FromLong(rc);
}

static PyObject *mutex_release(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_mutex_unlock(self->p);
	if (err)
		return lock_error(err, "release");
	Py_RETURN_NONE;
}

static PyObject *mutex_consistent(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_mutex_consistent(self->p);
	if (err)
		return lock_error(err, "consistent");
	Py_RETURN_NONE;
}

static PyObject *mutex_owner(LockObject *self, PyObject *unused)
{
	pid_t pid = 0, tid = 0;
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_mutex_owner(self->p, &pid, &tid);
	return owner_result(err, pid, tid);
}

static PyMethodDef mutex_methods[] = {
	{ "init", (PyCFunction)mutex_initialize, METH_NOARGS, "shmr_mutex_init()" },
	{ "acquire", (PyCFunction)(void (*)(void))mutex_acquire, METH_VARARGS | METH_KEYWORDS,
	  "acquire(blocking=True, timeout=-1) -> bool" },
	{ "release", (PyCFunction)mutex_release, METH_NOARGS, "release()" },
	{ "consistent", (PyCFunction)mutex_consistent, METH_NOARGS, "mark the data repaired" },
	{ "owner", (PyCFunction)mutex_owner, METH_NOARGS,
	  "(pid, tid, 'alive'|'dead'|'unrecoverable') or None" },
	{ "close", (PyCFunction)lock_close, METH_NOARGS, "release the buffer" },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject MutexType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_shmr.Mutex",
	.tp_basicsize = sizeof(LockObject),
	.tp_dealloc = (destructor)lock_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Mutex(buffer, offset=0): a struct shmr_mutex inside buffer",
	.tp_methods = mutex_methods,
	.tp_init = (initproc)mutex_init,
	.tp_new = PyType_GenericNew,
};

/* ---- RWLock --------------------------------------------------------------- */

static int rw_timed_rd(void *rw, clockid_t clk, const struct timespec *abs)
{
	return shmr_rwlock_timedrdlock(rw, clk, abs);
}

static int rw_try_rd(void *rw)
{
	return shmr_rwlock_tryrdlock(rw);
}

static int rw_timed_wr(void *rw, clockid_t clk, const struct timespec *abs)
{
	return shmr_rwlock_timedwrlock(rw, clk, abs);
}

static int rw_try_wr(void *rw)
{
	return shmr_rwlock_trywrlock(rw);
}

static int rwlock_init(LockObject *self, PyObject *args, PyObject *kw)
{
	return lock_init_common(self, args, kw, sizeof(struct shmr_rwlock));
}

static PyObject *rwlock_initialize(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_rwlock_init(self->p, 0);
	if (err)
		return lock_error(err, "init");
	Py_RETURN_NONE;
}

static PyObject *rwlock_acq(LockObject *self, PyObject *args, PyObject *kw, int write)
{
	int blocking = 1, rc;
	double timeout = -1;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|pd", acquire_kwlist, &blocking, &timeout))
		return NULL;
	if (lock_check(self))
		return NULL;
	rc = acquire_common(self->p, write ? rw_try_wr : rw_try_rd, write ? rw_timed_wr : rw_timed_rd,
			    blocking, timeout, write ? "acquire_write" : "acquire_read");
	if (rc < 0)
		return NULL;
	return PyBool_FromLong(rc);
}

static PyObject *rwlock_rd(LockObject *self, PyObject *args, PyObject *kw)
{
	return rwlock_acq(self, args, kw, 0);
}

static PyObject *rwlock_wr(LockObject *self, PyObject *args, PyObject *kw)
{
	return rwlock_acq(self, args, kw, 1);
}

static PyObject *rwlock_release(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_rwlock_unlock(self->p);
	if (err)
		return lock_error(err, "release");
	Py_RETURN_NONE;
}

static PyObject *rwlock_consistent(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_rwlock_consistent(self->p);
	if (err)
		return lock_error(err, "consistent");
	Py_RETURN_NONE;
}

static PyObject *rwlock_owner(LockObject *self, PyObject *unused)
{
	pid_t pid = 0, tid = 0;
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_rwlock_owner(self->p, &pid, &tid);
	return owner_result(err, pid, tid);
}

static PyMethodDef rwlock_methods[] = {
	{ "init", (PyCFunction)rwlock_initialize, METH_NOARGS, "shmr_rwlock_init()" },
	{ "acquire_read", (PyCFunction)(void (*)(void))rwlock_rd, METH_VARARGS | METH_KEYWORDS,
	  "acquire_read(blocking=True, timeout=-1) -> bool" },
	{ "acquire_write", (PyCFunction)(void (*)(void))rwlock_wr, METH_VARARGS | METH_KEYWORDS,
	  "acquire_write(blocking=True, timeout=-1) -> bool" },
	{ "release", (PyCFunction)rwlock_release, METH_NOARGS, "release()" },
	{ "consistent", (PyCFunction)rwlock_consistent, METH_NOARGS, "mark the data repaired" },
	{ "owner", (PyCFunction)rwlock_owner, METH_NOARGS, "writer (pid, tid, state) or None" },
	{ "close", (PyCFunction)lock_close, METH_NOARGS, "release the buffer" },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject RWLockType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_shmr.RWLock",
	.tp_basicsize = sizeof(LockObject),
	.tp_dealloc = (destructor)lock_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "RWLock(buffer, offset=0): a struct shmr_rwlock inside buffer",
	.tp_methods = rwlock_methods,
	.tp_init = (initproc)rwlock_init,
	.tp_new = PyType_GenericNew,
};

/* ---- Cond ----------------------------------------------------------------- */

static PyTypeObject CondType;

static int cond_init(LockObject *self, PyObject *args, PyObject *kw)
{
	return lock_init_common(self, args, kw, sizeof(struct shmr_cond));
}

static PyObject *cond_initialize(LockObject *self, PyObject *unused)
{
	int err;

	(void)unused;
	if (lock_check(self))
		return NULL;
	err = shmr_cond_init(self->p, 0);
	if (err)
		return lock_error(err, "init");
	Py_RETURN_NONE;
}

/*
 * wait(mutex, timeout=None) -> bool: False when timeout passed. Waits at
 * most one slice per call of the library, so a wakeup can be spurious (the
 * caller re-checks its predicate, as with the C API).
 */
static PyObject *cond_wait(LockObject *self, PyObject *args)
{
	LockObject *m;
	PyObject *tobj = Py_None;
	struct timespec now, abs;
	long long deadline = -1, slice;
	int err;

	if (!PyArg_ParseTuple(args, "O!|O", &MutexType, &m, &tobj))
		return NULL;
	if (lock_check(self) || lock_check(m))
		return NULL;
	ts_now(&now);
	if (tobj != Py_None) {
		double t = PyFloat_AsDouble(tobj);

		if (t == -1 && PyErr_Occurred())
			return NULL;
		if (t < 0)
			t = 0;
		deadline = ts_ns(&now) + (long long)(t * 1e9);
	}
	slice = ts_ns(&now) + 5 * SLICE_NS;
	if (deadline >= 0 && deadline < slice)
		slice = deadline;
	abs = ns_ts(slice);
	Py_BEGIN_ALLOW_THREADS
	err = shmr_cond_timedwait(self->p, m->p, CLOCK_MONOTONIC, &abs);
	Py_END_ALLOW_THREADS
	if (err == -ETIMEDOUT) {
		if (slice == deadline)
			Py_RETURN_FALSE;
		if (PyErr_CheckSignals())
			return NULL;
		Py_RETURN_TRUE;
	}
	if (err)
		return lock_error(err, "wait");
	Py_RETURN_TRUE;
}

static PyObject *cond_signal(LockObject *self, PyObject *args)
{
	int all = 0, err;

	if (!PyArg_ParseTuple(args, "|p", &all))
		return NULL;
	if (lock_check(self))
		return NULL;
	err = all ? shmr_cond_broadcast(self->p) : shmr_cond_signal(self->p);
	if (err)
		return lock_error(err, "notify");
	Py_RETURN_NONE;
}

static PyMethodDef cond_methods[] = {
	{ "init", (PyCFunction)cond_initialize, METH_NOARGS, "shmr_cond_init()" },
	{ "wait", (PyCFunction)cond_wait, METH_VARARGS, "wait(mutex, timeout=None) -> bool" },
	{ "signal", (PyCFunction)cond_signal, METH_VARARGS, "signal(all=False)" },
	{ "close", (PyCFunction)lock_close, METH_NOARGS, "release the buffer" },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject CondType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_shmr.Cond",
	.tp_basicsize = sizeof(LockObject),
	.tp_dealloc = (destructor)lock_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Cond(buffer, offset=0): a struct shmr_cond inside buffer",
	.tp_methods = cond_methods,
	.tp_init = (initproc)cond_init,
	.tp_new = PyType_GenericNew,
};

/* ---- module functions ----------------------------------------------------- */

static PyObject *py_unlink(PyObject *mod, PyObject *arg)
{
	const char *name;
	int err;

	(void)mod;
	if (!PyUnicode_Check(arg)) {
		PyErr_SetString(PyExc_TypeError, "name must be str");
		return NULL;
	}
	name = PyUnicode_AsUTF8(arg);
	if (!name)
		return NULL;
	err = shmr_region_unlink(name);
	if (err)
		return set_errno(-err, arg);
	Py_RETURN_NONE;
}

/* The leak report as text (what shmr_leak_report() writes). */
static PyObject *py_leak_report_text(PyObject *mod, PyObject *unused)
{
	char *buf = NULL;
	size_t len = 0;
	PyObject *res;
	FILE *f;
	int n;

	(void)mod;
	(void)unused;
	f = open_memstream(&buf, &len);
	if (!f)
		return PyErr_SetFromErrno(PyExc_OSError);
	n = shmr_leak_report(f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return set_errno(-n, NULL);
	}
	res = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "backslashreplace");
	free(buf);
	return res;
}

static PyObject *py_leak_count(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	return PyLong_FromLong(shmr_leak_count());
}

/*
 * The library's exit-time report, for processes that leave with _exit()
 * (multiprocessing's children): same variables, same format, same exit
 * code for SHMR_LEAK=fatal.
 */
static PyObject *py_exit_report(PyObject *mod, PyObject *unused)
{
	const char *mode = getenv("SHMR_LEAK"), *path = getenv("SHMR_LEAK_FILE");
	FILE *f = NULL;
	int n;

	(void)mod;
	(void)unused;
	if (mode && !strcmp(mode, "off"))
		Py_RETURN_NONE;
	n = shmr_leak_count();
	if (n <= 0)
		Py_RETURN_NONE;
	fflush(stdout);
	if (path && *path)
		f = fopen(path, "ae");
	shmr_leak_report(f ? f : stderr);
	if (f)
		fclose(f);
	else
		fflush(stderr);
	if (mode && !strcmp(mode, "fatal")) {
		fflush(NULL);
		_exit(SHMR_LEAK_EXIT_CODE);
	}
	Py_RETURN_NONE;
}

static PyObject *py_registry(PyObject *mod, PyObject *unused)
{
	struct shmr_tracked *t = NULL;
	PyObject *list;
	int n, cap = 0, i;

	(void)mod;
	(void)unused;
	for (;;) {
		n = shmr_registry_list(t, (size_t)cap);
		if (n < 0) {
			free(t);
			return set_errno(-n, NULL);
		}
		if (n <= cap)
			break;
		free(t);
		cap = n + 8;
		t = calloc((size_t)cap, sizeof(*t));
		if (!t)
			return PyErr_NoMemory();
	}
	list = PyList_New(n);
	for (i = 0; list && i < n; i++) {
		PyObject *d = Py_BuildValue("{s:s,s:i,s:N,s:K,s:K,s:i,s:O,s:s,s:s}",
			"kind", t[i].kind == SHMR_TRACKED_HANDLE ? "handle" : "mapping",
			"fd", t[i].fd,
			"addr", t[i].addr ? PyLong_FromVoidPtr(t[i].addr) : Py_NewRef(Py_None),
			"size", (unsigned long long)t[i].size, "id", (unsigned long long)t[i].id,
			"pid", (int)t[i].pid, "inherited", t[i].inherited ? Py_True : Py_False,
			"where", t[i].where, "name", t[i].name);

		if (!d) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, d);
	}
	free(t);
	return list;
}

/* exit_records(clear=False): the module's exit records as dicts */
static PyObject *py_exit_records(PyObject *mod, PyObject *args)
{
	struct shmr_exit *e = NULL;
	PyObject *list;
	int clear = 0, n, cap = 0, i;

	(void)mod;
	if (!PyArg_ParseTuple(args, "|p", &clear))
		return NULL;
	for (;;) {
		/* clear only with a buffer large enough for everything returned */
		n = shmr_exit_list(e, (size_t)cap, cap ? (clear ? SHMR_EXITS_CLEAR : 0) : 0);
		if (n < 0) {
			free(e);
			return set_errno(-n, NULL);
		}
		if (n <= cap && (cap || !clear || n == 0))
			break;
		free(e);
		cap = n + 16;
		e = calloc((size_t)cap, sizeof(*e));
		if (!e)
			return PyErr_NoMemory();
	}
	list = PyList_New(n);
	for (i = 0; list && i < n; i++) {
		PyObject *d = Py_BuildValue("{s:K,s:K,s:i,s:i,s:i,s:I,s:I,s:s,s:s}",
			"region_id", (unsigned long long)e[i].region_id,
			"when_ns", (unsigned long long)e[i].when_ns,
			"pid", (int)e[i].pid, "signal", (int)e[i].signal, "status", (int)e[i].status,
			"handles", e[i].handles, "mappings", e[i].mappings,
			"comm", e[i].comm, "name", e[i].name);

		if (!d) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, d);
	}
	free(e);
	return list;
}

static PyObject *py_backend(PyObject *mod, PyObject *unused)
{
	(void)mod;
	(void)unused;
	return PyUnicode_FromString(shmr_backend_name());
}

static PyObject *py_backend_error(PyObject *mod, PyObject *unused)
{
	const char *msg = shmr_backend_error();

	(void)mod;
	(void)unused;
	if (!msg)
		Py_RETURN_NONE;
	return PyUnicode_FromString(msg);
}

static PyObject *py_features(PyObject *mod, PyObject *unused)
{
	uint64_t f = 0;
	int err;

	(void)mod;
	(void)unused;
	err = shmr_features(&f);
	if (err)
		return set_errno(-err, NULL);
	return PyLong_FromUnsignedLongLong(f);
}

static PyMethodDef module_methods[] = {
	{ "unlink", py_unlink, METH_O, "shmr_region_unlink(name)" },
	{ "leak_report_text", py_leak_report_text, METH_NOARGS, "shmr_leak_report() as text" },
	{ "leak_count", py_leak_count, METH_NOARGS, "shmr_leak_count()" },
	{ "exit_report", py_exit_report, METH_NOARGS, "the exit-time leak report, now" },
	{ "registry", py_registry, METH_NOARGS, "shmr_registry_list() as dicts" },
	{ "exit_records", py_exit_records, METH_VARARGS, "shmr_exit_list() as dicts" },
	{ "backend", py_backend, METH_NOARGS, "shmr_backend_name()" },
	{ "backend_error", py_backend_error, METH_NOARGS, "shmr_backend_error()" },
	{ "features", py_features, METH_NOARGS, "shmr_features()" },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef shmr_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_shmr",
	.m_doc = "C half of the shmr package (use shmr)",
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__shmr(void)
{
	PyObject *m;

	if (PyType_Ready(&RegionType) || PyType_Ready(&MutexType) || PyType_Ready(&RWLockType) ||
	    PyType_Ready(&CondType))
		return NULL;
	m = PyModule_Create(&shmr_module);
	if (!m)
		return NULL;
	OwnerDead = PyErr_NewExceptionWithDoc("shmr.OwnerDead",
		"The previous owner of the lock died holding it. The caller now holds the lock: repair the protected data, then call consistent() (or release without it: the lock becomes unrecoverable).",
		PyExc_RuntimeError, NULL);
	NotRecoverable = PyErr_NewExceptionWithDoc("shmr.NotRecoverable",
		"The lock was released while inconsistent and can no longer be taken.",
		PyExc_RuntimeError, NULL);
	if (!OwnerDead || !NotRecoverable ||
	    PyModule_AddObjectRef(m, "OwnerDead", OwnerDead) ||
	    PyModule_AddObjectRef(m, "NotRecoverable", NotRecoverable) ||
	    PyModule_AddObjectRef(m, "Region", (PyObject *)&RegionType) ||
	    PyModule_AddObjectRef(m, "Mutex", (PyObject *)&MutexType) ||
	    PyModule_AddObjectRef(m, "RWLock", (PyObject *)&RWLockType) ||
	    PyModule_AddObjectRef(m, "Cond", (PyObject *)&CondType) ||
	    PyModule_AddIntConstant(m, "MUTEX_SIZE", sizeof(struct shmr_mutex)) ||
	    PyModule_AddIntConstant(m, "RWLOCK_SIZE", sizeof(struct shmr_rwlock)) ||
	    PyModule_AddIntConstant(m, "COND_SIZE", sizeof(struct shmr_cond)) ||
	    PyModule_AddIntConstant(m, "REGION_EXCL", SHMR_REGION_EXCL) ||
	    PyModule_AddIntConstant(m, "REGION_PROCESS", SHMR_REGION_PROCESS) ||
	    PyModule_AddIntConstant(m, "REGION_HUGE", SHMR_REGION_HUGE) ||
	    PyModule_AddIntConstant(m, "REGION_RDONLY", SHMR_REGION_RDONLY) ||
	    PyModule_AddIntConstant(m, "LEAK_EXIT_CODE", SHMR_LEAK_EXIT_CODE) ||
	    PyModule_AddStringConstant(m, "__version__", shmr_version())) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
