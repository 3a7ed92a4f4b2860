// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: refcounted shmem-backed shared memory regions, /dev/shmr.
 *
 * This file: module init/exit, parameters, the control device, the
 * private tmpfs mounts, debugfs counters and /proc/shmr.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/debugfs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/file.h>
#include <linux/shmem_fs.h>

#include "shmr_internal.h"
#include "shmr_compat.h"

/* Namespaces, region lists and names, per-user bytes: shmr_internal.h */
DEFINE_MUTEX(shmr_lock);
/* Every namespace's exit log ring. */
DEFINE_SPINLOCK(shmr_log_lock);
struct workqueue_struct *shmr_wq;
struct vfsmount *shmr_mnt;
struct vfsmount *shmr_huge_mnt;

/*
 * debugfs counters. Every *_live counter is zero when nothing is in use;
 * namespaces_held and exit_records_held count history the module keeps
 * for SHMR_IOC_EXITED (bounded), which may remain after everything is freed.
 */
atomic64_t shmr_counters[SHMR_C_NR];
const char * const shmr_counter_names[SHMR_C_NR] = {
	[SHMR_C_REGIONS_LIVE] = "regions_live",
	[SHMR_C_REGIONS_CREATED] = "regions_created",
	[SHMR_C_REGIONS_FREED] = "regions_freed",
	[SHMR_C_HANDLES_LIVE] = "handles_live",
	[SHMR_C_MAPPINGS_LIVE] = "mappings_live",
	[SHMR_C_ATTACH_LIVE] = "attach_live",
	[SHMR_C_BYTES_LIVE] = "bytes_live",
	[SHMR_C_NS_LIVE] = "namespaces_held",
	[SHMR_C_EXIT_RECORDS_LIVE] = "exit_records_held",
	[SHMR_C_EXIT_RECORDS_TOTAL] = "exit_records_total",
	[SHMR_C_PROCESS_UNLINKS] = "process_unlinks",
	[SHMR_C_WATCHES_LIVE] = "watches_live",
	[SHMR_C_FAULTS_INJECTED] = "faults_injected",
};

/* ---- module parameters, range-checked ---- */

#define SHMR_MAX_REGION_SIZE_LIMIT	SHMR_SIZE_LIMIT	/* 1 TiB */
#define SHMR_MAX_USER_BYTES_LIMIT	BIT_ULL(46)	/* 64 TiB */
#define SHMR_MAX_REGIONS_LIMIT		BIT(20)
#define SHMR_EXIT_LOG_LIMIT		4096

unsigned long long shmr_max_region_size = 16ULL << 30;
unsigned int shmr_max_regions = 4096;
unsigned long long shmr_max_user_bytes = 64ULL << 30;
unsigned int shmr_max_user_regions = 1024;
unsigned int shmr_exit_log_size = 64;

static int shmr_set_ull(const char *val, const struct kernel_param *kp,
			unsigned long long max)
{
	unsigned long long v;
	int ret = kstrtoull(val, 0, &v);

	if (ret)
		return ret;
	if (v < PAGE_SIZE || v > max)
		return -ERANGE;
	WRITE_ONCE(*(unsigned long long *)kp->arg, v);
	return 0;
}

static int shmr_set_uint(const char *val, const struct kernel_param *kp,
			 unsigned int max)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (v < 1 || v > max)
		return -ERANGE;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int shmr_set_region_size(const char *val, const struct kernel_param *kp)
{
	return shmr_set_ull(val, kp, SHMR_MAX_REGION_SIZE_LIMIT);
}

static int shmr_set_user_bytes(const char *val, const struct kernel_param *kp)
{
	return shmr_set_ull(val, kp, SHMR_MAX_USER_BYTES_LIMIT);
}

static int shmr_set_regions(const char *val, const struct kernel_param *kp)
{
	return shmr_set_uint(val, kp, SHMR_MAX_REGIONS_LIMIT);
}

static int shmr_set_user_regions(const char *val,
				 const struct kernel_param *kp)
{
	return shmr_set_uint(val, kp, SHMR_MAX_REGIONS_LIMIT);
}

static int shmr_set_exit_log(const char *val, const struct kernel_param *kp)
{
	return shmr_set_uint(val, kp, SHMR_EXIT_LOG_LIMIT);
}

static const struct kernel_param_ops shmr_region_size_ops = {
	.set = shmr_set_region_size,
	.get = param_get_ullong,
};

static const struct kernel_param_ops shmr_user_bytes_ops = {
	.set = shmr_set_user_bytes,
	.get = param_get_ullong,
};

static const struct kernel_param_ops shmr_regions_ops = {
	.set = shmr_set_regions,
	.get = param_get_uint,
};

static const struct kernel_param_ops shmr_user_regions_ops = {
	.set = shmr_set_user_regions,
	.get = param_get_uint,
};

static const struct kernel_param_ops shmr_exit_log_ops = {
	.set = shmr_set_exit_log,
	.get = param_get_uint,
};

module_param_cb(max_region_size, &shmr_region_size_ops,
		&shmr_max_region_size, 0644);
MODULE_PARM_DESC(max_region_size,
		 "Largest region in bytes, PAGE_SIZE..1 TiB (default 16 GiB); larger: -EFBIG");
module_param_cb(max_regions, &shmr_regions_ops, &shmr_max_regions, 0644);
MODULE_PARM_DESC(max_regions,
		 "Regions alive in all namespaces, 1..1048576 (default 4096); more: -ENOSPC");
module_param_cb(max_user_bytes, &shmr_user_bytes_ops,
		&shmr_max_user_bytes, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Bytes of live regions per creating uid, PAGE_SIZE..64 TiB (default 64 GiB); more: -EDQUOT");
module_param_cb(max_user_regions, &shmr_user_regions_ops,
		&shmr_max_user_regions, 0644);
MODULE_PARM_DESC(max_user_regions,
		 "Regions alive per creating uid, all namespaces, 1..1048576 (default 1024); more: -EDQUOT (not for CAP_SYS_RESOURCE)");
module_param_cb(exit_log_size, &shmr_exit_log_ops, &shmr_exit_log_size,
		0644);
MODULE_PARM_DESC(exit_log_size,
		 "Exit records kept per IPC namespace, 1..4096 (default 64); applies to logs made later (a namespace's first CREATE)");

/* ---- control device ---- */

/* The opener's IPC namespace is the control fd's for good (shmr_ns.c). */
static int shmr_ctl_open(struct inode *inode, struct file *file)
{
	struct shmr_ns *ns = shmr_ns_bind();

	if (IS_ERR(ns))
		return PTR_ERR(ns);
	file->private_data = ns;
	return 0;
}

static int shmr_ctl_release(struct inode *inode, struct file *file)
{
	shmr_ns_unbind(file->private_data);
	return 0;
}

static long shmr_ctl_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct shmr_ctx ctx = { .ns = file->private_data };

	return shmr_cmd(&ctx, cmd, (void __user *)arg, _IOC_SIZE(cmd));
}

static int shmr_ctl_uring_cmd(struct io_uring_cmd *ioucmd,
			      unsigned int issue_flags)
{
	struct shmr_ctx ctx = { .ns = ioucmd->file->private_data };

	return shmr_uring_cmd(&ctx, ioucmd, issue_flags);
}

static const struct file_operations shmr_ctl_fops = {
	.owner = THIS_MODULE,
	.open = shmr_ctl_open,
	.release = shmr_ctl_release,
	.unlocked_ioctl = shmr_ctl_ioctl,
	.uring_cmd = shmr_ctl_uring_cmd,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice shmr_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "shmr",
	.fops = &shmr_ctl_fops,
	.mode = 0666,
};

/* ---- debugfs counters, /proc/shmr ---- */

static struct dentry *shmr_debugfs;

static int shmr_counters_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < SHMR_C_NR; i++)
		seq_printf(m, "%s %lld\n", shmr_counter_names[i],
			   atomic64_read(&shmr_counters[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shmr_counters);

/* /proc/shmr shows the opener's IPC namespace, bound like the control fd. */
static int shmr_proc_open(struct inode *inode, struct file *file)
{
	struct shmr_ns *ns = shmr_ns_bind();
	int ret;

	if (IS_ERR(ns))
		return PTR_ERR(ns);
	ret = single_open(file, shmr_proc_show, ns);
	if (ret)
		shmr_ns_unbind(ns);
	return ret;
}

static int shmr_proc_release(struct inode *inode, struct file *file)
{
	struct shmr_ns *ns = ((struct seq_file *)file->private_data)->private;
	int ret = single_release(inode, file);

	shmr_ns_unbind(ns);
	return ret;
}

static const struct proc_ops shmr_proc_ops = {
	.proc_open = shmr_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = shmr_proc_release,
};

/*
 * Fault injection (debugfs shmr/fail_nth). Writing N > 0 arms it: the Nth
 * failable point (shmr_fail() callers: the allocations and the fd
 * reservation of CREATE, OPEN, mmap, UNLINK, LIST, STAT and EXITED)
 * reached from then on by the writer's thread group fails; other processes
 * are not affected. Writing 0 disarms. Reading gives the countdown left (0
 * when disarmed or fired). shmr_fail_armed is the cheap test on the fast
 * path; the countdown and the target (held until the next write or module
 * exit) are under shmr_fail_lock.
 */
atomic_t shmr_fail_armed = ATOMIC_INIT(0);
static DEFINE_SPINLOCK(shmr_fail_lock);
static struct pid *shmr_fail_pid;	/* thread-group pid, held */
static unsigned int shmr_fail_left;	/* 0: disarmed or fired */

bool __shmr_fail(void)
{
	bool fail = false;

	spin_lock(&shmr_fail_lock);
	if (shmr_fail_left && task_tgid(current) == shmr_fail_pid &&
	    !--shmr_fail_left) {
		atomic_set(&shmr_fail_armed, 0);
		fail = true;
	}
	spin_unlock(&shmr_fail_lock);
	if (fail) {
		shmr_count(SHMR_C_FAULTS_INJECTED, 1);
		pr_debug("injected failure at %pS\n",
			 __builtin_return_address(0));
	}
	return fail;
}

/* Arm for @n (0 disarms), for @pid (a new reference, or NULL). */
static void shmr_fail_set(unsigned int n, struct pid *pid)
{
	struct pid *old;

	spin_lock(&shmr_fail_lock);
	old = shmr_fail_pid;
	shmr_fail_pid = pid;
	shmr_fail_left = n;
	atomic_set(&shmr_fail_armed, !!n);
	spin_unlock(&shmr_fail_lock);
	put_pid(old);
}

static ssize_t shmr_fail_nth_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	unsigned int n;
	int ret;

	ret = kstrtouint_from_user(buf, count, 0, &n);
	if (ret)
		return ret;
	shmr_fail_set(n, n ? get_pid(task_tgid(current)) : NULL);
	return count;
}

static ssize_t shmr_fail_nth_read(struct file *file, char __user *buf,
				  size_t count, loff_t *ppos)
{
	char tmp[16];
	unsigned int n;
	int len;

	spin_lock(&shmr_fail_lock);
	n = shmr_fail_left;
	spin_unlock(&shmr_fail_lock);
	len = scnprintf(tmp, sizeof(tmp), "%u\n", n);
	return simple_read_from_buffer(buf, count, ppos, tmp, len);
}

static const struct file_operations shmr_fail_nth_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = shmr_fail_nth_read,
	.write = shmr_fail_nth_write,
	.llseek = default_llseek,
};

/* ---- private tmpfs mounts ---- */

static struct vfsmount *shmr_mount_tmpfs(const char *opts)
{
	struct file_system_type *type = get_fs_type("tmpfs");
	struct vfsmount *mnt;
	char buf[32];

	if (!type)
		return ERR_PTR(-ENODEV);
	strscpy(buf, opts, sizeof(buf));
	/*
	 * tmpfs is built in (no module reference to drop; put_filesystem()
	 * is not exported anyway).
	 */
	mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name, buf);
	return mnt;
}

static int __init shmr_init(void)
{
	int ret;

	shmr_wq = alloc_workqueue("shmr", WQ_UNBOUND, 0);
	if (!shmr_wq)
		return -ENOMEM;
	ret = shmr_region_init();
	if (ret)
		goto out_destroy_wq;
	shmr_mnt = shmr_mount_tmpfs("huge=never");
	if (IS_ERR(shmr_mnt)) {
		ret = PTR_ERR(shmr_mnt);
		goto out_region_exit;
	}
	shmr_huge_mnt = shmr_mount_tmpfs("huge=within_size");
	if (IS_ERR(shmr_huge_mnt)) {
		pr_info("no huge page tmpfs (%ld): SHMR_CREATE_HUGE unsupported\n",
			PTR_ERR(shmr_huge_mnt));
		shmr_huge_mnt = NULL;
	}
	shmr_debugfs = debugfs_create_dir("shmr", NULL);
	debugfs_create_file("counters", 0444, shmr_debugfs, NULL,
			    &shmr_counters_fops);
	debugfs_create_file("fail_nth", 0600, shmr_debugfs, NULL,
			    &shmr_fail_nth_fops);
	if (!proc_create("shmr", 0444, NULL, &shmr_proc_ops)) {
		ret = -ENOMEM;
		goto out_remove_debugfs;
	}
	ret = misc_register(&shmr_misc);
	if (ret)
		goto out_remove_proc;
	return 0;

out_remove_proc:
	remove_proc_entry("shmr", NULL);
out_remove_debugfs:
	debugfs_remove_recursive(shmr_debugfs);
	shmr_fail_set(0, NULL);
	if (shmr_huge_mnt)
		kern_unmount(shmr_huge_mnt);
	kern_unmount(shmr_mnt);
out_region_exit:
	shmr_region_exit();
out_destroy_wq:
	destroy_workqueue(shmr_wq);
	return ret;
}

static void __exit shmr_exit(void)
{
	misc_deregister(&shmr_misc);
	remove_proc_entry("shmr", NULL);
	debugfs_remove_recursive(shmr_debugfs);
	shmr_fail_set(0, NULL);
	shmr_ns_reap_stop();
	/* Watches pin the module: no process-lifetime work is left. */
	destroy_workqueue(shmr_wq);
	shmr_region_exit();
	if (shmr_huge_mnt)
		kern_unmount(shmr_huge_mnt);
	kern_unmount(shmr_mnt);
}

module_init(shmr_init);
module_exit(shmr_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Refcounted shmem-backed shared memory regions");
MODULE_AUTHOR("shmr developers <maintainers@users.noreply.r-seed-da9602da.example>");
MODULE_VERSION(SHMR_MODULE_VERSION);	/* from VERSION, by kmod/Kbuild */
