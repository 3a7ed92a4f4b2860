// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The lifetime registry: every region handle and mapping this process holds,
 * with where it was made. One mutex-protected doubly linked list, newest
 * first; entries are embedded in the handle/mapping structs, so tracking
 * costs a lock, four pointer writes and an unlock per create/map.
 *
 * fork(): the prepare handler takes the mutex so the child inherits a
 * consistent list, the child re-initialises it and records its new pid:
 * entries made by another pid are "inherited" (the fds and MAP_SHARED
 * mappings really exist in the child).
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "region.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shmr__node reg_head = { &reg_head, &reg_head, 0, 0, NULL, 0, NULL };
static pid_t reg_pid;

void shmr__registry_lock(void)
{
	pthread_mutex_lock(&reg_lock);
}

void shmr__registry_unlock(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_child(void)
{
	pthread_mutex_init(&reg_lock, NULL);
	reg_pid = getpid();
}

__attribute__((constructor)) static void registry_init(void)
{
	reg_pid = getpid();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	atexit(shmr__leak_atexit);
}

void shmr__registry_add(struct shmr__node *n, int kind, const char *file, int line,
			const void *caller)
{
	n->kind = kind;
	n->file = file;
	n->line = line;
	n->caller = caller;
	pthread_mutex_lock(&reg_lock);
	n->pid = reg_pid;
	n->prev = &reg_head;
	n->next = reg_head.next;
	reg_head.next->prev = n;
	reg_head.next = n;
	pthread_mutex_unlock(&reg_lock);
}

static void node_unlink(struct shmr__node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

void shmr__registry_del(struct shmr__node *n)
{
	pthread_mutex_lock(&reg_lock);
	node_unlink(n);
	pthread_mutex_unlock(&reg_lock);
}

struct shmr__mapping *shmr__registry_take_mapping(void *addr)
{
	struct shmr__node *n;
	struct shmr__mapping *m = NULL;

	pthread_mutex_lock(&reg_lock);
	for (n = reg_head.next; n != &reg_head; n = n->next) {
		if (n->kind == SHMR_TRACKED_MAPPING &&
		    ((struct shmr__mapping *)n)->addr == addr) {
			m = (struct shmr__mapping *)n;
			node_unlink(n);
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return m;
}

struct shmr__node *shmr__registry_first(void)
{
	return reg_head.next == &reg_head ? NULL : reg_head.next;
}

struct shmr__node *shmr__registry_next(struct shmr__node *n)
{
	return n->next == &reg_head ? NULL : n->next;
}

bool shmr__node_inherited(const struct shmr__node *n)
{
	return n->pid != reg_pid;
}

void shmr__node_where(const struct shmr__node *n, char *buf, size_t len)
{
	Dl_info info;
	const char *obj;

	if (n->file) {
		snprintf(buf, len, "%s:%d", n->file, n->line);
		return;
	}
	if (!n->caller) {
		snprintf(buf, len, "?");
		return;
	}
	memset(&info, 0, sizeof(info));
	if (!dladdr(n->caller, &info) || !info.dli_fname) {
		snprintf(buf, len, "%p", n->caller);
		return;
	}
	obj = strrchr(info.dli_fname, '/');
	obj = obj ? obj + 1 : info.dli_fname;
	if (info.dli_sname && info.dli_saddr)
		snprintf(buf, len, "%s+0x%tx (%s)", info.dli_sname,
			 (const char *)n->caller - (const char *)info.dli_saddr, obj);
	else
		snprintf(buf, len, "%s+0x%tx", obj,
			 (const char *)n->caller - (const char *)info.dli_fbase);
}

static void fill_tracked(const struct shmr__node *n, struct shmr_tracked *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = n->kind;
	t->pid = n->pid;
	t->inherited = shmr__node_inherited(n);
	shmr__node_where(n, t->where, sizeof(t->where));
	if (n->kind == SHMR_TRACKED_HANDLE) {
		const struct shmr_region *r = (const struct shmr_region *)n;

		t->fd = r->fd;
		t->size = r->size;
		t->id = r->id;
		snprintf(t->name, sizeof(t->name), "%s", r->name);
	} else {
		const struct shmr__mapping *m = (const struct shmr__mapping *)n;

		t->fd = -1;
		t->addr = m->addr;
		t->size = m->size;
		t->id = m->id;
		snprintf(t->name, sizeof(t->name), "%s", m->name);
	}
}

SHMR_API int shmr_registry_list(struct shmr_tracked *out, size_t cap)
{
	struct shmr__node *n;
	size_t count = 0;

	if (!out && cap)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	for (n = reg_head.next; n != &reg_head; n = n->next) {
		if (count < cap)
			fill_tracked(n, &out[count]);
		count++;
	}
	pthread_mutex_unlock(&reg_lock);
	return count > INT32_MAX ? INT32_MAX : (int)count;
}
