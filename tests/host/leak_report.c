// SPDX-License-Identifier: GPL-2.0
/* The leak report at exit under each SHMR_LEAK setting, SHMR_LEAK_FILE, and on demand. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmr.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

struct run {
	int status;	/* exit status, or 1000 + signal */
	pid_t pid;
	char out[8192];	/* the child's stderr */
};

static char leak_name[64];
/* set by the leaking child, read by the test: shared memory */
static int *leak_lines;
#define leak_line_create leak_lines[0]
#define leak_line_map leak_lines[1]

__attribute__((constructor)) static void setup_lines(void)
{
	leak_lines = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (leak_lines == MAP_FAILED)
		abort();
}

/* A child leaking a named region (handle and mapping) and an anonymous one. */
static void leak_some(void)
{
	struct shmr_region *r, *a;
	void *p;

	snprintf(leak_name, sizeof(leak_name), "leak-%d", (int)getpid());
	leak_line_create = __LINE__ + 1;
	if (shmr_region_create(&SHMR_REGION_OPTS(.name = leak_name, .size = 8192), &r))
		_exit(20);
	leak_line_map = __LINE__ + 1;
	if (shmr_region_map(r, &p))
		_exit(21);
	shmr_region_unlink(leak_name);	/* keep the system clean; the handle still leaks */
	if (shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &a))
		_exit(22);
}

static void leak_nothing(void)
{
	struct shmr_region *r;
	void *p;

	if (shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r) || shmr_region_map(r, &p))
		_exit(20);
	shmr_region_unmap(p);
	shmr_region_close(r);
}

static void run_child(struct run *run, const char *leak, const char *file, void (*fn)(void))
{
	int pfd[2];
	size_t len = 0;
	ssize_t n;

	memset(run, 0, sizeof(*run));
	if (pipe(pfd))
		abort();
	run->pid = fork();
	if (run->pid < 0)
		abort();
	if (run->pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		if (leak)
			setenv("SHMR_LEAK", leak, 1);
		else
			unsetenv("SHMR_LEAK");
		if (file)
			setenv("SHMR_LEAK_FILE", file, 1);
		else
			unsetenv("SHMR_LEAK_FILE");
		fn();
		exit(0);	/* runs the atexit report */
	}
	close(pfd[1]);
	while ((n = read(pfd[0], run->out + len, sizeof(run->out) - 1 - len)) > 0)
		len += n;
	run->out[len] = '\0';
	close(pfd[0]);
	if (waitpid(run->pid, &run->status, 0) != run->pid)
		abort();
	run->status = WIFSIGNALED(run->status) ? 1000 + WTERMSIG(run->status) :
		WEXITSTATUS(run->status);
}

static int count_lines(const char *s, const char *prefix)
{
	int n = 0;
	size_t l = strlen(prefix);

	for (; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (!strncmp(s, prefix, l))
			n++;
	return n;
}

/* check the report of leak_some() by child pid */
static void check_report(struct __test_metadata *_metadata, const char *out, pid_t pid)
{
	char want[256];

	snprintf(want, sizeof(want), "shmr-leak: pid=%d comm=leak_report leaks=3\n", (int)pid);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("report:\n%s", out);
	EXPECT_EQ(0, strncmp(out, want, strlen(want)));	/* summary first */
	snprintf(want, sizeof(want), "shmr-leak: handle name=leak-%d size=8192 fd=", (int)pid);
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want), "where=%s:%d\n", __FILE__, leak_line_create);
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want), "shmr-leak: mapping name=leak-%d size=8192 addr=0x", (int)pid);
	EXPECT_NE(NULL, strstr(out, want));
	snprintf(want, sizeof(want), "where=%s:%d\n", __FILE__, leak_line_map);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, "shmr-leak: handle name=(anonymous) size=4096 fd="));
	EXPECT_EQ(4, count_lines(out, "shmr-leak: "));
	EXPECT_EQ(count_lines(out, ""), count_lines(out, "shmr-leak: "));
}

TEST(default_is_warn)
{
	struct run r;

	run_child(&r, NULL, NULL, leak_some);
	EXPECT_EQ(0, r.status);
	check_report(_metadata, r.out, r.pid);
}

TEST(warn)
{
	struct run r;

	run_child(&r, "warn", NULL, leak_some);
	EXPECT_EQ(0, r.status);
	check_report(_metadata, r.out, r.pid);
}

TEST(off)
{
	struct run r;

	run_child(&r, "off", NULL, leak_some);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.out);
}

TEST(fatal)
{
	struct run r;

	run_child(&r, "fatal", NULL, leak_some);
	EXPECT_EQ(SHMR_LEAK_EXIT_CODE, r.status);
	check_report(_metadata, r.out, r.pid);
}

TEST(fatal_without_leaks_exits_zero)
{
	struct run r;

	run_child(&r, "fatal", NULL, leak_nothing);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.out);
}

TEST(leak_file_appends)
{
	char path[] = "/tmp/shmr-leak-XXXXXX", buf[8192];
	struct run r1, r2;
	ssize_t n;
	int fd;

	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(4, write(fd, "old\n", 4));
	run_child(&r1, NULL, path, leak_some);
	run_child(&r2, "fatal", path, leak_some);
	EXPECT_EQ(0, r1.status);
	EXPECT_EQ(SHMR_LEAK_EXIT_CODE, r2.status);
	EXPECT_STREQ("", r1.out);
	EXPECT_STREQ("", r2.out);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	EXPECT_EQ(0, strncmp(buf, "old\n", 4));
	EXPECT_EQ(2, count_lines(buf, "shmr-leak: pid="));
	{
		char *first = strstr(buf, "shmr-leak: pid=");
		char *second = strstr(first + 1, "shmr-leak: pid=");

		ASSERT_NE(NULL, second);
		check_report(_metadata, second, r2.pid);
		*second = '\0';
		check_report(_metadata, first, r1.pid);
	}
	EXPECT_NE(NULL, strstr(buf, "leaks=3\n"));
}

TEST(leak_file_unwritable_falls_back_to_stderr)
{
	struct run r;

	run_child(&r, "warn", "/nonexistent-dir/leaks.txt", leak_some);
	EXPECT_EQ(0, r.status);
	check_report(_metadata, r.out, r.pid);
}

static void leak_escaped(void)
{
	struct shmr_region *r;

	if (shmr_region_create(&SHMR_REGION_OPTS(.name = "sp ace\\x", .size = 4096), &r))
		_exit(20);
	shmr_region_unlink("sp ace\\x");
}

TEST(name_escaped)
{
	struct run r;

	run_child(&r, NULL, NULL, leak_escaped);
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "shmr-leak: handle name=sp\\x20ace\\x5cx size=4096 "))
		TH_LOG("report:\n%s", r.out);
}

static void leak_untracked_caller(void)
{
	struct shmr_region *r;

	/* the function, not the macro: the caller's address is recorded */
	if ((shmr_region_create)(&SHMR_REGION_OPTS(.size = 4096), &r))
		_exit(20);
}

TEST(where_without_macros)
{
	struct run r;
	char *w;

	run_child(&r, NULL, NULL, leak_untracked_caller);
	EXPECT_EQ(0, r.status);
	w = strstr(r.out, "where=");
	ASSERT_NE(NULL, w) TH_LOG("report:\n%s", r.out);
	EXPECT_EQ(NULL, strstr(w, ".c:"));
	EXPECT_NE('?', w[6]);
	EXPECT_NE('\n', w[6]);
}

static void leak_in_parent_not_child(void)
{
	struct shmr_region *r;
	void *p;
	pid_t pid;
	int st;

	if (shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &r) || shmr_region_map(r, &p))
		_exit(20);
	pid = fork();
	if (pid == 0)
		exit(0);	/* inherited only: the child reports nothing */
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		_exit(21);
	shmr_region_unmap(p);
	shmr_region_close(r);
}

TEST(fork_inherited_not_reported)
{
	struct run r;

	run_child(&r, "fatal", NULL, leak_in_parent_not_child);
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.out);
}

TEST(on_demand)
{
	struct shmr_region *a;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	void *p;

	EXPECT_EQ(-EINVAL, shmr_leak_report(NULL));
	f = open_memstream(&buf, &len);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, shmr_leak_report(f));
	fflush(f);
	EXPECT_EQ(0UL, len);
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 4096), &a));
	ASSERT_EQ(0, shmr_region_map(a, &p));
	EXPECT_EQ(2, shmr_leak_count());
	EXPECT_EQ(2, shmr_leak_report(f));
	fclose(f);
	EXPECT_EQ(3, count_lines(buf, "shmr-leak: "));
	EXPECT_NE(NULL, strstr(buf, " leaks=2\n"));
	EXPECT_NE(NULL, strstr(buf, "shmr-leak: mapping name=(anonymous) size=4096 addr="));
	free(buf);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(a));
	EXPECT_EQ(0, shmr_leak_count());
}

/* ---- a set-user-ID program never writes where its caller says ------------ */

/* copy src to dst with mode */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			ret = -1;
	if (n < 0)
		ret = -1;
	close(in);
	close(out);
	return ret;
}

/* run prog leaker NAME with SHMR_LEAK_FILE=file; its exit status, stderr in err */
static int run_leaker(const char *prog, const char *name, const char *file, char *err,
		      size_t len)
{
	int efd = memfd_create("err", 0), st;
	ssize_t n;
	pid_t pid;

	if (efd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(efd, 2);
		setenv("SHMR_LEAK", "warn", 1);
		setenv("SHMR_LEAK_FILE", file, 1);
		execl(prog, "shmr-demo", "leaker", name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		close(efd);
		return -1;
	}
	n = pread(efd, err, len - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(efd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

/*
 * SHMR_LEAK_FILE is read with secure_getenv(): a set-user-ID program does
 * not append its report to a path its caller chose (it writes to stderr).
 * The program is examples/demo's shmr-demo (build/bin), copied and
 * made set-user-ID nobody, run by root; a plain copy is the control.
 */
TEST(leak_file_ignored_when_setuid)
{
	char exe[PATH_MAX], demo[PATH_MAX], dir[] = "/tmp/shmr-suid-XXXXXX";
	char plain[PATH_MAX + 16], suid[PATH_MAX + 16], report[PATH_MAX + 16], err[8192];
	char name[64];
	struct statvfs vfs;
	struct stat st;
	ssize_t n;

	if (geteuid() != 0)
		SKIP(return, "needs root to make a set-user-ID copy owned by nobody");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = '\0';
	/* <root>/tests/host/leak_report -> <root>/bin/shmr-demo */
	snprintf(demo, sizeof(demo), "%s/bin/shmr-demo", dirname(dirname(dirname(exe))));
	if (access(demo, X_OK))
		SKIP(return, "no bin/shmr-demo beside the tests");
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, statvfs(dir, &vfs));
	if (vfs.f_flag & ST_NOSUID) {
		rmdir(dir);
		SKIP(return, "/tmp is mounted nosuid");
	}
	ASSERT_EQ(0, chmod(dir, 01777));	/* nobody could write the report there */
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(suid, sizeof(suid), "%s/suid", dir);
	snprintf(report, sizeof(report), "%s/report", dir);
	ASSERT_EQ(0, copy_file(demo, plain, 0755));
	ASSERT_EQ(0, copy_file(demo, suid, 0755));
	ASSERT_EQ(0, chown(suid, 65534, 65534));
	ASSERT_EQ(0, chmod(suid, 04755));

	/* the control: a plain program appends to the file */
	snprintf(name, sizeof(name), "suid-plain-%d", (int)getpid());
	EXPECT_EQ(0, run_leaker(plain, name, report, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(NULL, strstr(err, "shmr-leak:")) TH_LOG("%s", err);
	EXPECT_EQ(0, stat(report, &st));
	EXPECT_GT(st.st_size, 0);
	shmr_region_unlink(name);
	unlink(report);

	/* set-user-ID: the report goes to stderr, the file is never made */
	snprintf(name, sizeof(name), "suid-nobody-%d", (int)getpid());
	EXPECT_EQ(0, run_leaker(suid, name, report, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "shmr-leak: pid=")) TH_LOG("%s", err);
	EXPECT_NE(0, access(report, F_OK));
	shmr_region_unlink(name);

	unlink(report);
	unlink(plain);
	unlink(suid);
	rmdir(dir);
}

TEST_HARNESS_MAIN
