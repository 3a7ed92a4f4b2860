// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel backend: ioctls on /dev/shmr (include/uapi/linux/shmr.h).
 * One control fd per process, opened at backend selection and inherited
 * over fork; region handles are the fds the module returns. The command
 * structs are filled and read by the shmr__k*_prep/done functions, which
 * batches (uring.c) use too (kernel.h).
 *
 * The module binds a control fd to the IPC namespace it was opened in. The
 * library follows its process instead: before a command that works on the
 * namespace (not on a region handle) it asks the module whether the
 * calling thread is still in the control fd's namespace (SHMR_IOC_NSCHECK, one
 * cheap ioctl; reading /proc/self/ns/ipc cost 40 times as much), and on
 * -EXDEV (after unshare(CLONE_NEWIPC) or setns()) it opens /dev/shmr again
 * and dup3()s the new fd onto the control fd's number: a call running at the same
 * time uses one file or the other, never a closed or reused fd. Threads of
 * one process in different IPC namespaces share that one fd, each moving
 * it to its own namespace when it finds it elsewhere.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"

int shmr__kctl = -1;
uint64_t shmr__kfeat;

static bool kfollow;	/* the module has SHMR_IOC_NSCHECK */
static char ctl_path[256];	/* what the probe opened, opened again to move */
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Is the calling thread in shmr__kctl's IPC namespace? */
static bool ctl_here(void)
{
	return ioctl(shmr__kctl, SHMR_IOC_NSCHECK) == 0 || errno != EXDEV;
}

/* The control fd, moved to the calling thread's IPC namespace if needed. */
int shmr__kernel_ctl(void)
{
	int fd;

	if (!kfollow || ctl_here())
		return shmr__kctl;
	pthread_mutex_lock(&ctl_lock);
	if (!ctl_here()) {
		fd = open(ctl_path, O_RDWR | O_CLOEXEC);
		/* no fd: the old one goes on working in its namespace */
		if (fd >= 0) {
			dup3(fd, shmr__kctl, O_CLOEXEC);
			close(fd);
		}
	}
	pthread_mutex_unlock(&ctl_lock);
	return shmr__kctl;
}

int shmr__kioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

uint64_t shmr__kfeatures(uint64_t feat)
{
	/* SHMR_FEAT_* bits 0..8 have the same meaning as SHMR_FEATURE_* */
	return (feat & (SHMR_FEAT_NAMED | SHMR_FEAT_ANON | SHMR_FEAT_ATTACH | SHMR_FEAT_PROCESS |
			SHMR_FEAT_HUGE | SHMR_FEAT_SEAL | SHMR_FEAT_EVENTS | SHMR_FEAT_EXITED |
			SHMR_FEAT_IPC_NS)) | SHMR_FEATURE_LIST_ANON;
}

/* "group NAME" or "group GID" of a gid */
static void group_name(gid_t gid, char *buf, size_t len)
{
	struct group gr, *res = NULL;
	char tmp[1024];

	if (!getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned int)gid);
}

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == gid)
		return true;
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Why the device at path cannot be opened (err): the device, its owner,
 * group and mode, and what to do. Permission problems are the usual case:
 * the udev rule can restrict /dev/shmr to a group (kmod/60-shmr.rules).
 */
static void explain_open(const char *path, int err, char *msg, size_t len)
{
	char grp[64], own[64], hint[160] = "";
	struct passwd pw, *pres = NULL;
	char tmp[1024];
	struct stat st;

	if (stat(path, &st)) {
		snprintf(msg, len, "cannot open %s: %s", path, strerror(-err));
		return;
	}
	group_name(st.st_gid, grp, sizeof(grp));
	if (!getpwuid_r(st.st_uid, &pw, tmp, sizeof(tmp), &pres) && pres)
		snprintf(own, sizeof(own), "%s", pres->pw_name);
	else
		snprintf(own, sizeof(own), "%u", (unsigned int)st.st_uid);
	if ((err == -EACCES || err == -EPERM) && (st.st_mode & 060) == 060 &&
	    !in_group(st.st_gid))
		snprintf(hint, sizeof(hint), "; this process is not in group %s, which may use it", grp);
	snprintf(msg, len, "cannot open %s (mode %04o, owner %s, group %s): %s%s; "
		 "SHMR_BACKEND=posix uses POSIX shared memory instead, without the module's regions",
		 path, (unsigned int)(st.st_mode & 07777), own, grp, strerror(-err), hint);
}

int shmr__kernel_probe(bool *absent, char *msg, size_t len)
{
	const char *path = secure_getenv("SHMR_DEVICE");
	struct shmr_features f;
	int fd, err;

	if (!path || !*path)
		path = SHMR_DEVICE_PATH;
	*absent = false;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		/* no node, or a node without the module behind it */
		if (err == -ENOENT || err == -ENODEV || err == -ENXIO) {
			*absent = true;
			snprintf(msg, len, "%s: %s: the shmr module is not loaded", path,
				 strerror(-err));
			return -ENODEV;
		}
		explain_open(path, err, msg, len);
		return err;
	}
	memset(&f, 0, sizeof(f));
	err = shmr__kioctl(fd, SHMR_IOC_FEATURES, &f);
	if (err) {
		snprintf(msg, len, "%s does not answer the shmr FEATURES command (%s): not the "
			 "shmr module, or one built for another ABI", path, strerror(-err));
		close(fd);
		return err;
	}
	shmr__kfeat = f.features;
	/* without it, a module that resolves names in the caller's namespace */
	kfollow = f.features & SHMR_FEAT_NSCHECK &&
		  (size_t)snprintf(ctl_path, sizeof(ctl_path), "%s", path) < sizeof(ctl_path);
	shmr__kctl = fd;
	shmr__backend_kernel.features = shmr__kfeatures(f.features);
	return 0;
}

/* ---- the commands: struct in, answer out ---------------------------------- */

void shmr__kcreate_prep(struct shmr_create *c, const struct shmr_region *r, uint64_t size,
			uint32_t mode, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	c->name = r->name[0] ? (uint64_t)(uintptr_t)r->name : 0;
	c->size = size;
	c->mode = mode;
	if (flags & SHMR_REGION_EXCL)
		c->flags |= SHMR_CREATE_EXCL;
	if (flags & SHMR_REGION_PROCESS)
		c->flags |= SHMR_CREATE_PROCESS;
	if (flags & SHMR_REGION_HUGE)
		c->flags |= SHMR_CREATE_HUGE;
	if (flags & SHMR_REGION_NOCLOEXEC)
		c->flags |= SHMR_CREATE_NOCLOEXEC;
}

int shmr__kcreate_done(struct shmr_region *r, const struct shmr_create *c, int res)
{
	if (res < 0)
		return res;
	r->fd = c->fd;
	r->size = c->size;
	r->id = c->id;
	return 0;
}

void shmr__kopen_prep(struct shmr_open *o, const struct shmr_region *r, uint32_t flags)
{
	memset(o, 0, sizeof(*o));
	o->name = (uint64_t)(uintptr_t)r->name;
	if (flags & SHMR_REGION_RDONLY)
		o->flags |= SHMR_OPEN_RDONLY;
	if (flags & SHMR_REGION_NOCLOEXEC)
		o->flags |= SHMR_OPEN_NOCLOEXEC;
}

int shmr__kopen_done(struct shmr_region *r, const struct shmr_open *o, int res)
{
	if (res < 0)
		return res;
	r->fd = o->fd;
	r->size = o->size;
	r->id = o->id;
	return 0;
}

void shmr__kunlink_prep(struct shmr_unlink *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	u->name = (uint64_t)(uintptr_t)name;
}

int shmr__kstat_prep(struct shmr_stat *s, uint64_t id, bool by_id)
{
	memset(s, 0, sizeof(*s));
	/* on the control fd id 0 would mean "this handle": no region has it */
	if (by_id && !id)
		return -ENOENT;
	s->id = id;
	return 0;
}

void shmr__kinfo_to_stat(const struct shmr_region_info *i, struct shmr_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->id = i->id;
	st->size = i->size;
	st->ctime_ns = i->ctime_ns;
	st->uid = i->uid;
	st->gid = i->gid;
	st->mode = i->mode;
	if (i->flags & SHMR_INFO_ANON)
		st->flags |= SHMR_STAT_ANON;
	if (i->flags & SHMR_INFO_UNLINKED)
		st->flags |= SHMR_STAT_UNLINKED;
	if (i->flags & SHMR_INFO_SEALED)
		st->flags |= SHMR_STAT_SEALED;
	if (i->flags & SHMR_INFO_PROCESS)
		st->flags |= SHMR_STAT_PROCESS;
	if (i->flags & SHMR_INFO_HUGE)
		st->flags |= SHMR_STAT_HUGE;
	st->creator_pid = i->creator_pid;
	st->handles = i->handles;
	st->mappings = i->mappings;
	st->nattach = i->nattach;
	memcpy(st->name, i->name, sizeof(st->name));
	st->name[sizeof(st->name) - 1] = '\0';
}

void shmr__klist_prep(struct shmr_list *l, struct shmr_region_info *buf, uint32_t cap)
{
	memset(l, 0, sizeof(*l));
	l->regions = (uint64_t)(uintptr_t)buf;
	l->cap = buf ? cap : 0;
}

int shmr__klist_done(const struct shmr_list *l, const struct shmr_region_info *buf,
		     struct shmr_region_stat *out, size_t cap)
{
	uint32_t i;

	for (i = 0; i < l->count && i < cap; i++)
		shmr__kinfo_to_stat(&buf[i], &out[i]);
	return l->total > INT32_MAX ? INT32_MAX : (int)l->total;
}

/* ---- the backend ---------------------------------------------------------- */

static int k_create(struct shmr_region *r, uint64_t size, uint32_t mode, uint32_t flags)
{
	struct shmr_create c;

	shmr__kcreate_prep(&c, r, size, mode, flags);
	return shmr__kcreate_done(r, &c, shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_CREATE, &c));
}

static int k_open(struct shmr_region *r, uint32_t flags)
{
	struct shmr_open o;

	shmr__kopen_prep(&o, r, flags);
	return shmr__kopen_done(r, &o, shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_OPEN, &o));
}

/*
 * One ATTACH, which also checks (SHMR_ATTACH_NSCHECK) that the calling
 * thread is still in the control fd's namespace: the usual NSCHECK would
 * be a second ioctl. On -EXDEV, move the fd and attach there.
 */
static int k_attach(const char *name, uint32_t flags, void **addr, uint64_t *size, uint64_t *id)
{
	struct shmr_attach_req a;
	int err;

	if (!(shmr__kfeat & SHMR_FEAT_ATTACH_NOFD))
		return -EOPNOTSUPP;	/* an older module: open + mmap + close */
	memset(&a, 0, sizeof(a));
	a.name = (uint64_t)(uintptr_t)name;
	a.flags = ((flags & SHMR_REGION_RDONLY) ? SHMR_ATTACH_RDONLY : 0) |
		  (kfollow ? SHMR_ATTACH_NSCHECK : 0);
	err = shmr__kioctl(shmr__kctl, SHMR_IOC_ATTACH, &a);
	if (err == -EXDEV && kfollow) {
		a.flags &= ~SHMR_ATTACH_NSCHECK;
		err = shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_ATTACH, &a);
	}
	if (err)
		return err;
	*addr = (void *)(uintptr_t)a.addr;
	*size = a.size;
	*id = a.id;
	return 0;
}

static int k_unlink(const char *name)
{
	struct shmr_unlink u;

	shmr__kunlink_prep(&u, name);
	return shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_UNLINK, &u);
}

/* STAT on fd (a region fd, or the control fd with an id), optionally who */
static int k_stat_fd(int fd, uint64_t id, struct shmr_region_stat *st,
		     struct shmr_attach_info *att, uint32_t cap, uint32_t *count)
{
	struct shmr_stat s;
	int err;

	err = shmr__kstat_prep(&s, id, fd == shmr__kctl);
	if (err)
		return err;
	s.attach = (uint64_t)(uintptr_t)att;
	s.attach_cap = att ? cap : 0;
	err = shmr__kioctl(fd, SHMR_IOC_STAT, &s);
	if (err)
		return err;
	if (st)
		shmr__kinfo_to_stat(&s.info, st);
	if (count)
		*count = s.info.nattach;
	return 0;
}

static int k_stat(const struct shmr_region *r, struct shmr_region_stat *st)
{
	return k_stat_fd(r->fd, 0, st, NULL, 0, NULL);
}

static int k_stat_id(uint64_t id, struct shmr_region_stat *st)
{
	return k_stat_fd(shmr__kernel_ctl(), id, st, NULL, 0, NULL);
}

static int k_list(struct shmr_region_stat *out, size_t cap)
{
	struct shmr_region_info *buf = NULL;
	uint32_t want = cap > 1024 ? 1024 : (uint32_t)cap;
	struct shmr_list l;
	int err;

	for (;;) {
		if (want) {
			free(buf);
			buf = calloc(want, sizeof(*buf));
			if (!buf)
				return -ENOMEM;
		}
		shmr__klist_prep(&l, buf, want);
		err = shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_LIST, &l);
		if (err) {
			free(buf);
			return err;
		}
		/* retry once the whole answer fits what the caller asked for */
		if (l.count >= l.total || l.count >= cap || want >= cap)
			break;
		want = l.total > cap ? (uint32_t)cap : l.total;
	}
	err = shmr__klist_done(&l, buf, out, cap);
	free(buf);
	return err;
}

static int k_adopt(struct shmr_region *r)
{
	struct shmr_region_stat st;
	int err = k_stat_fd(r->fd, 0, &st, NULL, 0, NULL);

	if (err == -ENOTTY || err == -EINVAL)
		return shmr__backend_posix.adopt(r);	/* a memfd or shm file */
	if (err)
		return err;
	r->size = st.size;
	r->id = st.id;
	memcpy(r->name, st.name, sizeof(r->name));
	r->flags &= ~SHMR__ANON;
	if (st.flags & SHMR_STAT_ANON)
		r->flags |= SHMR__ANON;
	return 0;
}

static int k_who(const struct shmr_region *r, uint64_t id, struct shmr_attacher *out, size_t cap)
{
	struct shmr_attach_info *att = NULL;
	uint32_t kcap = cap > 4096 ? 4096 : (uint32_t)cap;
	uint32_t total = 0, i;
	int err;

	if (!r && !id)
		return -ENOENT;
	if (kcap) {
		att = calloc(kcap, sizeof(*att));
		if (!att)
			return -ENOMEM;
	}
	err = k_stat_fd(r ? r->fd : shmr__kernel_ctl(), r ? 0 : id, NULL, att, kcap, &total);
	if (!err) {
		for (i = 0; i < kcap && i < total; i++) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].pid = att[i].pid;
			out[i].handles = att[i].handles;
			out[i].mappings = att[i].mappings;
			out[i].since_ns = att[i].since_ns;
			memcpy(out[i].comm, att[i].comm, sizeof(out[i].comm));
			out[i].comm[sizeof(out[i].comm) - 1] = '\0';
		}
	}
	free(att);
	return err ? err : (int)(total > INT32_MAX ? INT32_MAX : total);
}

static int k_seal(struct shmr_region *r)
{
	struct shmr_seal s;

	memset(&s, 0, sizeof(s));
	s.seals = SHMR_SEAL_WRITE;
	return shmr__kioctl(r->fd, SHMR_IOC_SEAL, &s);
}

static int k_events(struct shmr_region *r, uint32_t *events)
{
	struct shmr_events e;
	int err;

	memset(&e, 0, sizeof(e));
	err = shmr__kioctl(r->fd, SHMR_IOC_EVENTS, &e);
	if (err)
		return err;
	/* SHMR_EV_* and SHMR_EVENT_* are the same bits */
	*events = e.events;
	return 0;
}

static int k_exits(struct shmr_exit *out, size_t cap, uint32_t flags)
{
	struct shmr_exit_record *rec = NULL;
	uint32_t kcap = cap > 4096 ? 4096 : (uint32_t)cap;
	struct shmr_exited x;
	uint32_t i;
	int err;

	if (kcap) {
		rec = calloc(kcap, sizeof(*rec));
		if (!rec)
			return -ENOMEM;
	}
	memset(&x, 0, sizeof(x));
	x.records = (uint64_t)(uintptr_t)rec;
	x.cap = kcap;
	x.flags = (flags & SHMR_EXITS_CLEAR) ? SHMR_EXITED_CLEAR : 0;
	err = shmr__kioctl(shmr__kernel_ctl(), SHMR_IOC_EXITED, &x);
	if (!err) {
		for (i = 0; i < x.count && i < kcap; i++) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].region_id = rec[i].region_id;
			out[i].when_ns = rec[i].when_ns;
			out[i].pid = rec[i].pid;
			out[i].signal = rec[i].signal;
			out[i].status = rec[i].status;
			out[i].handles = rec[i].handles;
			out[i].mappings = rec[i].mappings;
			memcpy(out[i].comm, rec[i].comm, sizeof(out[i].comm));
			out[i].comm[sizeof(out[i].comm) - 1] = '\0';
			memcpy(out[i].name, rec[i].name, sizeof(out[i].name));
			out[i].name[sizeof(out[i].name) - 1] = '\0';
		}
	}
	free(rec);
	return err ? err : (int)(x.total > INT32_MAX ? INT32_MAX : x.total);
}

_Static_assert(SHMR_FEATURE_EXITS == SHMR_FEAT_EXITED, "feature bits");
_Static_assert(SHMR_FEATURE_IPC_NS == SHMR_FEAT_IPC_NS, "feature bits");
_Static_assert(SHMR_EVENT_SEALED == SHMR_EV_SEALED && SHMR_EVENT_PEER_DIED == SHMR_EV_PEER_DIED &&
	       SHMR_EVENT_UNLINKED == SHMR_EV_UNLINKED && SHMR_EVENT_DETACHED == SHMR_EV_DETACHED,
	       "event bits");
_Static_assert(sizeof(((struct shmr_attacher *)0)->comm) == SHMR_COMM_LEN, "comm");
_Static_assert(sizeof(((struct shmr_region_stat *)0)->name) == SHMR_NAME_MAX + 1, "name");

struct shmr__backend shmr__backend_kernel = {
	.kind = SHMR_BACKEND_KERNEL,
	.name = "kernel",
	.features = 0,	/* set by shmr__kernel_probe() */
	.create = k_create,
	.open = k_open,
	.attach = k_attach,
	.unlink = k_unlink,
	.stat = k_stat,
	.stat_id = k_stat_id,
	.list = k_list,
	.adopt = k_adopt,
	.who = k_who,
	.seal = k_seal,
	.events = k_events,
	.exits = k_exits,
};
