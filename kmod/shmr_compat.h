/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmr: every difference between the supported kernels (6.1, 6.12,
 * 6.12-rt) lives here; no version checks elsewhere. Features are detected
 * from the kernel headers in kmod/Kbuild (SHMR_HAVE_*), not by version.
 */
#ifndef _SHMR_COMPAT_H
#define _SHMR_COMPAT_H

#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/rcupdate.h>

/* vm_flags became read-only with accessors in 6.3. */
static inline void shmr_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef SHMR_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * The thread-group pid of the process that owns @mm, with a reference, or
 * NULL. fork() calls vm_ops->open() for the child's VMAs with current set
 * to the parent, so the child is found through mm->owner, which exists
 * with CONFIG_MEMCG (Debian sets it); mm_init() points it at the new task.
 * Without CONFIG_MEMCG only the caller's own mm can be attributed.
 */
static inline struct pid *shmr_mm_tgid(struct mm_struct *mm)
{
	struct pid *pid = NULL;

	if (mm == current->mm)
		return get_pid(task_tgid(current));
#ifdef CONFIG_MEMCG
	{
		struct task_struct *t;

		rcu_read_lock();
		t = rcu_dereference(mm->owner);
		if (t)
			pid = get_pid(task_tgid(t));
		rcu_read_unlock();
	}
#endif
	return pid;
}

/*
 * uring_cmd: 6.1 points io_uring_cmd->cmd at the SQE's command area; from
 * 6.6 the struct holds the SQE and io_uring_sqe_cmd() finds the area.
 */
#ifdef SHMR_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>

static inline const void *shmr_uring_payload(struct io_uring_cmd *ioucmd)
{
	return io_uring_sqe_cmd(ioucmd->sqe);
}
#else
#include <linux/io_uring.h>

static inline const void *shmr_uring_payload(struct io_uring_cmd *ioucmd)
{
	return ioucmd->cmd;
}
#endif

#endif /* _SHMR_COMPAT_H */
