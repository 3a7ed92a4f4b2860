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
#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
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
/* LC_ALL for the next run()s, NULL: the caller's environment */
static const char *run_lc_all;

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
	argv[i] = NULL;
	va_end(ap);
	memset(r, 0, sizeof(*r));
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		setenv("SHMR_BACKEND", EXPECT_KERNEL ? "kernel" : "posix", 1);
		if (run_lc_all)
			setenv("LC_ALL", run_lc_all, 1);
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

/* one message: "shmrctl: ...\nTry 'shmrctl --help'.\n", nothing on stdout */
static int one_usage_message(const struct res *r)
{
	const char *nl = strchr(r->err, '\n');

	return r->status == 2 && !r->out[0] && !strncmp(r->err, "shmrctl: ", 9) && nl &&
	       !strcmp(nl + 1, "Try 'shmrctl --help'.\n");
}

TEST(help_and_usage)
{
	struct res r;

	EXPECT_EQ(0, RUN(&r, "--help"));
	EXPECT_NE(NULL, strstr(r.out, "usage: shmrctl"));
	EXPECT_EQ(0, RUN(&r, "help"));
	EXPECT_NE(NULL, strstr(r.out, "usage: shmrctl"));
	EXPECT_EQ(0, RUN(&r, "-h"));	/* alone: the help people expect */
	EXPECT_NE(NULL, strstr(r.out, "usage: shmrctl"));
	EXPECT_EQ(2, run(&r, NULL));
	EXPECT_EQ(0, strncmp(r.err, "shmrctl: missing command", 24));
	EXPECT_EQ(2, RUN(&r, "frobnicate"));
	EXPECT_EQ(0, strncmp(r.err, "shmrctl: unknown command 'frobnicate'", 37));
	EXPECT_EQ(2, RUN(&r, "list", "--bogus"));
	EXPECT_EQ(2, RUN(&r, "list", "extra"));
	EXPECT_EQ(2, RUN(&r, "stat"));
	EXPECT_EQ(2, RUN(&r, "unlink"));
	EXPECT_EQ(2, RUN(&r, "who"));
	EXPECT_EQ(2, RUN(&r, "--bogus", "list"));
	EXPECT_EQ(2, RUN(&r, "help", "extra"));
	EXPECT_EQ(2, RUN(&r, "backend", "--json"));
	EXPECT_EQ(2, RUN(&r, "create", "x"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "12Q"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "0"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--mode", "999"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--mode", "0"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--mode"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "--bogus"));
	EXPECT_EQ(2, RUN(&r, "create", "x", "1", "extra"));
	EXPECT_STREQ("", r.out);
}

TEST(version)
{
	struct res r;

	ASSERT_EQ(0, RUN(&r, "--version"));
	EXPECT_EQ(0, strncmp(r.out, "shmrctl ", 8)) TH_LOG("%s", r.out);
	EXPECT_TRUE(isdigit((unsigned char)r.out[8])) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strchr(r.out, '\n')[1] ? "more than one line" : NULL);
	EXPECT_STREQ("", r.err);
}

/* usage errors: exit 2 and exactly one message (getopt used to add its own) */
TEST(usage_errors_are_one_message)
{
	char longname[300];
	struct res r;

	RUN(&r, "create", "bad", "-5");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "bad size '-5'"));
	RUN(&r, "create", "", "4K");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "name is empty"));
	RUN(&r, "create", "a/b", "4K");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "'/'"));
	memset(longname, 'n', 256);
	longname[256] = '\0';
	RUN(&r, "create", longname, "4K");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "longer than 255 bytes"));
	RUN(&r, "create", "x", "-1", "--excl");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	RUN(&r, "create", "x", "1", "-q");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	EXPECT_NE(NULL, strstr(r.err, "unknown option '-q'"));
	RUN(&r, "list", "--bogus");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
	RUN(&r, "unlink", "-x");
	EXPECT_TRUE(one_usage_message(&r)) TH_LOG("%d [%s]", r.status, r.err);
}

TEST(create_list_stat_unlink)
{
	const char *name = tname("cycle");
	char want[256], id[32];
	const char *row, *hdr;
	struct res r;

	ASSERT_EQ(0, RUN(&r, "create", name, "10K", "--mode", "640", "--excl"));
	EXPECT_STREQ("", r.err);
	/* the id on stdout, as ipcmk prints it */
	ASSERT_EQ(1, sscanf(r.out, "%31[0-9]\n", id)) TH_LOG("[%s]", r.out);
	snprintf(want, sizeof(want), "%s\n", id);
	EXPECT_STREQ(want, r.out);
	EXPECT_EQ(1, RUN(&r, "create", name, "1", "--excl"));
	snprintf(want, sizeof(want), "shmrctl: create %s: File exists\n", name);
	EXPECT_STREQ(want, r.err);
	EXPECT_STREQ("", r.out);
	/* create-or-open of the same size and mode: the same region's id */
	EXPECT_EQ(0, RUN(&r, "create", name, "12K", "--mode", "0640"));
	snprintf(want, sizeof(want), "%s\n", id);
	EXPECT_STREQ(want, r.out);

	ASSERT_EQ(0, RUN(&r, "list"));
	hdr = r.out;
	EXPECT_EQ(0, strncmp(strstr(hdr, "ID"), "ID  NAME", 8)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(hdr, "SIZE  MODE  UID  HANDLES  MAPS  ATTACHED  FLAGS\n"));
	row = row_with(r.out, 1, name);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(row, " 12288  0640 "));
	EXPECT_EQ(0, strncmp(row + strspn(row, " "), id, strlen(id)));
	/* aligned: the NAME column starts at the same offset in header and row */
	EXPECT_EQ(strstr(hdr, "NAME") - hdr, strstr(row, name) - row);
	if (!EXPECT_KERNEL)
		EXPECT_NE(NULL, strstr(row, " -  -"));

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

TEST(create_json_and_dashdash)
{
	char name[64], want[128];
	struct res r;

	ASSERT_EQ(0, RUN(&r, "create", tname("cj"), "3M", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"name\": \"%s\", \"size\": 3145728, \"mode\": \"0600\"",
		 tname("cj"));
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, RUN(&r, "unlink", tname("cj")));
	/* a name that starts with '-' after "--" */
	snprintf(name, sizeof(name), "-ctl-%d", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "create", "--", name, "1"));
	EXPECT_EQ(0, RUN(&r, "stat", "--", name));
	EXPECT_EQ(0, RUN(&r, "unlink", "--", name));
	EXPECT_EQ(3, RUN(&r, "stat", "--", name));
}

/* create-or-open of an existing name with another size or mode says so */
TEST(create_existing_with_other_size_or_mode)
{
	const char *name = tname("other");
	char want[256];
	struct res r;

	ASSERT_EQ(0, RUN(&r, "create", name, "8K", "--mode", "0640"));
	/* larger than the region: the library refuses, shmrctl says why */
	EXPECT_EQ(1, RUN(&r, "create", name, "16K"));
	snprintf(want, sizeof(want), "shmrctl: create %s: exists with size 8192, smaller than 16384\n",
		 name);
	EXPECT_STREQ(want, r.err);
	EXPECT_STREQ("", r.out);
	/* smaller: the library would open it; not what was asked */
	EXPECT_EQ(1, RUN(&r, "create", name, "4K"));
	snprintf(want, sizeof(want), "shmrctl: create %s: exists with size 8192, not 4096\n", name);
	EXPECT_STREQ(want, r.err);
	/* another mode, given explicitly */
	EXPECT_EQ(1, RUN(&r, "create", name, "8K", "--mode", "600"));
	snprintf(want, sizeof(want), "shmrctl: create %s: exists with mode 0640, not 0600\n", name);
	EXPECT_STREQ(want, r.err);
	/* no --mode: the mode is not compared; a size that rounds to the same pages is fine */
	EXPECT_EQ(0, RUN(&r, "create", name, "7000"));
	EXPECT_EQ(0, RUN(&r, "stat", name));
	EXPECT_NE(NULL, strstr(r.out, "mode:        0640\n"));	/* untouched */
	EXPECT_NE(NULL, strstr(r.out, "size:        8192\n"));
	EXPECT_EQ(0, RUN(&r, "unlink", name));
}

TEST(human_sizes_and_names)
{
	const char *name = tname("human");
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	const char *row, *hdr;
	char want[256];
	struct res r;

	ASSERT_NE(NULL, pw);
	ASSERT_NE(NULL, gr);
	ASSERT_EQ(0, RUN(&r, "create", name, "1M"));
	ASSERT_EQ(0, RUN(&r, "list", "-h"));
	hdr = r.out;
	EXPECT_NE(NULL, strstr(hdr, "SIZE  MODE  OWNER  GROUP  HANDLES  MAPS  ATTACHED  FLAGS\n"))
		TH_LOG("%s", r.out);
	row = row_with(r.out, 1, name);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), " 1.0M  0600  %s", pw->pw_name);
	EXPECT_NE(NULL, strstr(row, want)) TH_LOG("%s", row);
	EXPECT_EQ(strstr(hdr, "GROUP") - hdr, strstr(row + (strstr(row, pw->pw_name) - row) +
						      strlen(pw->pw_name), gr->gr_name) - row)
		TH_LOG("%s", r.out);
	/* the same with the option first, and its long name */
	ASSERT_EQ(0, RUN(&r, "--human", "list"));
	EXPECT_NE(NULL, row_with(r.out, 2, "1.0M"));
	ASSERT_EQ(0, RUN(&r, "stat", name, "--human"));
	EXPECT_NE(NULL, strstr(r.out, "size:        1.0M (1048576 bytes)\n")) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "uid:         %d (%s)\n", (int)getuid(), pw->pw_name);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "gid:         %d (%s)\n", (int)getgid(), gr->gr_name);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	/* numbers stay in --json */
	ASSERT_EQ(0, RUN(&r, "-h", "list", "--json"));
	snprintf(want, sizeof(want), "\"size\": 1048576, \"mode\": \"0600\", \"uid\": %d",
		 (int)getuid());
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, RUN(&r, "unlink", name));
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

/* UTF-8 names are UTF-8 in JSON; other bytes are \udcXX (surrogateescape) */
TEST(json_utf8_names)
{
	char name[64], want[128];
	struct res r;

	snprintf(name, sizeof(name), "ctl-%d-\xc3\xa9t\xc3\xa9-\xe2\x82\xac", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "create", name, "1"));
	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"name\": \"%s\"", name);
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "\\u00c3"));
	ASSERT_EQ(0, RUN(&r, "stat", name, "--json"));
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, RUN(&r, "unlink", name));

	/* a lone continuation byte, a truncated sequence, an overlong '/' */
	snprintf(name, sizeof(name), "ctl-%d-\x80-\xc3-\xc0\xaf-\xed\xa0\x80", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "create", name, "1"));
	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	EXPECT_TRUE(json_valid(r.out)) TH_LOG("%s", r.out);
	snprintf(want, sizeof(want), "\"ctl-%d-\\udc80-\\udcc3-\\udcc0\\udcaf-\\udced\\udca0\\udc80\"",
		 (int)getpid());
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, RUN(&r, "unlink", name));
}

/* tables: printable UTF-8 as it is in a UTF-8 locale, \xHH in the C locale */
TEST(table_utf8_names)
{
	char name[64], want[64];
	const char *row, *hdr;
	struct res r;

	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		SKIP(return, "no C.UTF-8 locale installed");
	setlocale(LC_CTYPE, "C");
	snprintf(name, sizeof(name), "ctl-%d-\xc3\xa9t\xc3\xa9", (int)getpid());
	ASSERT_EQ(0, RUN(&r, "create", name, "1"));
	run_lc_all = "C.UTF-8";
	ASSERT_EQ(0, RUN(&r, "list"));
	hdr = r.out;
	row = row_with(r.out, 1, name);
	ASSERT_NE(NULL, row) TH_LOG("%s", r.out);
	/* aligned by columns, not bytes: SIZE ends where its header ends */
	EXPECT_EQ(strstr(hdr, "SIZE") + 4 - strstr(hdr, "NAME"),
		  strstr(strstr(row, name), " 4096") + 5 - strstr(row, name) - 2) TH_LOG("%s", r.out);
	run_lc_all = "C";
	ASSERT_EQ(0, RUN(&r, "list"));
	snprintf(want, sizeof(want), "ctl-%d-\\xc3\\xa9t\\xc3\\xa9", (int)getpid());
	EXPECT_NE(NULL, row_with(r.out, 1, want)) TH_LOG("%s", r.out);
	run_lc_all = NULL;
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
