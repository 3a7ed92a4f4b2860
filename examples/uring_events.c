// SPDX-License-Identifier: GPL-2.0
/*
 * uring_events: wait for region lifetime events inside an io_uring loop.
 *
 * The supervisor creates a named region and waits on its handle through a
 * batch (IORING_OP_POLL_ADD on the region fd linked to the EVENTS command,
 * so one submit sleeps until something happens and then reads and clears
 * the events). Two peers open the region: the first is killed with
 * SIGKILL, the second unlinks the name and exits. The supervisor prints
 * every event as it arrives and stops once the region is unlinked.
 *
 *   tests/run/shmr-vm --add build/examples/uring_events -- /host/uring_events
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmr.h"

static const char *transport_name(int t)
{
	return t == SHMR_BATCH_RING ? "io_uring" : t == SHMR_BATCH_IOCTL ? "ioctl fallback" :
		"posix fallback";
}

static void print_events(uint32_t ev)
{
	printf("supervisor: events:%s%s%s%s\n",
	       (ev & SHMR_EVENT_UNLINKED) ? " UNLINKED" : "",
	       (ev & SHMR_EVENT_DETACHED) ? " DETACHED" : "",
	       (ev & SHMR_EVENT_PEER_DIED) ? " PEER_DIED" : "",
	       (ev & SHMR_EVENT_SEALED) ? " SEALED" : "");
	fflush(stdout);
}

/* A peer: open the region, say so on the pipe, then die or unlink. */
static pid_t start_peer(const char *name, int unlink_it, int ready_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct shmr_region *r;
		int err = shmr_region_open(name, 0, &r);

		if (err) {
			fprintf(stderr, "peer: open: %s\n", strerror(-err));
			_exit(1);
		}
		printf("peer %d: opened %s\n", (int)getpid(), name);
		fflush(stdout);
		if (write(ready_fd, "r", 1) != 1)
			_exit(1);
		if (!unlink_it)
			pause();	/* until killed */
		err = shmr_region_unlink(name);
		printf("peer %d: unlink: %s\n", (int)getpid(), err ? strerror(-err) : "done");
		shmr_region_close(r);
		_exit(err ? 1 : 0);
	}
	return pid;
}

int main(void)
{
	struct shmr_region *r;
	struct shmr_batch *b;
	int p[2], err, st;
	char name[64], c;
	uint32_t ev;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(name, sizeof(name), "uring-events-%d", (int)getpid());
	err = shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096,
						   .flags = SHMR_REGION_EXCL), &r);
	if (!err)
		err = shmr_batch_new(4, 0, &b);
	if (err) {
		fprintf(stderr, "uring_events: %s\n", strerror(-err));
		return 1;
	}
	printf("supervisor: region %s, waiting through %s\n", name,
	       transport_name(shmr_batch_transport(b)));
	if (pipe(p))
		return 1;

	/* peer 1 opens and is killed */
	pid = start_peer(name, 0, p[1]);
	if (read(p[0], &c, 1) != 1)
		return 1;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("supervisor: killed peer %d\n", (int)pid);

	/* peer 2 opens and unlinks */
	pid = start_peer(name, 1, p[1]);

	/* the loop: one wait per submit until the name is gone */
	for (;;) {
		shmr_batch_wait_events(b, r, &ev);
		err = shmr_batch_submit(b);
		if (err < 0 || (err = shmr_batch_result(b, 0)) < 0) {
			fprintf(stderr, "uring_events: wait: %s\n", strerror(-err));
			return 1;
		}
		print_events(ev);
		if (ev & SHMR_EVENT_UNLINKED)
			break;
	}
	waitpid(pid, &st, 0);
	shmr_batch_free(b);
	shmr_region_close(r);
	printf("supervisor: done\n");
	return 0;
}
