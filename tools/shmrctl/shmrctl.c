// SPDX-License-Identifier: GPL-2.0
/*
 * shmrctl: list, inspect, create and remove shmr regions, show who is
 * attached and which processes died attached. See shmrctl(8).
 *
 * Exit status: 0 success, 1 the operation failed, 2 usage error,
 * 3 no such region, 4 not supported by the current backend.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHMR_NO_TRACKING_MACROS
#include "shmr.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_NOTFOUND	3
#define EXIT_UNSUPP	4

static const char *prog = "shmrctl";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmrctl COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  list [--json]                        every visible region\n"
		"  stat NAME|ID [--json]                one region\n"
		"  create NAME SIZE [--mode M] [--excl] create a named region (SIZE: bytes, K, M, G)\n"
		"  unlink NAME...                       remove names (one batch)\n"
		"  who NAME|ID [--json]                 processes attached to a region\n"
		"  leaks [--clear] [--json]             processes that exited or were killed attached\n"
		"  backend                              the backend in use and what it supports\n"
		"  help, --help                         this text\n"
		"\n"
		"exit status: 0 ok, 1 operation failed, 2 usage, 3 no such region,\n"
		"4 not supported by the backend (SHMR_BACKEND=posix or no /dev/shmr)\n");
}

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'shmrctl --help'.\n");
	return EXIT_USAGE;
}

/* an error from libshmr: message and exit code */
static int lib_error(const char *what, const char *arg, int err)
{
	const char *msg = strerror(-err);
	int code = EXIT_FAIL;

	if (err == -ENOENT) {
		msg = "No such region";
		code = EXIT_NOTFOUND;
	} else if (err == -EOPNOTSUPP) {
		msg = "Not supported by the backend";
		code = EXIT_UNSUPP;
	} else if (err == -ENODEV) {
		msg = "No shmr module (/dev/shmr)";
	}
	if (arg)
		return fail(code, "%s %s: %s", what, arg, msg);
	return fail(code, "%s: %s", what, msg);
}

/* ---- formatting ---------------------------------------------------------- */

/* bytes outside printable ASCII (and backslash) as \xHH */
static void escape_name(const char *name, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t o = 0;

	if (!*p) {
		snprintf(out, len, "(anonymous)");
		return;
	}
	for (; *p && o + 5 < len; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			o += snprintf(out + o, len - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!ns || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void fmt_count(uint32_t v, char *buf, size_t len)
{
	if (v == SHMR_COUNT_UNKNOWN)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRIu32, v);
}

static void fmt_flags(uint32_t fl, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ SHMR_STAT_ANON, "anon" }, { SHMR_STAT_UNLINKED, "unlinked" },
		{ SHMR_STAT_SEALED, "sealed" }, { SHMR_STAT_PROCESS, "process" },
		{ SHMR_STAT_HUGE, "huge" },
	};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fl & names[i].bit)
			o += snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i].name);
	if (!o)
		snprintf(buf, len, "-");
}

/* ---- aligned tables ---------------------------------------------------- */

#define MAXCOLS 12

struct table {
	int ncols;
	const char *head[MAXCOLS];
	bool right[MAXCOLS];
	char **cells;	/* nrows * ncols */
	int nrows;
};

static void table_add(struct table *t, ...)
{
	va_list ap;
	int c;

	t->cells = realloc(t->cells, sizeof(char *) * (size_t)(t->nrows + 1) * t->ncols);
	if (!t->cells)
		exit(fail(EXIT_FAIL, "out of memory"));
	va_start(ap, t);
	for (c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = strdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

static void table_print(struct table *t)
{
	int w[MAXCOLS], r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = (int)strlen(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			int l = (int)strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (r = -1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] : t->cells[r * t->ncols + c];
			bool last = c == t->ncols - 1;

			if (t->right[c])
				printf("%*s%s", w[c], s, last ? "" : "  ");
			else if (last)
				printf("%s", s);
			else
				printf("%-*s  ", w[c], s);
		}
		putchar('\n');
	}
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
}

/* ---- region lookup ----------------------------------------------------- */

static int list_all(struct shmr_region_stat **out)
{
	struct shmr_region_stat *v = NULL;
	int n, cap = 0;

	for (;;) {
		n = shmr_region_list(v, (size_t)cap);
		if (n < 0) {
			free(v);
			return n;
		}
		if (n <= cap)
			break;
		cap = n + 16;
		free(v);
		v = calloc((size_t)cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	*out = v;
	return n;
}

/* NAME (a linked region of that name) or ID (digits), without attaching */
static int resolve(const char *arg, struct shmr_region_stat *st)
{
	struct shmr_region_stat *v = NULL;
	int n, i, err;
	char *end;
	unsigned long long id;

	n = list_all(&v);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (!(v[i].flags & (SHMR_STAT_ANON | SHMR_STAT_UNLINKED)) && !strcmp(v[i].name, arg)) {
			*st = v[i];
			free(v);
			return 0;
		}
	}
	free(v);
	errno = 0;
	id = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno)
		return -ENOENT;
	err = shmr_region_stat_id(id, st);
	return err;
}

/* ---- commands ---------------------------------------------------------- */

static void json_region(FILE *f, const struct shmr_region_stat *s, const char *indent)
{
	char fl[64];

	fmt_flags(s->flags, fl, sizeof(fl));
	fprintf(f, "%s{\"id\": %" PRIu64 ", \"name\": ", indent, s->id);
	if (s->flags & SHMR_STAT_ANON)
		fputs("null", f);
	else
		json_string(f, s->name);
	fprintf(f, ", \"size\": %" PRIu64 ", \"mode\": \"%04o\", \"uid\": %" PRIu32
		", \"gid\": %" PRIu32, s->size, s->mode, s->uid, s->gid);
	if (s->handles == SHMR_COUNT_UNKNOWN)
		fputs(", \"handles\": null, \"mappings\": null, \"attached\": null", f);
	else
		fprintf(f, ", \"handles\": %" PRIu32 ", \"mappings\": %" PRIu32
			", \"attached\": %" PRIu32, s->handles, s->mappings, s->nattach);
	fprintf(f, ", \"creator_pid\": %" PRId32 ", \"ctime_ns\": %" PRIu64 ", \"flags\": [",
		s->creator_pid, s->ctime_ns);
	if (strcmp(fl, "-")) {
		char *tok, *save = NULL;
		int first = 1;

		for (tok = strtok_r(fl, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", tok);
			first = 0;
		}
	}
	fputs("]}", f);
}

static int cmd_list(bool json)
{
	struct shmr_region_stat *v = NULL;
	struct table t = { .ncols = 9,
		.head = { "ID", "NAME", "SIZE", "MODE", "UID", "HANDLES", "MAPS", "ATTACHED", "FLAGS" },
		.right = { true, false, true, false, true, true, true, true, false } };
	int n, i;

	n = list_all(&v);
	if (n < 0)
		return lib_error("list", NULL, n);
	if (json) {
		printf("{\"backend\": \"%s\", \"regions\": [", shmr_backend_name());
		for (i = 0; i < n; i++) {
			fputs(i ? ",\n" : "\n", stdout);
			json_region(stdout, &v[i], "  ");
		}
		printf("%s]}\n", n ? "\n" : "");
		free(v);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		char id[24], name[1100], size[24], mode[8], uid[12], h[12], m[12], a[12], fl[64];

		snprintf(id, sizeof(id), "%" PRIu64, v[i].id);
		escape_name(v[i].name, name, sizeof(name));
		snprintf(size, sizeof(size), "%" PRIu64, v[i].size);
		snprintf(mode, sizeof(mode), "%04o", v[i].mode);
		snprintf(uid, sizeof(uid), "%" PRIu32, v[i].uid);
		fmt_count(v[i].handles, h, sizeof(h));
		fmt_count(v[i].mappings, m, sizeof(m));
		fmt_count(v[i].nattach, a, sizeof(a));
		fmt_flags(v[i].flags, fl, sizeof(fl));
		table_add(&t, id, name, size, mode, uid, h, m, a, fl);
	}
	table_print(&t);
	free(v);
	return EXIT_OK;
}

static int cmd_stat(const char *arg, bool json)
{
	struct shmr_region_stat s;
	char name[1100], buf[64];
	int err = resolve(arg, &s);

	if (err)
		return lib_error("stat", arg, err);
	if (json) {
		json_region(stdout, &s, "");
		putchar('\n');
		return EXIT_OK;
	}
	escape_name(s.name, name, sizeof(name));
	printf("id:          %" PRIu64 "\n", s.id);
	printf("name:        %s\n", name);
	printf("size:        %" PRIu64 "\n", s.size);
	printf("mode:        %04o\n", s.mode);
	printf("uid:         %" PRIu32 "\n", s.uid);
	printf("gid:         %" PRIu32 "\n", s.gid);
	fmt_count(s.handles, buf, sizeof(buf));
	printf("handles:     %s\n", buf);
	fmt_count(s.mappings, buf, sizeof(buf));
	printf("mappings:    %s\n", buf);
	fmt_count(s.nattach, buf, sizeof(buf));
	printf("attached:    %s\n", buf);
	printf("creator_pid: %" PRId32 "\n", s.creator_pid);
	fmt_time(s.ctime_ns, buf, sizeof(buf));
	printf("created:     %s\n", buf);
	fmt_flags(s.flags, buf, sizeof(buf));
	printf("flags:       %s\n", buf);
	return EXIT_OK;
}

static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "excl", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct shmr_region_opts o = SHMR_REGION_OPTS(.mode = 0600);
	struct shmr_region *r;
	uint64_t size;
	char *end;
	long mode;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:x", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			errno = 0;
			mode = strtol(optarg, &end, 8);
			if (errno || *end || !*optarg || mode < 0 || mode > 0777)
				return usage_error("create: bad mode '%s' (octal, at most 0777)", optarg);
			o.mode = (uint32_t)mode;
			if (!mode)
				return usage_error("create: mode 0 is not allowed");
			break;
		case 'x':
			o.flags |= SHMR_REGION_EXCL;
			break;
		default:
			return usage_error("create: bad option");
		}
	}
	if (argc - optind != 2)
		return usage_error("create: expected NAME SIZE");
	o.name = argv[optind];
	if (parse_size(argv[optind + 1], &size) || !size)
		return usage_error("create: bad size '%s'", argv[optind + 1]);
	o.size = size;
	err = shmr_region_create(&o, &r);
	if (err)
		return lib_error("create", o.name, err);
	shmr_region_close(r);
	return EXIT_OK;
}

/*
 * unlink NAME...: every name in one batch (one io_uring submit where the
 * module supports it), each name's error reported; the exit status is the
 * first failing name's.
 */
static int cmd_unlink(int argc, char **argv)
{
	char **names = argv + 1;
	int n = argc - 1, cap = n > 4096 ? 4096 : n;
	int start, cnt, j, err, rc = EXIT_OK, code;
	struct shmr_batch *b;

	for (j = 0; j < n; j++)
		if (names[j][0] == '-' && names[j][1])
			return usage_error("%s: unknown option '%s'", argv[0], names[j]);
	if (n < 1)
		return usage_error("%s: expected one argument or more", argv[0]);
	err = shmr_batch_new((unsigned int)cap, 0, &b);
	if (err)
		return lib_error("unlink", names[0], err);
	for (start = 0; start < n; start += cnt) {
		cnt = n - start < cap ? n - start : cap;
		for (j = 0; j < cnt; j++)
			shmr_batch_unlink(b, names[start + j]);
		err = shmr_batch_submit(b);
		if (err < 0) {
			shmr_batch_free(b);
			return lib_error("unlink", names[start], err);
		}
		for (j = 0; j < cnt; j++) {
			err = shmr_batch_result(b, (unsigned int)j);
			if (!err)
				continue;
			code = lib_error("unlink", names[start + j], err);
			if (rc == EXIT_OK)
				rc = code;
		}
	}
	shmr_batch_free(b);
	return rc;
}

static int cmd_who(const char *arg, bool json)
{
	struct table t = { .ncols = 5, .head = { "PID", "COMM", "HANDLES", "MAPS", "SINCE" },
		.right = { true, false, true, true, false } };
	struct shmr_attach *a = NULL;
	struct shmr_region_stat s;
	int n, i, cap = 0, err;
	uint64_t f = 0;

	err = shmr_features(&f);
	if (err)
		return lib_error("who", arg, err);
	if (!(f & SHMR_FEATURE_ATTACH))
		return lib_error("who", arg, -EOPNOTSUPP);
	err = resolve(arg, &s);
	if (err)
		return lib_error("who", arg, err);
	for (;;) {
		n = shmr_region_who_id(s.id, a, (size_t)cap);
		if (n < 0) {
			free(a);
			return lib_error("who", arg, n);
		}
		if (n <= cap)
			break;
		cap = n + 8;
		free(a);
		a = calloc((size_t)cap, sizeof(*a));
		if (!a)
			return fail(EXIT_FAIL, "out of memory");
	}
	if (json) {
		printf("{\"id\": %" PRIu64 ", \"attached\": [", s.id);
		for (i = 0; i < n; i++) {
			printf("%s{\"pid\": %" PRId32 ", \"comm\": ", i ? ",\n  " : "\n  ", a[i].pid);
			json_string(stdout, a[i].comm);
			printf(", \"handles\": %" PRIu32 ", \"mappings\": %" PRIu32
			       ", \"since_ns\": %" PRIu64 "}", a[i].handles, a[i].mappings,
			       a[i].since_ns);
		}
		printf("%s]}\n", n ? "\n" : "");
		free(a);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		char pid[16], comm[80], h[12], m[12], since[32];

		snprintf(pid, sizeof(pid), "%" PRId32, a[i].pid);
		escape_name(a[i].comm, comm, sizeof(comm));
		snprintf(h, sizeof(h), "%" PRIu32, a[i].handles);
		snprintf(m, sizeof(m), "%" PRIu32, a[i].mappings);
		fmt_time(a[i].since_ns, since, sizeof(since));
		table_add(&t, pid, comm, h, m, since);
	}
	table_print(&t);
	free(a);
	return EXIT_OK;
}

static void fmt_end(const struct shmr_exit *e, char *buf, size_t len)
{
	const char *abbrev;

	if (e->signal) {
		abbrev = sigabbrev_np(e->signal);
		if (abbrev)
			snprintf(buf, len, "killed:SIG%s", abbrev);
		else
			snprintf(buf, len, "killed:%d", e->signal);
	} else {
		snprintf(buf, len, "exited:%d", e->status);
	}
}

static int cmd_leaks(bool clear, bool json)
{
	struct table t = { .ncols = 8,
		.head = { "WHEN", "PID", "COMM", "END", "REGION", "ID", "HANDLES", "MAPS" },
		.right = { false, true, false, false, false, true, true, true } };
	struct shmr_exit *e = NULL;
	int n, i, cap = 0;

	for (;;) {
		/* clear only with a buffer that holds them all */
		n = shmr_exit_list(e, (size_t)cap, cap && clear ? SHMR_EXITS_CLEAR : 0);
		if (n < 0) {
			free(e);
			return lib_error("leaks", NULL, n);
		}
		if (n <= cap && (!clear || cap))
			break;
		cap = n + 16;
		free(e);
		e = calloc((size_t)cap, sizeof(*e));
		if (!e)
			return fail(EXIT_FAIL, "out of memory");
	}
	if (n > cap)
		n = cap;
	if (json) {
		fputs("{\"exits\": [", stdout);
		for (i = 0; i < n; i++) {
			printf("%s{\"when_ns\": %" PRIu64 ", \"pid\": %" PRId32 ", \"comm\": ",
			       i ? ",\n  " : "\n  ", e[i].when_ns, e[i].pid);
			json_string(stdout, e[i].comm);
			printf(", \"signal\": %" PRId32 ", \"status\": %" PRId32 ", \"region\": ",
			       e[i].signal, e[i].status);
			if (e[i].name[0])
				json_string(stdout, e[i].name);
			else
				fputs("null", stdout);
			printf(", \"id\": %" PRIu64 ", \"handles\": %" PRIu32 ", \"mappings\": %" PRIu32
			       "}", e[i].region_id, e[i].handles, e[i].mappings);
		}
		printf("%s]}\n", n ? "\n" : "");
		free(e);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		char when[32], pid[16], comm[80], end[40], name[1100], id[24], h[12], m[12];

		fmt_time(e[i].when_ns, when, sizeof(when));
		snprintf(pid, sizeof(pid), "%" PRId32, e[i].pid);
		escape_name(e[i].comm, comm, sizeof(comm));
		fmt_end(&e[i], end, sizeof(end));
		escape_name(e[i].name, name, sizeof(name));
		snprintf(id, sizeof(id), "%" PRIu64, e[i].region_id);
		snprintf(h, sizeof(h), "%" PRIu32, e[i].handles);
		snprintf(m, sizeof(m), "%" PRIu32, e[i].mappings);
		table_add(&t, when, pid, comm, end, name, id, h, m);
	}
	table_print(&t);
	free(e);
	return EXIT_OK;
}

static int cmd_backend(void)
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{ SHMR_FEATURE_NAMED, "named" }, { SHMR_FEATURE_ANON, "anon" },
		{ SHMR_FEATURE_ATTACH, "attach" }, { SHMR_FEATURE_PROCESS, "process" },
		{ SHMR_FEATURE_HUGE, "huge" }, { SHMR_FEATURE_SEAL, "seal" },
		{ SHMR_FEATURE_EVENTS, "events" }, { SHMR_FEATURE_EXITS, "exits" },
		{ SHMR_FEATURE_IPC_NS, "ipc_ns" }, { SHMR_FEATURE_LIST_ANON, "list_anon" },
	};
	uint64_t f;
	size_t i;
	int err = shmr_features(&f);

	if (err)
		return lib_error("backend", NULL, err);
	printf("backend: %s\nsupported:", shmr_backend_name());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			printf(" %s", names[i].name);
	printf("\nmissing:");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(f & names[i].bit))
			printf(" %s", names[i].name);
	putchar('\n');
	return EXIT_OK;
}

/* the common "--json" / "--clear" flags after a command */
static int simple_opts(int argc, char **argv, bool *json, bool *clear, int nargs, char **arg)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && json)
			*json = true;
		else if (!strcmp(argv[i], "--clear") && clear)
			*clear = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("%s: unknown option '%s'", argv[0], argv[i]);
		else if (n < nargs)
			arg[n++] = argv[i];
		else
			return usage_error("%s: unexpected argument '%s'", argv[0], argv[i]);
	}
	if (n != nargs)
		return usage_error("%s: expected %s", argv[0], nargs == 1 ? "one argument" :
				   "no argument");
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false, clear = false;
	char *arg[1] = { NULL };
	const char *cmd;
	int rc;

	if (getenv("SHMR_LEAK") == NULL)
		setenv("SHMR_LEAK", "warn", 1);
	if (argc < 2)
		return usage_error("missing command");
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {	/* the library's: shmrctl links it in */
		printf("shmrctl %s\n", shmr_version());
		return EXIT_OK;
	}
	if (!strcmp(cmd, "list")) {
		rc = simple_opts(argc, argv, &json, NULL, 0, arg);
		return rc ? rc : cmd_list(json);
	}
	if (!strcmp(cmd, "stat")) {
		rc = simple_opts(argc, argv, &json, NULL, 1, arg);
		return rc ? rc : cmd_stat(arg[0], json);
	}
	if (!strcmp(cmd, "who")) {
		rc = simple_opts(argc, argv, &json, NULL, 1, arg);
		return rc ? rc : cmd_who(arg[0], json);
	}
	if (!strcmp(cmd, "unlink"))
		return cmd_unlink(argc, argv);
	if (!strcmp(cmd, "leaks")) {
		rc = simple_opts(argc, argv, &json, &clear, 0, arg);
		return rc ? rc : cmd_leaks(clear, json);
	}
	if (!strcmp(cmd, "backend")) {
		rc = simple_opts(argc, argv, NULL, NULL, 0, arg);
		return rc ? rc : cmd_backend();
	}
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	return usage_error("unknown command '%s'", cmd);
}
