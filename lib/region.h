/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Regions, backends and the registry: internal to libshmr, not installed. */
#ifndef SHMR_REGION_H
#define SHMR_REGION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* struct shmr_region.flags (internal) */
#define SHMR__RDONLY	(1U << 0)
#define SHMR__ANON	(1U << 1)
#define SHMR__PROCESS	(1U << 2)	/* posix: this handle created a PROCESS region */

/* One registry entry: a handle or a mapping held by this process. */
struct shmr__node {
	struct shmr__node *prev, *next;
	int kind;		/* SHMR_TRACKED_* */
	pid_t pid;		/* process that made it */
	const char *file;	/* tracking macro, or NULL */
	int line;
	const void *caller;	/* return address when file is NULL */
};

struct shmr_region {
	struct shmr__node node;		/* first: registry entry */
	int fd;
	uint32_t flags;			/* SHMR__* */
	uint64_t size;
	uint64_t id;
	char name[SHMR_REGION_NAME_MAX + 1];	/* "" if anonymous */
};

struct shmr__mapping {
	struct shmr__node node;		/* first: registry entry */
	void *addr;
	uint64_t size;
	uint64_t id;
	char name[];			/* "" if anonymous */
};

/* One backend. Functions return 0/count or -errno. */
struct shmr__backend {
	int kind;			/* SHMR_BACKEND_* */
	const char *name;
	uint64_t features;		/* SHMR_FEATURE_* */
	/* fill r->fd, size, id (name/flags set by the caller) */
	int (*create)(struct shmr_region *r, uint64_t size, uint32_t mode, uint32_t flags);
	int (*open)(struct shmr_region *r, uint32_t flags);
	/*
	 * map name whole without a handle (SHMR_REGION_RDONLY or 0): *addr,
	 * *size, *id; -EOPNOTSUPP sends the caller to open + mmap + close
	 */
	int (*attach)(const char *name, uint32_t flags, void **addr, uint64_t *size, uint64_t *id);
	int (*unlink)(const char *name);
	int (*stat)(const struct shmr_region *r, struct shmr_region_stat *st);
	int (*stat_id)(uint64_t id, struct shmr_region_stat *st);
	int (*list)(struct shmr_region_stat *out, size_t cap);
	/* fill r->size, id, name and flags of a received fd; name is the sender's */
	int (*adopt)(struct shmr_region *r);
	int (*who)(const struct shmr_region *r, uint64_t id, struct shmr_attacher *out, size_t cap);
	int (*seal)(struct shmr_region *r);
	int (*events)(struct shmr_region *r, uint32_t *events);
	int (*exits)(struct shmr_exit *out, size_t cap, uint32_t flags);
};

SHMR_HIDDEN extern struct shmr__backend shmr__backend_posix;	/* PROCESS set by the probe */
SHMR_HIDDEN extern struct shmr__backend shmr__backend_kernel;	/* features set by the probe */

/*
 * Open the kernel backend's control device (SHMR_DEVICE, else /dev/shmr)
 * and ask for its features. 0 when the backend is ready; else -errno, with
 * *absent set when the module is simply not there (no node, or a node
 * without the driver), and msg saying what is wrong.
 */
SHMR_HIDDEN int shmr__kernel_probe(bool *absent, char *msg, size_t len);

/*
 * Before the posix backend is chosen: find the tracker helper that gives it
 * SHMR_FEATURE_PROCESS (lib/tracker.c).
 */
SHMR_HIDDEN void shmr__posix_probe(void);

/*
 * The tracker of PROCESS regions on the posix backend (lib/tracker.c):
 * probe for the helper (0 or -errno); register a file of SHMR_SHM_DIR that
 * this process created, by an fd of it, before its name is linked (starts
 * the tracker if needed; 0 or -errno); say that a name was unlinked.
 */
SHMR_HIDDEN int shmr__tracker_probe(void);
SHMR_HIDDEN int shmr__tracker_register(int fd, const char *fname);
SHMR_HIDDEN void shmr__tracker_unregister(const char *fname);

/* Select the backend once; returns it, or NULL and *err. */
SHMR_HIDDEN const struct shmr__backend *shmr__backend_get(int *err);

/* Registry (lib/registry.c) */
SHMR_HIDDEN void shmr__registry_add(struct shmr__node *n, int kind, const char *file, int line,
				    const void *caller);
SHMR_HIDDEN void shmr__registry_del(struct shmr__node *n);
/* Find and unlink the mapping at addr; NULL if none. */
SHMR_HIDDEN struct shmr__mapping *shmr__registry_take_mapping(void *addr);
SHMR_HIDDEN void shmr__registry_lock(void);
SHMR_HIDDEN void shmr__registry_unlock(void);
/* Walk the registry (locked by the caller), newest first. */
SHMR_HIDDEN struct shmr__node *shmr__registry_first(void);
SHMR_HIDDEN struct shmr__node *shmr__registry_next(struct shmr__node *n);
/* PID of the process when the registry was last forked (0 if never). */
SHMR_HIDDEN bool shmr__node_inherited(const struct shmr__node *n);
/* Describe where a node was made. */
SHMR_HIDDEN void shmr__node_where(const struct shmr__node *n, char *buf, size_t len);

/* Leak report at exit (lib/leak.c), armed from the registry constructor. */
SHMR_HIDDEN void shmr__leak_atexit(void);

/* Name checks shared by both backends. */
SHMR_HIDDEN int shmr__check_name(const char *name);

/*
 * The checks of shmr_region_create() (copy opts into o, zero-extended,
 * mode 0 made 0600) and shmr_region_open(), for the region calls and for
 * batches alike: 0 or the errno.
 */
SHMR_HIDDEN int shmr__opts_check(const struct shmr__backend *b,
				 const struct shmr_region_opts *in, struct shmr_region_opts *o);
SHMR_HIDDEN int shmr__open_check(const char *name, unsigned int flags);

/*
 * A handle not yet backed by an fd (fd -1; SHMR__ANON added for an empty
 * or NULL name), and the registration of one that is.
 */
SHMR_HIDDEN struct shmr_region *shmr__region_alloc(const char *name, uint32_t flags);
SHMR_HIDDEN void shmr__region_track(struct shmr_region *r, const char *file, int line,
				    const void *caller);

#endif /* SHMR_REGION_H */
