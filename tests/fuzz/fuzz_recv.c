// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: shmr_region_recv() against whatever a peer sends over a Unix
 * socket: any bytes, with no fd, a memfd (read-write or read-only, any
 * size), /dev/null, a pipe, or two fds. A message is refused with -EBADMSG
 * and leaves no fd behind, or becomes a handle whose size is the fd's real
 * size (never the size the peer claimed), that maps and touches without
 * SIGBUS and closes cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmr.h"

#define FUZZ_NAME "fuzz_recv"
#include "fuzz.h"

#define MSG_MAX 1024

static int sv[2] = { -1, -1 };


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	setenv("SHMR_BACKEND", "posix", 1);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	return 0;
}

static int lowest_free_fd(void)
{
	int fd = dup(0);

	CHECK(fd >= 0);
	close(fd);
	return fd;
}

static int new_memfd(off_t size, int rdonly)
{
	char path[64];
	int fd = memfd_create("fuzz", MFD_CLOEXEC), ro;

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, size) == 0);
	if (!rdonly)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0);
	close(fd);
	return ro;
}

/* The fds attached to the message, chosen by the selector byte. */
static int make_fds(uint8_t sel, int *fds)
{
	off_t pages = sel >> 4;		/* 0..15 pages */
	int p[2];

	switch (sel & 7) {
	case 0:
		return 0;
	case 1:
		fds[0] = new_memfd(pages * 4096, 0);
		return 1;
	case 2:
		fds[0] = new_memfd(pages * 4096 + 1, 1);
		return 1;
	case 3:
		fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
		CHECK(fds[0] >= 0);
		return 1;
	case 4:
		CHECK(pipe2(p, O_CLOEXEC) == 0);
		close(p[1]);
		fds[0] = p[0];
		return 1;
	case 5:
		fds[0] = new_memfd(4096, 0);
		fds[1] = new_memfd(8192, 0);
		return 2;
	default:
		fds[0] = new_memfd(pages * 4096, 0);
		return 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} u;
	unsigned char msg[MSG_MAX];
	struct iovec iov = { msg, 0 };
	struct msghdr mh;
	struct cmsghdr *c;
	struct shmr_region *r = NULL;
	struct shmr_region_stat st;
	struct stat fst;
	int fds[2], nfd, before, err, i;
	uint8_t sel;

	if (len < 1)
		return 0;
	sel = data[0];
	data++;
	len--;
	if (len > MSG_MAX)
		len = MSG_MAX;
	memcpy(msg, data, len);
	/* Half the inputs get a valid header, so the fuzzer gets past it. */
	if ((sel & 8) && len >= 8) {
		uint32_t magic = 0x53484d52u, version = 1;

		memcpy(msg, &magic, 4);
		memcpy(msg + 4, &version, 4);
	}
	iov.iov_len = len;

	before = lowest_free_fd();
	nfd = make_fds(sel, fds);
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfd) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfd);
	}
	CHECK(sendmsg(sv[0], &mh, 0) == (ssize_t)len);
	for (i = 0; i < nfd; i++)
		close(fds[i]);

	err = shmr_region_recv(sv[1], 0, &r);
	if (err) {
		CHECK(r == NULL);
		CHECK(err == -EBADMSG || err == -ECONNRESET);
		CHECK(lowest_free_fd() == before);
		refused++;
		return 0;
	}
	accepted++;
	CHECK(r != NULL);
	CHECK(fstat(shmr_region_fd(r), &fst) == 0);
	CHECK(S_ISREG(fst.st_mode));
	CHECK(shmr_region_size(r) == (uint64_t)fst.st_size);
	CHECK(shmr_region_stat(r, &st) == 0);
	CHECK(st.size == (uint64_t)fst.st_size);
	if (st.size) {
		void *addr;
		volatile unsigned char *p;

		err = shmr_region_map(r, &addr);
		CHECK(err == 0);
		p = addr;
		(void)p[0];
		(void)p[st.size - 1];
		if ((fcntl(shmr_region_fd(r), F_GETFL) & O_ACCMODE) == O_RDWR)
			p[0] = 1;
		CHECK(shmr_region_unmap(addr) == 0);
	}
	CHECK(shmr_region_close(r) == 0);
	CHECK(lowest_free_fd() == before);
	return 0;
}
