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
	int (*unlink)(const char *name);
	int (*stat)(const struct shmr_region *r, struct shmr_region_stat *st);
	int (*stat_id)(uint64_t id, struct shmr_region_stat *st);
	int (*list)(struct shmr_region_stat *out, size_t cap);
	/* fill r->size, id, name and flags of a received fd; name is the sender's */
	int (*adopt)(struct shmr_region *r);
	int (*who)(const struct shmr_region *r, uint64_t id, struct shmr_attach *out, size_t cap);
	int (*seal)(struct shmr_region *r);
	int (*events)(struct shmr_region *r, uint32_t *events);
	int (*exits)(struct shmr_exit *out, size_t cap, uint32_t flags);
};

SHMR_HIDDEN extern const struct shmr__backend shmr__backend_posix;
SHMR_HIDDEN extern struct shmr__backend shmr__backend_kernel;	/* features set by the probe */

/* The kernel backend's control fd (opened by shmr__kernel_probe). */
SHMR_HIDDEN int shmr__kernel_probe(void);
/* That fd, moved to the calling thread's IPC namespace first if needed. */
SHMR_HIDDEN int shmr__kernel_ctl(void);

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

#endif /* SHMR_REGION_H */
