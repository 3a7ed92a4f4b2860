// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: command dispatch and validation.
 *
 * shmr_cmd() takes the context (control fd or region handle), the command
 * number, the user pointer and the size of the caller's struct; it does not
 * know about the transport, so ioctl() and io_uring's uring_cmd
 * (shmr_uring_cmd() below) share the validation and the handlers. Every
 * handler copies its struct in first (copy_struct_from_user() semantics),
 * works on kernel copies, and copies results out last, with no lock held.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/sizes.h>
#include <linux/mm.h>

#include "shmr_internal.h"
#include "shmr_compat.h"

#define SHMR_ATTACH_MAX		4096	/* entries per STAT */

/*
 * The caller's struct is @usize bytes, at least the command's first version
 * (checked by shmr_cmd()): what it lacks of ours reads as zero, what it has
 * beyond ours must be zero (-E2BIG).
 */
static int shmr_copy_in(void *k, size_t ksize, void __user *arg, size_t usize)
{
	return copy_struct_from_user(k, ksize, arg, usize);
}

/* Never more than the caller's struct holds. */
static int shmr_copy_out(void __user *arg, const void *k, size_t ksize,
			 size_t usize)
{
	return copy_to_user(arg, k, min(ksize, usize)) ? -EFAULT : 0;
}

static bool shmr_nonzero(const void *p, size_t n)
{
	return !!memchr_inv(p, 0, n);
}

/*
 * On io_uring's non-blocking issue (ctx->nowait), the commands marked
 * SHMR_NOWAIT_* run if they can without sleeping: shmr_lock only if it is
 * free, memory only without reclaim; else they fail with -EAGAIN and
 * io_uring runs them again from a worker (see shmr_uring_cmd()).
 */
static int shmr_cmd_lock(struct shmr_ctx *ctx)
{
	if (!ctx->nowait) {
		mutex_lock(&shmr_lock);
		return 0;
	}
	return mutex_trylock(&shmr_lock) ? 0 : -EAGAIN;
}

/* A zeroed snapshot buffer: a failable point (fail_nth). */
static void *shmr_cmd_buf(struct shmr_ctx *ctx, size_t n, size_t size,
			  int *err)
{
	gfp_t gfp = ctx->nowait ? GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT :
		    GFP_KERNEL_ACCOUNT;
	void *p;

	if (shmr_fail()) {
		*err = -ENOMEM;
		return NULL;
	}
	p = kvcalloc(n, size, gfp);
	if (!p)
		*err = ctx->nowait ? -EAGAIN : -ENOMEM;
	return p;
}

/* A name: 1..SHMR_NAME_MAX bytes, NUL-terminated, no '/'. */
static int shmr_get_name(u64 uptr, char *buf)
{
	long n;

	if (!uptr)
		return -EINVAL;
	n = strncpy_from_user(buf, u64_to_user_ptr(uptr), SHMR_NAME_MAX + 1);
	if (n < 0)
		return n;
	if (n == 0)
		return -EINVAL;
	if (n > SHMR_NAME_MAX)
		return -ENAMETOOLONG;
	if (strchr(buf, '/'))
		return -EINVAL;
	return 0;
}

static int shmr_cmd_features(struct shmr_ctx *ctx, void __user *arg,
			     size_t usize)
{
	struct shmr_features k;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	k.abi_version = SHMR_ABI_VERSION;
	k.features = SHMR_FEAT_NAMED | SHMR_FEAT_ANON | SHMR_FEAT_ATTACH |
		     SHMR_FEAT_PROCESS | SHMR_FEAT_SEAL | SHMR_FEAT_EVENTS |
		     SHMR_FEAT_EXITED | SHMR_FEAT_IPC_NS |
		     SHMR_FEAT_URING_CMD | SHMR_FEAT_NSCHECK |
		     SHMR_FEAT_ATTACH_NOFD;
	k.create_flags = SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS |
			 SHMR_CREATE_NOCLOEXEC;
	if (shmr_huge_mnt) {
		k.features |= SHMR_FEAT_HUGE;
		k.create_flags |= SHMR_CREATE_HUGE;
	}
	k.open_flags = SHMR_OPEN_ALL;
	k.max_region_size = READ_ONCE(shmr_max_region_size);
	k.max_regions = READ_ONCE(shmr_max_regions);
	k.max_user_bytes = READ_ONCE(shmr_max_user_bytes);
	k.max_user_regions = READ_ONCE(shmr_max_user_regions);
	return shmr_copy_out(arg, &k, sizeof(k), usize);
}

static bool shmr_sealed(struct shmr_region *r)
{
	bool sealed;

	spin_lock(&r->lock);
	sealed = r->seals & SHMR_SEAL_WRITE;
	spin_unlock(&r->lock);
	return sealed;
}

static int shmr_cmd_create(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	char namebuf[SHMR_NAME_MAX + 1];	/* on the stack: no allocation */
	char *name = NULL;
	struct shmr_create k;
	struct shmr_region *r;
	struct file *file;
	u64 size, align;
	bool created;
	int fd, ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags & ~SHMR_CREATE_ALL)
		return -EINVAL;
	if (shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (k.mode & ~0777U)
		return -EINVAL;
	if (!k.name && (k.flags & (SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS)))
		return -EINVAL;
	/* Known, but this kernel has no huge page tmpfs (no THP). */
	if ((k.flags & SHMR_CREATE_HUGE) && !shmr_huge_mnt)
		return -EOPNOTSUPP;
	if (!k.size)
		return -EINVAL;
	/* Checked before rounding, so that rounding cannot wrap. */
	if (k.size > READ_ONCE(shmr_max_region_size))
		return -EFBIG;
	align = (k.flags & SHMR_CREATE_HUGE) ? SZ_2M : PAGE_SIZE;
	size = round_up(k.size, align);
	if (size > READ_ONCE(shmr_max_region_size))
		return -EFBIG;

	if (k.name) {
		name = namebuf;
		ret = shmr_get_name(k.name, name);
		if (ret)
			return ret;
	}

	/*
	 * Fail on an unwritable result before the name is published: once it
	 * is linked another process may open it, and then the creation can
	 * no longer be undone.
	 */
	if (copy_to_user(arg, &k, min(sizeof(k), usize)))
		return -EFAULT;

	ret = shmr_region_create(ctx->ns, name, size, k.flags, k.mode, &r);
	created = !ret;
	if (ret == -EEXIST && r) {
		ret = 0;
		if (k.flags & SHMR_CREATE_EXCL)
			ret = -EEXIST;
		if (!ret)
			ret = shmr_may_open(r, true);
		if (!ret && shmr_sealed(r))
			ret = -EPERM;
		if (!ret && k.size > r->size)
			ret = -EINVAL;
		if (ret)
			goto out_put_region;
	}
	if (ret)
		return ret;

	ret = shmr_handle_open(r, true, !(k.flags & SHMR_CREATE_NOCLOEXEC),
			       created ? r->ctime_ns : 0, &file, &fd);
	if (ret)
		goto out_unlink;
	k.size = r->size;
	k.fd = fd;
	k.result = created ? SHMR_RESULT_CREATED : 0;
	k.id = r->id;
	ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		goto out_unlink;
	}
	fd_install(fd, file);
	shmr_region_put(r);
	return 0;

out_unlink:
	/*
	 * Undo a creation nobody heard of. The result became unwritable after
	 * the check above (another thread's mprotect), or no fd was left: if
	 * somebody found the name meanwhile, the region is theirs now too and
	 * keeps its name.
	 */
	if (created && name) {
		bool drop = false;

		mutex_lock(&shmr_lock);
		if (!r->found)
			drop = !shmr_region_unlink_locked(r);
		mutex_unlock(&shmr_lock);
		if (drop)
			shmr_region_put(r);
	}
out_put_region:
	shmr_region_put(r);
	return ret;
}

static struct shmr_region *shmr_lookup(struct shmr_ns *ns, const char *name)
{
	struct shmr_region *r;

	mutex_lock(&shmr_lock);
	r = shmr_region_lookup(ns, name);
	mutex_unlock(&shmr_lock);
	return r;
}

static int shmr_cmd_open(struct shmr_ctx *ctx, void __user *arg, size_t usize)
{
	struct shmr_region *r;
	char name[SHMR_NAME_MAX + 1];
	struct shmr_open k;
	struct file *file;
	bool write;
	int fd, ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags & ~SHMR_OPEN_ALL)
		return -EINVAL;
	if (shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	ret = shmr_get_name(k.name, name);
	if (ret)
		return ret;
	r = shmr_lookup(ctx->ns, name);
	if (!r)
		return -ENOENT;
	write = !(k.flags & SHMR_OPEN_RDONLY);
	ret = shmr_may_open(r, write);
	if (!ret && write && shmr_sealed(r))
		ret = -EPERM;
	if (ret)
		goto out_put_region;
	ret = shmr_handle_open(r, write, !(k.flags & SHMR_OPEN_NOCLOEXEC), 0,
			       &file, &fd);
	if (ret)
		goto out_put_region;
	k.fd = fd;
	k.size = r->size;
	k.id = r->id;
	ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		goto out_put_region;
	}
	fd_install(fd, file);
out_put_region:
	shmr_region_put(r);
	return ret;
}

static int shmr_cmd_unlink(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	char name[SHMR_NAME_MAX + 1];
	struct shmr_unlink k;
	struct shmr_region *r;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags || k.reserved0 ||
	    shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	ret = shmr_get_name(k.name, name);
	if (ret)
		return ret;
	mutex_lock(&shmr_lock);
	r = shmr_region_lookup(ctx->ns, name);
	if (!r) {
		mutex_unlock(&shmr_lock);
		return -ENOENT;
	}
	ret = shmr_may_unlink(r);
	if (!ret)
		ret = shmr_region_unlink_locked(r);
	mutex_unlock(&shmr_lock);
	if (!ret)
		shmr_region_put(r);	/* the name's reference */
	shmr_region_put(r);
	return ret;
}

static int shmr_cmd_stat(struct shmr_ctx *ctx, void __user *arg, size_t usize)
{
	struct shmr_attach_info *att = NULL;
	struct shmr_region *r = NULL;
	struct shmr_stat k;
	unsigned int cap;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags || k.reserved0 ||
	    shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (ctx->handle) {
		if (k.id)
			return -EINVAL;
		r = ctx->handle->region;
		shmr_region_get(r);
		/* set at creation, cleared when the region is freed */
		if (r->watch) {
			ret = shmr_cmd_lock(ctx);
			if (ret)
				goto out_put_region;
			shmr_watch_expire_locked(r);
			mutex_unlock(&shmr_lock);
		}
	} else {
		mutex_lock(&shmr_lock);
		if (k.id)
			r = shmr_region_find_id(ctx->ns, k.id);
		mutex_unlock(&shmr_lock);
		if (!r)
			return -ENOENT;
	}
	cap = k.attach ? min_t(unsigned int, k.attach_cap, SHMR_ATTACH_MAX) : 0;
	if (cap) {
		att = shmr_cmd_buf(ctx, cap, sizeof(*att), &ret);
		if (!att)
			goto out_put_region;
	}
	shmr_fill_info(r, &k.info);
	spin_lock(&r->lock);
	k.attach_count = shmr_attach_snapshot(r, att, cap);
	spin_unlock(&r->lock);
	if (k.attach_count &&
	    copy_to_user(u64_to_user_ptr(k.attach), att,
			 k.attach_count * sizeof(*att))) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = shmr_copy_out(arg, &k, sizeof(k), usize);
out_free:
	kvfree(att);
out_put_region:
	shmr_region_put(r);
	return ret;
}

static int shmr_cmd_list(struct shmr_ctx *ctx, void __user *arg, size_t usize)
{
	struct shmr_region_info *infos = NULL;
	struct shmr_ns *ns = ctx->ns;
	struct shmr_region *r;
	struct shmr_list k;
	unsigned int cap = 0, n = 0, total = 0;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags || shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (k.regions && k.cap) {
		ret = shmr_cmd_lock(ctx);
		if (ret)
			return ret;
		cap = ns->nregions;
		mutex_unlock(&shmr_lock);
		cap = min(k.cap, cap + 16);
		infos = shmr_cmd_buf(ctx, cap, sizeof(*infos), &ret);
		if (!infos)
			return ret;
	}
	ret = shmr_cmd_lock(ctx);
	if (ret) {
		kvfree(infos);
		return ret;
	}
	list_for_each_entry(r, &ns->regions, ns_node) {
		if (!kref_read(&r->ref))
			continue;	/* being freed */
		shmr_watch_expire_locked(r);
		if (n < cap)
			shmr_fill_info(r, &infos[n++]);
		total++;
	}
	mutex_unlock(&shmr_lock);
	k.count = n;
	k.total = total;
	if (n && copy_to_user(u64_to_user_ptr(k.regions), infos,
			      n * sizeof(*infos)))
		ret = -EFAULT;
	else
		ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	kvfree(infos);
	return ret;
}

static int shmr_cmd_seal(struct shmr_ctx *ctx, void __user *arg, size_t usize)
{
	struct shmr_handle *h = ctx->handle;
	struct shmr_seal k;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.seals & ~SHMR_SEAL_ALL)
		return -EINVAL;
	if (k.flags || shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (!h->writable)
		return -EPERM;
	return shmr_region_seal(h, k.seals);
}

static int shmr_cmd_events(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	struct shmr_handle *h = ctx->handle;
	struct shmr_region *r = h->region;
	struct shmr_events k;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags || shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	spin_lock(&r->lock);
	k.events = h->events;
	h->events = 0;
	spin_unlock(&r->lock);
	ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	return ret;
}

static int shmr_cmd_exited(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	struct shmr_exit_record *recs = NULL;
	struct shmr_exited k;
	unsigned int cap;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags & ~SHMR_EXITED_CLEAR)
		return -EINVAL;
	if (shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	/* The ring's size is set once, with the namespace's first region. */
	cap = k.records ? min(k.cap, READ_ONCE(ctx->ns->log_cap)) : 0;
	if (cap) {
		recs = shmr_cmd_buf(ctx, cap, sizeof(*recs), &ret);
		if (!recs)
			return ret;
	}
	shmr_exited(ctx->ns, &k, recs, cap);
	if (k.count && copy_to_user(u64_to_user_ptr(k.records), recs,
				    k.count * sizeof(*recs)))
		ret = -EFAULT;
	else
		ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	kvfree(recs);
	return ret;
}

/*
 * Map a named region into the caller without a handle (shmr_region_attach()):
 * OPEN's checks for the access asked, then what mmap() of such a handle
 * does. The mapping is made last, and undone if the result cannot be
 * written back; it holds its own region reference.
 */
static int shmr_cmd_attach(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	char name[SHMR_NAME_MAX + 1];
	struct shmr_attach_req k;
	struct shmr_region *r;
	unsigned long addr;
	bool write;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags & ~SHMR_ATTACH_ALL)
		return -EINVAL;
	if (k.reserved0 || shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if ((k.flags & SHMR_ATTACH_NSCHECK) && !shmr_ns_current(ctx->ns))
		return -EXDEV;
	ret = shmr_get_name(k.name, name);
	if (ret)
		return ret;
	/*
	 * An unwritable result fails before anything is mapped. The undo
	 * below is then reached only if another thread of the caller makes
	 * it unwritable meanwhile; such a thread could as well unmap the new
	 * mapping and map something there for the undo to remove: the
	 * caller can only hurt itself.
	 */
	if (copy_to_user(arg, &k, min(sizeof(k), usize)))
		return -EFAULT;
	r = shmr_lookup(ctx->ns, name);
	if (!r)
		return -ENOENT;
	write = !(k.flags & SHMR_ATTACH_RDONLY);
	ret = shmr_may_open(r, write);
	if (!ret && write && shmr_sealed(r))
		ret = -EPERM;
	if (ret)
		goto out_put_region;
	addr = shmr_region_attach(r, write);
	if (IS_ERR_VALUE(addr)) {
		ret = (int)addr;
		goto out_put_region;
	}
	k.addr = addr;
	k.size = r->size;
	k.id = r->id;
	ret = shmr_copy_out(arg, &k, sizeof(k), usize);
	if (ret)
		vm_munmap(addr, r->size);
out_put_region:
	shmr_region_put(r);
	return ret;
}

/* No argument: a command number with a size is another command. */
static int shmr_cmd_nscheck(struct shmr_ctx *ctx, void __user *arg,
			    size_t usize)
{
	if (usize)
		return -ENOTTY;
	return shmr_ns_current(ctx->ns) ? 0 : -EXDEV;
}

enum {
	SHMR_ON_CTL = 1,
	SHMR_ON_REGION = 2,
	/* runs on io_uring's non-blocking issue, on that kind of fd */
	SHMR_NOWAIT_CTL = 4,
	SHMR_NOWAIT_REGION = 8,
	/* acts on the calling task: not through io_uring */
	SHMR_IOCTL_ONLY = 16,
};

#define SHMR_NOWAIT(where)	((where) << 2)

static unsigned int shmr_cmd_where(struct shmr_ctx *ctx)
{
	return ctx->handle ? SHMR_ON_REGION : SHMR_ON_CTL;
}

struct shmr_cmd_desc {
	unsigned int cmd;
	unsigned int flags;
	size_t size_ver0;	/* the struct's first version: the least accepted */
	int (*fn)(struct shmr_ctx *ctx, void __user *arg, size_t usize);
};

#define SHMR_CMD(name, flags, fn)					\
	{ SHMR_IOC_##name, flags, SHMR_##name##_SIZE_VER0, fn }

/* NSCHECK takes no argument: it has no struct to grow. */
#define SHMR_NSCHECK_SIZE_VER0	0

/*
 * Which commands run on the non-blocking issue: those that take no mutex
 * or only try it, and allocate nothing or only without reclaim. Never
 * there: CREATE and OPEN (shmem and handle files, fd table), UNLINK and
 * STAT by id (may drop a region's last reference, which takes shmr_lock),
 * SEAL (may wait for pinned pages to go).
 */
static const struct shmr_cmd_desc shmr_cmds[] = {
	SHMR_CMD(FEATURES, SHMR_ON_CTL | SHMR_ON_REGION | SHMR_NOWAIT_CTL |
		 SHMR_NOWAIT_REGION, shmr_cmd_features),
	SHMR_CMD(CREATE, SHMR_ON_CTL, shmr_cmd_create),
	SHMR_CMD(OPEN, SHMR_ON_CTL, shmr_cmd_open),
	SHMR_CMD(UNLINK, SHMR_ON_CTL, shmr_cmd_unlink),
	SHMR_CMD(STAT, SHMR_ON_CTL | SHMR_ON_REGION | SHMR_NOWAIT_REGION,
		 shmr_cmd_stat),
	SHMR_CMD(LIST, SHMR_ON_CTL | SHMR_NOWAIT_CTL, shmr_cmd_list),
	SHMR_CMD(SEAL, SHMR_ON_REGION, shmr_cmd_seal),
	SHMR_CMD(EVENTS, SHMR_ON_REGION | SHMR_NOWAIT_REGION,
		 shmr_cmd_events),
	SHMR_CMD(EXITED, SHMR_ON_CTL | SHMR_NOWAIT_CTL, shmr_cmd_exited),
	SHMR_CMD(NSCHECK, SHMR_ON_CTL | SHMR_IOCTL_ONLY, shmr_cmd_nscheck),
	/* maps into the calling task: not through io_uring */
	SHMR_CMD(ATTACH, SHMR_ON_CTL | SHMR_IOCTL_ONLY, shmr_cmd_attach),
};

/*
 * The handler of @cmd: type, number and direction select it. Unknown
 * commands, or commands on the wrong kind of fd, are -ENOTTY; a caller's
 * struct (@usize bytes) smaller than the command's first version -EINVAL.
 */
static const struct shmr_cmd_desc *shmr_cmd_find(struct shmr_ctx *ctx,
						 unsigned int cmd, size_t usize)
{
	unsigned int i;

	if (_IOC_TYPE(cmd) != SHMR_IOC_MAGIC)
		return ERR_PTR(-ENOTTY);
	for (i = 0; i < ARRAY_SIZE(shmr_cmds); i++) {
		const struct shmr_cmd_desc *d = &shmr_cmds[i];

		if (_IOC_NR(cmd) != _IOC_NR(d->cmd) ||
		    _IOC_DIR(cmd) != _IOC_DIR(d->cmd))
			continue;
		if (!(d->flags & shmr_cmd_where(ctx)))
			return ERR_PTR(-ENOTTY);
		if (usize < d->size_ver0)
			return ERR_PTR(-EINVAL);
		return d;
	}
	return ERR_PTR(-ENOTTY);
}

/*
 * Run command @cmd; the size field is the caller's struct size @usize (the
 * ioctl transport passes _IOC_SIZE(cmd)).
 */
long shmr_cmd(struct shmr_ctx *ctx, unsigned int cmd, void __user *arg,
	      size_t usize)
{
	const struct shmr_cmd_desc *d = shmr_cmd_find(ctx, cmd, usize);

	if (IS_ERR(d))
		return PTR_ERR(d);
	return d->fn(ctx, arg, usize);
}

/*
 * io_uring transport: IORING_OP_URING_CMD with cmd_op = a SHMR_IOC_*
 * number and the first 8 bytes of the SQE's command area = the user pointer
 * to the command's struct, exactly as ioctl() would take it. io_uring first
 * issues a request non-blocking (IO_URING_F_NONBLOCK: from the submitting
 * task or the SQPOLL thread, which must not sleep in it). A command that
 * may sleep returns -EAGAIN then, and io_uring punts it to an io-wq worker
 * that runs it blocking, as ublk does for its control commands; one that
 * can run without sleeping (shmr_cmds[]) tries, as nvme's passthrough
 * allocates with NOWAIT, and returns -EAGAIN only where it would sleep. A
 * fault on the command's user memory may still sleep on the non-blocking
 * issue, as for any io_uring request that copies from userspace.
 */
int shmr_uring_cmd(struct shmr_ctx *ctx, struct io_uring_cmd *ioucmd,
		   unsigned int issue_flags)
{
	size_t usize = _IOC_SIZE(ioucmd->cmd_op);
	const struct shmr_cmd_desc *d = shmr_cmd_find(ctx, ioucmd->cmd_op,
						      usize);
	u64 uptr;

	if (IS_ERR(d))
		return PTR_ERR(d);
	if (d->flags & SHMR_IOCTL_ONLY)
		return -EOPNOTSUPP;
	if (issue_flags & IO_URING_F_NONBLOCK) {
		if (!(d->flags & SHMR_NOWAIT(shmr_cmd_where(ctx))))
			return -EAGAIN;
		ctx->nowait = true;
	}
	uptr = READ_ONCE(*shmr_uring_payload(ioucmd));
	return d->fn(ctx, u64_to_user_ptr(uptr), usize);
}
