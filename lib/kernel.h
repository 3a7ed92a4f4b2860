/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel backend's commands, shared by its calls (backend_kernel.c) and
 * by batches over io_uring (uring.c): one place fills each command struct
 * and one place reads the answer, whichever way the command reaches the
 * module. Internal to libshmr, not installed.
 */
#ifndef SHMR_KERNEL_H
#define SHMR_KERNEL_H

#include <linux/shmr.h>

#include "region.h"

/* The control fd, and the module's SHMR_FEAT_* bits (set by the probe). */
SHMR_HIDDEN extern int shmr__kctl;
SHMR_HIDDEN extern uint64_t shmr__kfeat;
/*
 * The control fd for a command on the namespace: shmr__kctl, moved first
 * to the calling thread's IPC namespace if it left it (same fd number).
 */
SHMR_HIDDEN int shmr__kernel_ctl(void);

/* ioctl() retried on EINTR: the result or -errno. */
SHMR_HIDDEN int shmr__kioctl(int fd, unsigned long cmd, void *arg);

/* The library's SHMR_FEATURE_* bits for the module's SHMR_FEAT_* bits. */
SHMR_HIDDEN uint64_t shmr__kfeatures(uint64_t feat);

/* CREATE of r->name ("" for anonymous) with SHMR_REGION_* flags, on the control fd. */
SHMR_HIDDEN void shmr__kcreate_prep(struct shmr_create *c, const struct shmr_region *r,
				    uint64_t size, uint32_t mode, uint32_t flags);
/* OPEN of r->name with SHMR_REGION_* flags, on the control fd. */
SHMR_HIDDEN void shmr__kopen_prep(struct shmr_open *o, const struct shmr_region *r,
				  uint32_t flags);
SHMR_HIDDEN void shmr__kunlink_prep(struct shmr_unlink *u, const char *name);
/* STAT: on a region fd (id 0) or on the control fd by id (-ENOENT for id 0). */
SHMR_HIDDEN int shmr__kstat_prep(struct shmr_stat *s, uint64_t id, bool by_id);
SHMR_HIDDEN void shmr__klist_prep(struct shmr_list *l, struct shmr_region_info *buf,
				  uint32_t cap);

/* The answers: res is what the ioctl returned; they return the call's result. */
SHMR_HIDDEN int shmr__kcreate_done(struct shmr_region *r, const struct shmr_create *c, int res);
SHMR_HIDDEN int shmr__kopen_done(struct shmr_region *r, const struct shmr_open *o, int res);
SHMR_HIDDEN void shmr__kinfo_to_stat(const struct shmr_region_info *i,
				     struct shmr_region_stat *st);
/* up to cap entries into out; the number of regions there are */
SHMR_HIDDEN int shmr__klist_done(const struct shmr_list *l, const struct shmr_region_info *buf,
				 struct shmr_region_stat *out, size_t cap);

#endif /* SHMR_KERNEL_H */
