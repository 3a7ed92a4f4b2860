/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmrctl tests shared by tests/host/region_shmrctl.c (posix backend) and
 * tests/vm/shmrctl.c (kernel backend): output, --json validity (checked
 * by a small JSON parser below: python may be missing), exit codes and
 * messages. Define EXPECT_KERNEL to 0 or 1 before including.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmr.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

/* ---- a strict JSON checker (RFC 8259 grammar) -------------------------- */

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *js_value(const char *p, int depth);

static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 5;
				continue;
			}
			if (!*p || !strchr("\"\\/bfnrt", *p))
				return NULL;
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *js_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

static const char *js_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = js_ws(p);
	if (*p == '{') {
		p = js_ws(p + 1);
		if (*p == '}')
			return p + 1;
		for (;;) {
			p = js_string(js_ws(p));
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p++ != ':')
				return NULL;
			p = js_value(p, depth + 1);
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p == '}')
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '[') {
		p = js_ws(p + 1);
		if (*p == ']')
			return p + 1;
		for (;;) {
			p = js_value(p, depth + 1);
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p == ']')
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return js_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return js_number(p);
}

static int json_valid(const char *s)
{
	const char *end = js_value(s, 0);

	return end && *js_ws(end) == '\0';
}

/* ---- running shmrctl ------------------------------------------------------ */

struct res {
	int status;
	char out[65536];
	char err[4096];
};

static char shmrctl_path[PATH_MAX];

static const char *shmrctl(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (shmrctl_path[0])
		return shmrctl_path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "shmrctl";
	exe[n] = '\0';
	/* <root>/tests/{host,vm}/X -> <root>/bin/shmrctl */
	snprintf(shmrctl_path, sizeof(shmrctl_path), "%s/bin/shmrctl",
		 dirname(dirname(dirname(exe))));
	return shmrctl_path;
}

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* run shmrctl with the NULL-terminated arguments */
static int run(struct res *r, ...)
{
	const char *argv[16] = { "shmrctl" };
	va_list ap;
	int i = 1;
	int ofd = memfd_create("out", 0), efd = memfd_create("err", 0), st;
	pid_t pid;

	va_start(ap, r);
	while (i < 15 && (argv[i] = va_arg(ap, const char *)))
		i++;
	va_end(ap);
	memset(r, 0, sizeof(*r));
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		setenv("SHMR_BACKEND", EXPECT_KERNEL ? "kernel" : "posix", 1);
		execv(shmrctl(), (char **)argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
	slurp(ofd, r->out, sizeof(r->out));
	slurp(efd, r->err, sizeof(r->err));
	return r->status;
}

#define RUN(r, ...) run(r, __VA_ARGS__, NULL)

static const char *tname(const char *tag)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 64, "ctl-%d-%s", (int)getpid(), tag);
	return b;
}

/* the line of out whose column col (0-based, whitespace-separated) is val */
static const char *row_with(const char *out, int col, const char *val)
{
	static char line[2048];
	const char *p = out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char copy[2048], *tok, *save;
		int c = 0;

		snprintf(copy, sizeof(copy), "%.*s", (int)len, p);
		snprintf(line, sizeof(line), "%s", copy);
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save), c++)
			if (c == col && !strcmp(tok, val))
				return line;
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

TEST(json_checker_itself)
{
	EXPECT_TRUE(json_valid("{\"a\": [1, -2.5e3, \"x\\\"\\u00e9\", true, null, {}]}"));
	EXPECT_FALSE(json_valid("{\"a\": [1,]}"));
	EXPECT_FALSE(json_valid("{\"a\" 1}"));
	EXPECT_FALSE(json_valid("{\"a\": \"x\ty\"}"));
	EXPECT_FALSE(json_valid("{} {}"));
	EXPECT_FALSE(json_valid("[01]"));
}

TEST(help_and_usage)
{
	struct res r;

	EXPECT_EQ(0, RUN(&r, "--help"));
	EXPECT_NE(NULL, strstr(r.out, "usage: shmrctl"));
	EXPECT_EQ(0, RUN(&r, "help"));
	EXPECT_EQ(2, run(&r, NULL));
	EXPECT_EQ(0, strncmp(r.err, "shmrctl: missing command", 24));
	EXPECT_EQ(2, RUN(&r, "frobnicate"));
	EXPECT_EQ(0, strncmp(r.err, "shmrctl: unknown command 'frobnicate'", 37));
	EXPECT_EQ(2, RUN(&r, "list", "--bogus"));
	EXPECT_EQ(2, RUN(&r, "list", "extra"));
	EXPECT_EQ(2, RUN(&r, "stat"));
	EXPECT_EQ(2, RUN(&r, "unlink"));
	EXPECT_EQ(2, RUN(&r, "who"));
	EXPECT_EQ(2, RUN(&r, "create", "x"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "12Q"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "0"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--mode", "999"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--bogus"));
	EXPECT_STREQ("", r.out);
}

TEST(create_list_stat_unlink)
{
	const char *name = tname("cycle");
	char want[256], id[32];
	const char *row, *hdr;
	struct res r;

	ASSERT_EQ(0, RUN(&r, "create", name, "10K", "--mode", "640", "--excl"));
	EXPECT_STREQ("", r.err);
	EXPECT_EQ(1, RUN(&r, "create", name, "1", "--excl"));
	snprintf(want, sizeof(want), "shmrctl: create %s: File exists\n", name);
	EXPECT_STREQ(want, r.err);
	EXPECT_EQ(0, RUN(&r, "create", name, "4096"));	/* create-or-open */
	EXPECT_EQ(1, RUN(&r, "create", "a/b", "1"));
	EXPECT_NE(NULL, strstr(r.err, "shmrctl: create a/b: Invalid argument"));

	ASSERT_EQ(0, RUN(&r, "list"));
	hdr = r.out;
	EXPECT_EQ(0, strncmp(strstr(hdr, "ID"), "ID  NAME", 8)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(hdr, "SIZE  MODE  UID  HANDLES  MAPS  ATTACHED  FLAGS\n"));
	row = row_with(r.out, 1, name);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(row, " 12288  0640 "));
	/* aligned: the NAME column starts at the same offset in header and row */
	EXPECT_EQ(strstr(hdr, "NAME") - hdr, strstr(row, name) - row);
	if (!EXPECT_KERNEL)
		EXPECT_NE(NULL, strstr(row, " -  -"));
	sscanf(row, "%31s", id);

	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"name\": \"%s\", \"size\": 12288, \"mode\": \"0640\"", name);
	EXPECT_NE(NULL, strstr(r.out, want));
	EXPECT_NE(NULL, strstr(r.out, EXPECT_KERNEL ? "\"backend\": \"kernel\"" :
			       "\"backend\": \"posix\""));

	ASSERT_EQ(0, RUN(&r, "stat", name));
	EXPECT_NE(NULL, strstr(r.out, "size:        12288\n"));
	EXPECT_NE(NULL, strstr(r.out, "mode:        0640\n"));
	snprintf(want, sizeof(want), "id:          %s\n", id);
	EXPECT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(0, RUN(&r, "stat", id));	/* by id */
	snprintf(want, sizeof(want), "name:        %s\n", name);
	EXPECT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(0, RUN(&r, "stat", name, "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);

	ASSERT_EQ(0, RUN(&r, "unlink", name));
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(3, RUN(&r, "unlink", name));
	snprintf(want, sizeof(want), "shmrctl: unlink %s: No such region\n", name);
	EXPECT_STREQ(want, r.err);
	EXPECT_EQ(3, RUN(&r, "stat", name));
	snprintf(want, sizeof(want), "shmrctl: stat %s: No such region\n", name);
	EXPECT_STREQ(want, r.err);
	EXPECT_EQ(3, RUN(&r, "stat", "999999999"));
	ASSERT_EQ(0, RUN(&r, "list"));
	EXPECT_EQ(NULL, row_with(r.out, 1, name));
}

TEST(json_escapes_odd_names)
{
	char name[64];
	struct res r;

	snprintf(name, sizeof(name), "ctl-%d q\"b\\s\001", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "create", name, "1"));
	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, " q\\\"b\\\\s\\u0001\""));
	ASSERT_EQ(0, RUN(&r, "list"));
	EXPECT_NE(NULL, strstr(r.out, "\\x20q\"b\\x5cs\\x01 "));
	EXPECT_EQ(0, RUN(&r, "unlink", name));
}

TEST(backend_command)
{
	struct res r;

	ASSERT_EQ(0, RUN(&r, "backend"));
	EXPECT_NE(NULL, strstr(r.out, EXPECT_KERNEL ? "backend: kernel\n" : "backend: posix\n"));
	if (!EXPECT_KERNEL)
		EXPECT_NE(NULL, strstr(r.out, "missing: attach process huge seal events exits"));
}
