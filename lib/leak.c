// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The leak report: handles and mappings this process made and still holds,
 * and locks its threads still hold. Format documented in shmr.h and
 * shmr_leak_report(3).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "region.h"

/*
 * Until lib/lock*.c provides it: no locks known. The lock code's strong
 * definition replaces this one.
 */
__attribute__((weak)) void shmr__held_locks_foreach(shmr__held_lock_cb cb, void *arg)
{
	(void)cb;
	(void)arg;
}

static void put_name(FILE *f, const char *name)
{
	const unsigned char *p;

	if (!name[0]) {
		fputs("(anonymous)", f);
		return;
	}
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void count_lock(const struct shmr__held_lock *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
}

static void print_lock(const struct shmr__held_lock *h, void *arg)
{
	FILE *f = arg;

	fprintf(f, "shmr-leak: lock kind=%s addr=%p tid=%d where=", h->kind ? h->kind : "?",
		h->addr, (int)h->tid);
	if (h->file)
		fprintf(f, "%s:%d\n", h->file, h->line);
	else
		fputs("?\n", f);
}

/* Registry locked by the caller. */
static int count_own(void)
{
	struct shmr__node *n;
	int count = 0;

	for (n = shmr__registry_first(); n; n = shmr__registry_next(n))
		if (!shmr__node_inherited(n))
			count++;
	return count;
}

SHMR_API int shmr_leak_count(void)
{
	int count, locks = 0;

	shmr__registry_lock();
	count = count_own();
	shmr__registry_unlock();
	shmr__held_locks_foreach(count_lock, &locks);
	return count + locks;
}

static int comm_of(char *buf, size_t len)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

SHMR_API int shmr_leak_report(FILE *f)
{
	struct shmr__node *n;
	char where[256], comm[32];
	int count, locks = 0;

	if (!f)
		return -EINVAL;
	shmr__held_locks_foreach(count_lock, &locks);
	shmr__registry_lock();
	count = count_own() + locks;
	if (!count) {
		shmr__registry_unlock();
		return 0;
	}
	if (comm_of(comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	flockfile(f);
	fprintf(f, "shmr-leak: pid=%d comm=", (int)getpid());
	put_name(f, comm);
	fprintf(f, " leaks=%d\n", count);
	for (n = shmr__registry_first(); n; n = shmr__registry_next(n)) {
		if (shmr__node_inherited(n))
			continue;
		shmr__node_where(n, where, sizeof(where));
		if (n->kind == SHMR_TRACKED_HANDLE) {
			const struct shmr_region *r = (const struct shmr_region *)n;

			fputs("shmr-leak: handle name=", f);
			put_name(f, r->name);
			fprintf(f, " size=%llu fd=%d id=%llu where=%s\n",
				(unsigned long long)r->size, r->fd, (unsigned long long)r->id, where);
		} else {
			const struct shmr__mapping *m = (const struct shmr__mapping *)n;

			fputs("shmr-leak: mapping name=", f);
			put_name(f, m->name);
			fprintf(f, " size=%llu addr=%p id=%llu where=%s\n",
				(unsigned long long)m->size, m->addr, (unsigned long long)m->id, where);
		}
	}
	shmr__registry_unlock();
	shmr__held_locks_foreach(print_lock, f);
	funlockfile(f);
	fflush(f);
	return count;
}

void shmr__leak_atexit(void)
{
	const char *mode = getenv("SHMR_LEAK");
	/* a set-user-ID program must not append where its caller says */
	const char *path = secure_getenv("SHMR_LEAK_FILE");
	FILE *f = stderr;
	int fatal = 0, count;

	if (mode && !strcmp(mode, "off"))
		return;
	if (mode && !strcmp(mode, "fatal"))
		fatal = 1;
	if (!shmr_leak_count())
		return;
	if (path && *path) {
		f = fopen(path, "ae");
		if (!f)
			f = stderr;
	}
	count = shmr_leak_report(f);
	if (f != stderr)
		fclose(f);
	if (fatal && count > 0) {
		fflush(NULL);
		_exit(SHMR_LEAK_EXIT_CODE);
	}
}
