// SPDX-License-Identifier: GPL-2.0
/*
 * shmr-demo: the small programs examples/demo/demo.sh runs in the VM.
 *
 *   shmr-demo writer NAME SECONDS   create NAME (process-lifetime), write a
 *                                   greeting, stay attached SECONDS
 *   shmr-demo reader NAME SECONDS   open NAME, print the greeting, stay SECONDS
 *   shmr-demo leaker NAME           create and map NAME, lock a mutex in it,
 *                                   exit without releasing anything
 *   shmr-demo worker NAME           open and map NAME, lock nothing, wait to be killed
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmr.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "shmr-demo: %s: %s\n", what, strerror(-err));
	return 1;
}

static int writer(const char *name, int secs)
{
	struct shmr_region_opts o = SHMR_REGION_OPTS(.name = name, .size = 1 << 20, .mode = 0644,
						       .flags = SHMR_REGION_EXCL | SHMR_REGION_PROCESS);
	struct shmr_region *r;
	char *p;
	int err;

	err = shmr_region_create(&o, &r);
	if (err)
		return die("create", err);
	err = shmr_region_map(r, (void **)&p);
	if (err)
		return die("map", err);
	snprintf(p, 4096, "hello from writer pid %d", (int)getpid());
	printf("writer %d: wrote \"%s\" into %s\n", (int)getpid(), p, name);
	fflush(stdout);
	sleep(secs);
	shmr_region_unmap(p);
	shmr_region_close(r);
	printf("writer %d: done (its exit unlinks %s)\n", (int)getpid(), name);
	return 0;
}

static int reader(const char *name, int secs)
{
	struct shmr_region *r;
	char *p;
	int err, i;

	for (i = 0; i < 100; i++) {
		err = shmr_region_open(name, SHMR_REGION_RDONLY, &r);
		if (err != -ENOENT)
			break;
		usleep(50000);
	}
	if (err)
		return die("open", err);
	err = shmr_region_map(r, (void **)&p);
	if (err)
		return die("map", err);
	for (i = 0; i < 100 && !p[0]; i++)
		usleep(50000);
	printf("reader %d: read  \"%s\"\n", (int)getpid(), p);
	fflush(stdout);
	sleep(secs);
	shmr_region_unmap(p);
	shmr_region_close(r);
	printf("reader %d: done\n", (int)getpid());
	return 0;
}

static int leaker(const char *name)
{
	struct shmr_region *r;
	struct shmr_mutex *m;
	int err;

	err = shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 65536), &r);
	if (err)
		return die("create", err);
	err = shmr_region_map(r, (void **)&m);
	if (err)
		return die("map", err);
	err = shmr_mutex_init(m, 0);
	if (!err)
		err = shmr_mutex_lock(m);
	if (err)
		return die("mutex", err);
	shmr_region_unlink(name);	/* the demo cleans the name; the leak stays */
	printf("leaker %d: exiting with a handle, a mapping and a locked mutex\n", (int)getpid());
	fflush(stdout);
	return 0;
}

static int worker(const char *name)
{
	struct shmr_region *r;
	void *p;
	int err;

	err = shmr_region_open(name, 0, &r);
	if (err)
		return die("open", err);
	err = shmr_region_map(r, &p);
	if (err)
		return die("map", err);
	printf("worker %d: attached to %s\n", (int)getpid(), name);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "writer"))
		return writer(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "reader"))
		return reader(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "leaker"))
		return leaker(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "worker"))
		return worker(argv[2]);
	fprintf(stderr, "usage: shmr-demo writer|reader NAME SECONDS | leaker NAME | worker NAME\n");
	return 2;
}
