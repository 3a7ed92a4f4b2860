// SPDX-License-Identifier: GPL-2.0
/*
 * shmrctl: list, inspect, create and remove shmr regions, show who is
 * attached and which processes died attached. See shmrctl(8).
 *
 * Exit status: 0 success, 1 the operation failed, 2 usage error,
 * 3 no such region, 4 not supported by the current backend.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#define SHMR_NO_TRACKING_MACROS
#include "shmr.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_NOTFOUND	3
#define EXIT_UNSUPP	4

#ifndef SHMRCTL_VERSION
#define SHMRCTL_VERSION "unknown"
#endif

static const char *prog = "shmrctl";
/* the locale's character set is UTF-8: tables show printable UTF-8 names as they are */
static bool utf8_locale;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmrctl [-h|--human] [--json] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  list                                 every visible region\n"
		"  stat NAME|ID                         one region\n"
		"  create NAME SIZE [-m|--mode M] [-x|--excl]\n"
		"                                       create a named region (SIZE: bytes, K, M, G)\n"
		"                                       and print its id\n"
		"  unlink NAME...                       remove names (one batch)\n"
		"  who NAME|ID                          processes attached to a region\n"
		"  leaks [--all] [--clear]              processes killed while attached\n"
		"                                       (--all: also those that exited)\n"
		"  backend                              the backend in use and what it supports\n"
		"  help, --help                         this text\n"
		"  --version                            shmrctl's version\n"
		"\n"
		"options (before or after the command):\n"
		"  -h, --human                          sizes as 4.0K, 12M; owner and group names\n"
		"  --json                               one JSON object on stdout\n"
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

	if (shmr_backend() < 0 && err == shmr_backend()) {
		/* no backend: say why (the device, its group, what to do) */
		msg = shmr_backend_error();
	} else if (err == -ENOENT) {
		msg = "No such region";
		code = EXIT_NOTFOUND;
	} else if (err == -EOPNOTSUPP) {
		msg = "Not supported by the backend";
		code = EXIT_UNSUPP;
	}
	if (arg)
		return fail(code, "%s %s: %s", what, arg, msg);
	return fail(code, "%s: %s", what, msg);
}

/* ---- formatting ---------------------------------------------------------- */

static int utf8_len(const unsigned char *p);

/*
 * A name for a table: bytes outside printable ASCII (and the backslash) as
 * \xHH, except, in a UTF-8 locale, printable UTF-8 characters.
 */
static void escape_name(const char *name, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t o = 0;
	int n;

	if (!*p) {
		snprintf(out, len, "(anonymous)");
		return;
	}
	while (*p && o + 5 < len) {
		if (*p >= 0x80 && utf8_locale && (n = utf8_len(p)) > 1 && o + (size_t)n < len) {
			mbstate_t ps;
			wchar_t wc;

			memset(&ps, 0, sizeof(ps));
			if (mbrtowc(&wc, (const char *)p, (size_t)n, &ps) == (size_t)n &&
			    iswprint((wint_t)wc) && wcwidth(wc) >= 0) {
				memcpy(out + o, p, (size_t)n);
				o += (size_t)n;
				p += n;
				continue;
			}
		}
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			o += snprintf(out + o, len - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
		p++;
	}
	out[o] = '\0';
}

/* the length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one */
static int utf8_len(const unsigned char *p)
{
	uint32_t cp;
	int len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A JSON string: valid UTF-8 as it is, control characters, quote and
 * backslash escaped, and each byte that is not part of valid UTF-8 as the
 * lone surrogate \udcXX (Python's surrogateescape: os.fsencode() gives the
 * name's bytes back).
 */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int len;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		len = utf8_len(p);
		if (!len) {
			fprintf(f, "\\udc%02x", *p++);
			continue;
		}
		fwrite(p, 1, (size_t)len, f);
		p += len;
	}
	fputc('"', f);
}

/* ls -h style: 512, 4.0K, 12K, 1.0M (powers of 1024, rounded up) */
static void fmt_human(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t div = 1;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	while (u < 5 && v / div >= 1024) {
		div *= 1024;
		u++;
	}
	/* one decimal below 10, rounded up, as ls and df do */
	if (v / div < 10) {
		uint64_t tenths = (v * 10 + div - 1) / div;

		if (tenths < 100) {
			snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", tenths / 10, tenths % 10,
				 units[u]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 "%c", (v + div - 1) / div, units[u]);
}

static void fmt_size(uint64_t v, bool human, char *buf, size_t len)
{
	if (human)
		fmt_human(v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static void fmt_user(uint32_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (!getpwuid_r((uid_t)uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%" PRIu32, uid);
}

static void fmt_group(uint32_t gid, char *buf, size_t len)
{
	struct group gr, *res = NULL;
	char tmp[1024];

	if (!getgrgid_r((gid_t)gid, &gr, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->gr_name);
	else
		snprintf(buf, len, "%" PRIu32, gid);
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

/* columns s takes on a terminal */
static int disp_width(const char *s)
{
	wchar_t wbuf[1100];
	size_t n;
	int w;

	if (!utf8_locale)
		return (int)strlen(s);
	n = mbstowcs(wbuf, s, sizeof(wbuf) / sizeof(wbuf[0]));
	if (n == (size_t)-1 || n >= sizeof(wbuf) / sizeof(wbuf[0]))
		return (int)strlen(s);
	w = wcswidth(wbuf, n);
	return w < 0 ? (int)strlen(s) : w;
}

static void table_print(struct table *t)
{
	int w[MAXCOLS], r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = disp_width(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			int l = disp_width(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (r = -1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] : t->cells[r * t->ncols + c];
			int pad = w[c] - disp_width(s);
			bool last = c == t->ncols - 1;

			if (t->right[c])
				printf("%*s%s%s", pad, "", s, last ? "" : "  ");
			else if (last)
				printf("%s", s);
			else
				printf("%s%*s  ", s, pad, "");
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

/* ---- options ----------------------------------------------------------- */

/* what a command accepts besides its arguments */
#define OPT_JSON	(1U << 0)
#define OPT_HUMAN	(1U << 1)
#define OPT_CLEAR	(1U << 2)
#define OPT_ALL		(1U << 3)
#define OPT_MODE	(1U << 4)
#define OPT_EXCL	(1U << 5)

struct opts {
	bool json, human, clear, all, excl;
	const char *mode;	/* --mode argument, or NULL */
};

/*
 * Options and arguments of one command (argv[0] is its name). Options may
 * come anywhere; "--" ends them; "-" and "-<digit>..." are arguments (so
 * that "create x -5" says the size is bad). Between min and max arguments
 * (max < 0: any number) are stored in args. 0 or a usage error's status,
 * after one message.
 */
static int parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o,
		      char **args, int min, int max, int *nargs)
{
	bool dashdash = false;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && a[0] == '-' && a[1] && (a[1] < '0' || a[1] > '9')) {
			if (!strcmp(a, "--")) {
				dashdash = true;
			} else if (!strcmp(a, "--json") && (allowed & OPT_JSON)) {
				o->json = true;
			} else if ((!strcmp(a, "-h") || !strcmp(a, "--human")) &&
				   (allowed & OPT_HUMAN)) {
				o->human = true;
			} else if (!strcmp(a, "--clear") && (allowed & OPT_CLEAR)) {
				o->clear = true;
			} else if (!strcmp(a, "--all") && (allowed & OPT_ALL)) {
				o->all = true;
			} else if ((!strcmp(a, "-x") || !strcmp(a, "--excl")) && (allowed & OPT_EXCL)) {
				o->excl = true;
			} else if ((!strcmp(a, "-m") || !strcmp(a, "--mode")) && (allowed & OPT_MODE)) {
				if (i + 1 >= argc)
					return usage_error("%s: option '%s' needs an argument", argv[0], a);
				o->mode = argv[++i];
			} else if (!strncmp(a, "--mode=", 7) && (allowed & OPT_MODE)) {
				o->mode = a + 7;
			} else {
				return usage_error("%s: unknown option '%s'", argv[0], a);
			}
			continue;
		}
		if (max >= 0 && n >= max)
			return usage_error("%s: unexpected argument '%s'", argv[0], a);
		args[n++] = argv[i];
	}
	if (n < min) {
		if (max < 0)
			return usage_error("%s: expected one argument or more", argv[0]);
		if (min == max && min == 1)
			return usage_error("%s: expected NAME or ID", argv[0]);
		return usage_error("%s: expected %d arguments", argv[0], min);
	}
	*nargs = n;
	return 0;
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

/*
 * The table: ID NAME SIZE MODE UID ...; with -h sizes for humans and
 * OWNER and GROUP names instead of the uid (numbers stay in --json).
 */
static int cmd_list(const struct opts *o)
{
	struct shmr_region_stat *v = NULL;
	struct table t = { .ncols = 9,
		.head = { "ID", "NAME", "SIZE", "MODE", "UID", "HANDLES", "MAPS", "ATTACHED", "FLAGS" },
		.right = { true, false, true, false, true, true, true, true, false } };
	struct table th = { .ncols = 10,
		.head = { "ID", "NAME", "SIZE", "MODE", "OWNER", "GROUP", "HANDLES", "MAPS",
			  "ATTACHED", "FLAGS" },
		.right = { true, false, true, false, false, false, true, true, true, false } };
	int n, i;

	n = list_all(&v);
	if (n < 0)
		return lib_error("list", NULL, n);
	if (o->json) {
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
		char id[24], name[1100], size[24], mode[8], uid[64], gid[64], h[12], m[12], a[12];
		char fl[64];

		snprintf(id, sizeof(id), "%" PRIu64, v[i].id);
		escape_name(v[i].name, name, sizeof(name));
		fmt_size(v[i].size, o->human, size, sizeof(size));
		snprintf(mode, sizeof(mode), "%04o", v[i].mode);
		fmt_count(v[i].handles, h, sizeof(h));
		fmt_count(v[i].mappings, m, sizeof(m));
		fmt_count(v[i].nattach, a, sizeof(a));
		fmt_flags(v[i].flags, fl, sizeof(fl));
		if (o->human) {
			fmt_user(v[i].uid, uid, sizeof(uid));
			fmt_group(v[i].gid, gid, sizeof(gid));
			table_add(&th, id, name, size, mode, uid, gid, h, m, a, fl);
		} else {
			snprintf(uid, sizeof(uid), "%" PRIu32, v[i].uid);
			table_add(&t, id, name, size, mode, uid, h, m, a, fl);
		}
	}
	table_print(o->human ? &th : &t);
	free(v);
	return EXIT_OK;
}

static void print_stat(const struct shmr_region_stat *s, bool human)
{
	char name[1100], buf[64];

	escape_name(s->name, name, sizeof(name));
	printf("id:          %" PRIu64 "\n", s->id);
	printf("name:        %s\n", name);
	if (human) {
		fmt_human(s->size, buf, sizeof(buf));
		printf("size:        %s (%" PRIu64 " bytes)\n", buf, s->size);
	} else {
		printf("size:        %" PRIu64 "\n", s->size);
	}
	printf("mode:        %04o\n", s->mode);
	if (human) {
		fmt_user(s->uid, buf, sizeof(buf));
		printf("uid:         %" PRIu32 " (%s)\n", s->uid, buf);
		fmt_group(s->gid, buf, sizeof(buf));
		printf("gid:         %" PRIu32 " (%s)\n", s->gid, buf);
	} else {
		printf("uid:         %" PRIu32 "\n", s->uid);
		printf("gid:         %" PRIu32 "\n", s->gid);
	}
	fmt_count(s->handles, buf, sizeof(buf));
	printf("handles:     %s\n", buf);
	fmt_count(s->mappings, buf, sizeof(buf));
	printf("mappings:    %s\n", buf);
	fmt_count(s->nattach, buf, sizeof(buf));
	printf("attached:    %s\n", buf);
	printf("creator_pid: %" PRId32 "\n", s->creator_pid);
	fmt_time(s->ctime_ns, buf, sizeof(buf));
	printf("created:     %s\n", buf);
	fmt_flags(s->flags, buf, sizeof(buf));
	printf("flags:       %s\n", buf);
}

static int cmd_stat(const char *arg, const struct opts *o)
{
	struct shmr_region_stat s;
	int err = resolve(arg, &s);

	if (err)
		return lib_error("stat", arg, err);
	if (o->json) {
		json_region(stdout, &s, "");
		putchar('\n');
	} else {
		print_stat(&s, o->human);
	}
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

/* the size a new region of this size gets: whole pages */
static uint64_t page_round(uint64_t size)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	return size > UINT64_MAX - pg ? size : (size + pg - 1) / pg * pg;
}

/*
 * create NAME SIZE: create, or open the region of that name if it exists
 * (without --excl), and print its id as ipcmk does. An existing region of
 * another size (or, with --mode, another mode) is an error that says so:
 * create-or-open would otherwise hand back something the caller did not
 * ask for.
 */
static int cmd_create(int argc, char **argv, struct opts *o)
{
	struct shmr_region_opts ro = SHMR_REGION_OPTS(.mode = 0600);
	struct shmr_region_stat st;
	struct shmr_region *r;
	char *args[2], *end;
	size_t nlen;
	uint64_t size;
	int n, err, rc;
	long mode;

	rc = parse_opts(argc, argv, OPT_JSON | OPT_HUMAN | OPT_MODE | OPT_EXCL, o, args, 2, 2, &n);
	if (rc)
		return rc;
	if (o->mode) {
		errno = 0;
		mode = strtol(o->mode, &end, 8);
		if (errno || *end || !*o->mode || mode <= 0 || mode > 0777)
			return usage_error("create: bad mode '%s' (octal, 1 to 0777)", o->mode);
		ro.mode = (uint32_t)mode;
	}
	if (o->excl)
		ro.flags |= SHMR_REGION_EXCL;
	nlen = strlen(args[0]);
	if (!nlen)
		return usage_error("create: the name is empty");
	/* "/NAME", a raw POSIX shm name, is the posix backend's (docs/library.md) */
	if (strchr(args[0] + 1, '/') || !strcmp(args[0], "/") ||
	    (args[0][0] == '/' && shmr_backend() != SHMR_BACKEND_POSIX))
		return usage_error("create: bad name '%s': '/' is not allowed", args[0]);
	if (nlen > SHMR_REGION_NAME_MAX)
		return usage_error("create: the name is longer than %d bytes", SHMR_REGION_NAME_MAX);
	if (parse_size(args[1], &size) || !size)
		return usage_error("create: bad size '%s' (bytes > 0, or with K, M, G)", args[1]);
	ro.name = args[0];
	ro.size = size;
	err = shmr_region_create(&ro, &r);
	if (err == -EINVAL && !o->excl && resolve(ro.name, &st) == 0 && st.size < size)
		return fail(EXIT_FAIL, "create %s: exists with size %" PRIu64 ", smaller than %" PRIu64,
			    ro.name, st.size, size);
	if (err)
		return lib_error("create", ro.name, err);
	err = shmr_region_stat(r, &st);
	shmr_region_close(r);
	if (err)
		return lib_error("create", ro.name, err);
	/* a region this call created has exactly what was asked */
	if (st.size != page_round(size) && !(st.flags & SHMR_STAT_HUGE))
		return fail(EXIT_FAIL, "create %s: exists with size %" PRIu64 ", not %" PRIu64,
			    ro.name, st.size, page_round(size));
	if (o->mode && st.mode != ro.mode)
		return fail(EXIT_FAIL, "create %s: exists with mode %04o, not %04o", ro.name,
			    st.mode, ro.mode);
	if (o->json) {
		json_region(stdout, &st, "");
		putchar('\n');
	} else {
		printf("%" PRIu64 "\n", st.id);
	}
	return EXIT_OK;
}

/*
 * unlink NAME...: every name in one batch (one io_uring submit where the
 * module supports it), each name's error reported; the exit status is the
 * first failing name's.
 */
static int cmd_unlink(int argc, char **argv, struct opts *o)
{
	int n, cap, start, cnt, j, err, rc, code;
	struct shmr_batch *b = NULL;
	char **names;

	names = calloc((size_t)argc, sizeof(*names));
	if (!names)
		return fail(EXIT_FAIL, "out of memory");
	rc = parse_opts(argc, argv, OPT_HUMAN, o, names, 1, -1, &n);
	if (rc)
		goto out;
	cap = n > 4096 ? 4096 : n;
	err = shmr_batch_new((unsigned int)cap, 0, &b);
	if (err) {
		rc = lib_error("unlink", names[0], err);
		goto out;
	}
	for (start = 0; start < n; start += cnt) {
		cnt = n - start < cap ? n - start : cap;
		for (j = 0; j < cnt; j++)
			shmr_batch_unlink(b, names[start + j]);
		err = shmr_batch_submit(b);
		if (err < 0) {
			rc = lib_error("unlink", names[start], err);
			goto out;
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
out:
	shmr_batch_free(b);
	free(names);
	return rc;
}

static int cmd_who(const char *arg, bool json)
{
	struct table t = { .ncols = 5, .head = { "PID", "COMM", "HANDLES", "MAPS", "SINCE" },
		.right = { true, false, true, true, false } };
	struct shmr_attacher *a = NULL;
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

/*
 * leaks: the module's exit records. A process that exited normally while it
 * still held a mapping (every multiprocessing pool worker does, leaving with
 * _exit()) is shown only with --all; killed and crashed ones always.
 */
static int cmd_leaks(const struct opts *o)
{
	struct table t = { .ncols = 8,
		.head = { "WHEN", "PID", "COMM", "END", "REGION", "ID", "HANDLES", "MAPS" },
		.right = { false, true, false, false, false, true, true, true } };
	struct shmr_exit *e = NULL;
	int n, i, shown = 0, cap = 0;

	for (;;) {
		/* clear only with a buffer that holds them all */
		n = shmr_exit_list(e, (size_t)cap, cap && o->clear ? SHMR_EXITS_CLEAR : 0);
		if (n < 0) {
			free(e);
			return lib_error("leaks", NULL, n);
		}
		if (n <= cap && (!o->clear || cap))
			break;
		cap = n + 16;
		free(e);
		e = calloc((size_t)cap, sizeof(*e));
		if (!e)
			return fail(EXIT_FAIL, "out of memory");
	}
	if (n > cap)
		n = cap;
	if (o->json)
		fputs("{\"exits\": [", stdout);
	for (i = 0; i < n; i++) {
		char when[32], pid[16], comm[80], end[40], name[1100], id[24], h[12], m[12];

		if (!e[i].signal && !o->all)
			continue;
		if (o->json) {
			printf("%s{\"when_ns\": %" PRIu64 ", \"pid\": %" PRId32 ", \"comm\": ",
			       shown ? ",\n  " : "\n  ", e[i].when_ns, e[i].pid);
			json_string(stdout, e[i].comm);
			printf(", \"signal\": %" PRId32 ", \"status\": %" PRId32 ", \"region\": ",
			       e[i].signal, e[i].status);
			if (e[i].name[0])
				json_string(stdout, e[i].name);
			else
				fputs("null", stdout);
			printf(", \"id\": %" PRIu64 ", \"handles\": %" PRIu32 ", \"mappings\": %" PRIu32
			       "}", e[i].region_id, e[i].handles, e[i].mappings);
			shown++;
			continue;
		}
		fmt_time(e[i].when_ns, when, sizeof(when));
		snprintf(pid, sizeof(pid), "%" PRId32, e[i].pid);
		escape_name(e[i].comm, comm, sizeof(comm));
		fmt_end(&e[i], end, sizeof(end));
		escape_name(e[i].name, name, sizeof(name));
		snprintf(id, sizeof(id), "%" PRIu64, e[i].region_id);
		snprintf(h, sizeof(h), "%" PRIu32, e[i].handles);
		snprintf(m, sizeof(m), "%" PRIu32, e[i].mappings);
		table_add(&t, when, pid, comm, end, name, id, h, m);
		shown++;
	}
	if (o->json)
		printf("%s]}\n", shown ? "\n" : "");
	else
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

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	char *args[1] = { NULL };
	const char *cmd;
	int i, n, rc;

	if (getenv("SHMR_LEAK") == NULL)
		setenv("SHMR_LEAK", "warn", 1);
	setlocale(LC_CTYPE, "");
	utf8_locale = !strcmp(nl_langinfo(CODESET), "UTF-8");
	/* options before the command */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("shmrctl %s\n", SHMRCTL_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--human")) {
			o.human = true;
		} else if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		if (o.human && !o.json && argc == 2) {	/* a lone -h: the help people expect */
			usage(stdout);
			return EXIT_OK;
		}
		return usage_error("missing command");
	}
	cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "help")) {
		rc = parse_opts(argc, argv, 0, &o, args, 0, 0, &n);
		if (!rc)
			usage(stdout);
		return rc;
	}
	if (!strcmp(cmd, "--version")) {	/* the library's: shmrctl links it in */
		printf("shmrctl %s\n", shmr_version());
		return EXIT_OK;
	}
	if (!strcmp(cmd, "list")) {
		rc = parse_opts(argc, argv, OPT_JSON | OPT_HUMAN, &o, args, 0, 0, &n);
		return rc ? rc : cmd_list(&o);
	}
	if (!strcmp(cmd, "stat")) {
		rc = parse_opts(argc, argv, OPT_JSON | OPT_HUMAN, &o, args, 1, 1, &n);
		return rc ? rc : cmd_stat(args[0], &o);
	}
	if (!strcmp(cmd, "who")) {
		rc = parse_opts(argc, argv, OPT_JSON | OPT_HUMAN, &o, args, 1, 1, &n);
		return rc ? rc : cmd_who(args[0], o.json);
	}
	if (!strcmp(cmd, "unlink"))
		return cmd_unlink(argc, argv, &o);
	if (!strcmp(cmd, "leaks")) {
		rc = parse_opts(argc, argv, OPT_JSON | OPT_HUMAN | OPT_CLEAR | OPT_ALL, &o, args, 0,
				0, &n);
		return rc ? rc : cmd_leaks(&o);
	}
	if (!strcmp(cmd, "backend")) {
		rc = parse_opts(argc, argv, OPT_HUMAN, &o, args, 0, 0, &n);
		return rc ? rc : cmd_backend();
	}
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv, &o);
	return usage_error("unknown command '%s'", cmd);
}
