// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: command dispatch and validation.
 *
 * shmr_cmd() takes the context (control fd or region handle), the command
 * number, the user pointer and the size of the caller's struct; it does not
 * know about the transport, so ioctl() and a later io_uring uring_cmd path
 * share the validation and the handlers. Every handler copies its struct in
 * first (copy_struct_from_user() semantics), works on kernel copies, and
 * copies results out last, with no lock held.
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

static int shmr_copy_in(void *k, size_t ksize, void __user *arg, size_t usize)
{
	if (usize < ksize)
		return -EINVAL;
	return copy_struct_from_user(k, ksize, arg, usize);
}

static int shmr_copy_out(void __user *arg, const void *k, size_t ksize)
{
	return copy_to_user(arg, k, ksize) ? -EFAULT : 0;
}

static bool shmr_nonzero(const void *p, size_t n)
{
	return !!memchr_inv(p, 0, n);
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
		     SHMR_FEAT_URING_CMD;
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
	return shmr_copy_out(arg, &k, sizeof(k));
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

	ret = shmr_region_create(name, size, k.flags, k.mode, &r);
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
	ret = shmr_copy_out(arg, &k, sizeof(k));
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		goto out_unlink;
	}
	fd_install(fd, file);
	shmr_region_put(r);
	return 0;

out_unlink:
	/* Undo a creation nobody heard of. */
	if (created && name) {
		int unlinked;

		mutex_lock(&shmr_lock);
		unlinked = shmr_region_unlink_locked(r);
		mutex_unlock(&shmr_lock);
		if (!unlinked)
			shmr_region_put(r);
	}
out_put_region:
	shmr_region_put(r);
	return ret;
}

static struct shmr_region *shmr_lookup_current(const char *name)
{
	struct shmr_region *r = NULL;
	struct shmr_ns *ns;

	mutex_lock(&shmr_lock);
	ns = shmr_ns_current(false);
	if (ns)
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
	r = shmr_lookup_current(name);
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
	ret = shmr_copy_out(arg, &k, sizeof(k));
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
	struct shmr_region *r = NULL;
	struct shmr_ns *ns;
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
	ns = shmr_ns_current(false);
	if (ns)
		r = shmr_region_lookup(ns, name);
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
	struct shmr_ns *ns;
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
	} else {
		mutex_lock(&shmr_lock);
		ns = shmr_ns_current(false);
		if (ns && k.id)
			r = shmr_region_find_id(ns, k.id);
		mutex_unlock(&shmr_lock);
		if (!r)
			return -ENOENT;
	}
	cap = k.attach ? min_t(unsigned int, k.attach_cap, SHMR_ATTACH_MAX) : 0;
	if (cap) {
		att = shmr_fail() ? NULL :
		      kvcalloc(cap, sizeof(*att), GFP_KERNEL_ACCOUNT);
		if (!att) {
			ret = -ENOMEM;
			goto out_put_region;
		}
	}
	shmr_fill_info(r, &k.info);
	spin_lock(&r->lock);
	k.attach_count = shmr_attach_snapshot_locked(r, att, cap);
	spin_unlock(&r->lock);
	if (k.attach_count &&
	    copy_to_user(u64_to_user_ptr(k.attach), att,
			 k.attach_count * sizeof(*att))) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = shmr_copy_out(arg, &k, sizeof(k));
out_free:
	kvfree(att);
out_put_region:
	shmr_region_put(r);
	return ret;
}

static int shmr_cmd_list(struct shmr_ctx *ctx, void __user *arg, size_t usize)
{
	struct shmr_region_info *infos = NULL;
	struct shmr_region *r;
	struct shmr_list k;
	struct shmr_ns *ns;
	unsigned int cap = 0, n = 0, total = 0;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags || shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (k.regions && k.cap) {
		mutex_lock(&shmr_lock);
		ns = shmr_ns_current(false);
		cap = ns ? ns->nregions : 0;
		mutex_unlock(&shmr_lock);
		cap = min(k.cap, cap + 16);
		infos = shmr_fail() ? NULL :
			kvcalloc(cap, sizeof(*infos), GFP_KERNEL_ACCOUNT);
		if (!infos)
			return -ENOMEM;
	}
	mutex_lock(&shmr_lock);
	ns = shmr_ns_current(false);
	if (ns) {
		list_for_each_entry(r, &ns->regions, ns_node) {
			if (!kref_read(&r->ref))
				continue;	/* being freed */
			if (n < cap)
				shmr_fill_info(r, &infos[n++]);
			total++;
		}
	}
	mutex_unlock(&shmr_lock);
	k.count = n;
	k.total = total;
	if (n && copy_to_user(u64_to_user_ptr(k.regions), infos,
			      n * sizeof(*infos)))
		ret = -EFAULT;
	else
		ret = shmr_copy_out(arg, &k, sizeof(k));
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
	ret = shmr_copy_out(arg, &k, sizeof(k));
	return ret;
}

static int shmr_cmd_exited(struct shmr_ctx *ctx, void __user *arg,
			   size_t usize)
{
	struct shmr_exit_record *recs = NULL;
	struct shmr_exited k;
	struct shmr_ns *ns;
	int ret;

	ret = shmr_copy_in(&k, sizeof(k), arg, usize);
	if (ret)
		return ret;
	if (k.flags & ~SHMR_EXITED_CLEAR)
		return -EINVAL;
	if (shmr_nonzero(k.reserved, sizeof(k.reserved)))
		return -EINVAL;
	if (!k.records)
		k.cap = 0;
	mutex_lock(&shmr_lock);
	ns = shmr_ns_current(false);
	ret = shmr_exited(ns, &k, &recs);
	if (ns && !ret && (k.flags & SHMR_EXITED_CLEAR))
		shmr_ns_maybe_free_locked(ns);
	mutex_unlock(&shmr_lock);
	if (ret)
		return ret;
	if (k.count && copy_to_user(u64_to_user_ptr(k.records), recs,
				    k.count * sizeof(*recs)))
		ret = -EFAULT;
	else
		ret = shmr_copy_out(arg, &k, sizeof(k));
	kvfree(recs);
	return ret;
}

enum { SHMR_ON_CTL = 1, SHMR_ON_REGION = 2 };

struct shmr_cmd_desc {
	unsigned int cmd;
	unsigned int where;
	int (*fn)(struct shmr_ctx *ctx, void __user *arg, size_t usize);
};

static const struct shmr_cmd_desc shmr_cmds[] = {
	{ SHMR_IOC_FEATURES, SHMR_ON_CTL | SHMR_ON_REGION, shmr_cmd_features },
	{ SHMR_IOC_CREATE, SHMR_ON_CTL, shmr_cmd_create },
	{ SHMR_IOC_OPEN, SHMR_ON_CTL, shmr_cmd_open },
	{ SHMR_IOC_UNLINK, SHMR_ON_CTL, shmr_cmd_unlink },
	{ SHMR_IOC_STAT, SHMR_ON_CTL | SHMR_ON_REGION, shmr_cmd_stat },
	{ SHMR_IOC_LIST, SHMR_ON_CTL, shmr_cmd_list },
	{ SHMR_IOC_SEAL, SHMR_ON_REGION, shmr_cmd_seal },
	{ SHMR_IOC_EVENTS, SHMR_ON_REGION, shmr_cmd_events },
	{ SHMR_IOC_EXITED, SHMR_ON_CTL, shmr_cmd_exited },
};

/*
 * Run command @cmd: type, number and direction select the handler; the
 * size field is the caller's struct size @usize (the ioctl transport passes
 * _IOC_SIZE(cmd)). Unknown commands, or commands on the wrong kind of fd,
 * are -ENOTTY.
 */
long shmr_cmd(struct shmr_ctx *ctx, unsigned int cmd, void __user *arg,
	      size_t usize)
{
	unsigned int where = ctx->handle ? SHMR_ON_REGION : SHMR_ON_CTL;
	unsigned int i;

	if (_IOC_TYPE(cmd) != SHMR_IOC_MAGIC)
		return -ENOTTY;
	for (i = 0; i < ARRAY_SIZE(shmr_cmds); i++) {
		const struct shmr_cmd_desc *d = &shmr_cmds[i];

		if (_IOC_NR(cmd) != _IOC_NR(d->cmd) ||
		    _IOC_DIR(cmd) != _IOC_DIR(d->cmd))
			continue;
		if (!(d->where & where))
			return -ENOTTY;
		return d->fn(ctx, arg, usize);
	}
	return -ENOTTY;
}

/*
 * io_uring transport: IORING_OP_URING_CMD with cmd_op = a SHMR_IOC_*
 * number and the first 8 bytes of the SQE's command area = the user pointer
 * to the command's struct, exactly as ioctl() would take it. Commands run
 * inline, in the submitting task, even on io_uring's non-blocking attempt:
 * they never wait for I/O or for another process, only briefly for
 * shmr_lock or an allocation (as ublk's control commands do), and a punt to
 * an io-wq worker costs far more than the command itself.
 */
int shmr_uring_cmd(struct shmr_ctx *ctx, struct io_uring_cmd *ioucmd,
		   unsigned int issue_flags)
{
	u64 uptr = READ_ONCE(*shmr_uring_payload(ioucmd));

	return shmr_cmd(ctx, ioucmd->cmd_op, u64_to_user_ptr(uptr),
			_IOC_SIZE(ioucmd->cmd_op));
}
