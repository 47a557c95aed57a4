/*
 * fast.c - tsjail, the entry point: a plain launch from the plan cache.
 *
 *     tsjail [run] [-p NAME | --profile NAME | --profile=NAME | -v | --verbose]... [--] PROGRAM ARGS...
 *
 * For such a command line it looks up the plan the TypeScript planner
 * cached for exactly these words before ARGS (src/cache/store.ts has the
 * file format), checks that everything the planner looked at is unchanged
 * (each dependency compared with lstat, readlink, getenv, getcwd, isatty,
 * the same kernel probes), appends PROGRAM and ARGS as the plan's ARGV
 * records, repeats what the planner said on stderr, and runs the plan with
 * the shim's own code (shim_main): no Node process is started. It decides
 * nothing: anything else - another option, a verb, no entry, an entry that
 * is not the caller's alone (owner, mode 0600 in a 0700 directory, not a
 * symlink), a damaged one (length, CRC-32), a key that differs, a single
 * dependency that differs - and it runs the Node CLI with the same
 * arguments, which plans, caches and launches.
 *
 * The Node CLI is TSJAIL_NODE_CLI when built with one (a package's
 * location), else ../bin/tsjail.js next to this binary's directory.
 */
#include "run.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef TSJAIL_VERSION
#error "TSJAIL_VERSION (package.json's version) must be defined"
#endif

#define CACHE_MAGIC 0x434A5354u
#define CACHE_VERSION 1u
#define MAX_ENTRY (64u << 20)
#define MAX_PLAN (16u << 20)
#define MAX_RECORDS 65536u
#define MAX_STR 4096u
#define REC_ARGV 33u
#define REC_RECORD 8u
#define MAX_BLOB (1u << 20)

extern char **environ;

/* TSJAIL_CACHE_DEBUG=1: say on stderr why the cache was not used (for tests and bench). */
static int debug = -1;

static void why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void why(const char *fmt, ...)
{
	va_list ap;
	if (debug < 0) {
		const char *d = getenv("TSJAIL_CACHE_DEBUG");
		debug = d && strcmp(d, "1") == 0;
	}
	if (!debug)
		return;
	fprintf(stderr, "tsjail: plan cache: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char cli[PATH_MAX];

/* Where the Node CLI is. */
static const char *cli_path(void)
{
	if (cli[0])
		return cli;
#ifdef TSJAIL_NODE_CLI
	snprintf(cli, sizeof cli, "%s", TSJAIL_NODE_CLI);
#else
	static const char rel[] = "/../bin/tsjail.js";
	ssize_t n = readlink("/proc/self/exe", cli, sizeof cli - sizeof rel);
	if (n <= 0 || (size_t)n >= sizeof cli - sizeof rel)
		die("tsjail", "cannot find its own location (/proc/self/exe)");
	cli[n] = '\0';
	memcpy(strrchr(cli, '/'), rel, sizeof rel);
#endif
	return cli;
}

/* Run the Node CLI in place of this process, with the same arguments. */
static _Noreturn void node_cli(char **argv)
{
	argv[0] = (char *)cli_path();
	execv(argv[0], argv);
	die("tsjail", "cannot run the tsjail CLI %s", argv[0]);
}

/* A bounded reader over the entry; any overrun makes it fail for good. */
struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n, r->left -= n;
	return p;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t u32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (uint32_t)le(p, 4) : 0;
}

static uint64_t u64(struct rd *r)
{
	const uint8_t *p = take(r, 8);
	return p ? le(p, 8) : 0;
}

static uint8_t u8(struct rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? *p : 0;
}

/* A length-prefixed byte string; *len its length. Not NUL-terminated. */
static const uint8_t *bytes(struct rd *r, uint32_t *len)
{
	*len = u32(r);
	return take(r, *len);
}

/* A length-prefixed string copied into buf as a C string (no NUL inside). */
static const char *cstr(struct rd *r, char *buf, size_t size)
{
	uint32_t n;
	const uint8_t *p = bytes(r, &n);
	if (!p || n >= size || memchr(p, 0, n)) {
		r->bad = 1;
		return NULL;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int same(const uint8_t *a, uint32_t alen, const char *b)
{
	return b && strlen(b) == alen && memcmp(a, b, alen) == 0;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xFFFFFFFFu;
}

/* The kernel probes the planner made (src/sys/kernel.ts), made again. */
static int probe(const char *name, int64_t *value)
{
	if (strcmp(name, "landlock-abi") == 0) {
		long r = syscall(NR_landlock_create_ruleset, NULL, 0UL, 1U);
		*value = r > 0 ? r : -(int64_t)errno;
		return 0;
	}
	if (strcmp(name, "memfd-noexec-seal") == 0) {
		int fd = (int)syscall(SYS_memfd_create, "tsjail-probe", 0x1U | 0x8U);
		*value = fd >= 0;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	return -1;
}

enum {
	F_IDENTITY = 0x1,
	F_SIZE = 0x2,
	F_MTIME = 0x4,
	F_CTIME = 0x8,
	F_RDEV = 0x10
};

static int lstat_same(struct rd *r)
{
	char path[PATH_MAX];
	struct stat st;
	if (!cstr(r, path, sizeof path))
		return 0;
	int32_t want_errno = (int32_t)u32(r);
	int rc = lstat(path, &st);
	int got_errno = rc < 0 ? errno : 0;
	if (want_errno != 0)
		return !r->bad && rc < 0 && got_errno == want_errno;
	uint32_t mode = u32(r), uid = u32(r), gid = u32(r);
	uint64_t dev = u64(r), ino = u64(r), size = u64(r), rdev = u64(r);
	int64_t mt = (int64_t)u64(r);
	uint32_t mtn = u32(r);
	int64_t ct = (int64_t)u64(r);
	uint32_t ctn = u32(r), fields = u32(r);
	if (r->bad || rc < 0)
		return 0;
	if ((fields & F_IDENTITY) && (st.st_mode != mode || st.st_uid != uid || st.st_gid != gid ||
				      (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino))
		return 0;
	if ((fields & F_SIZE) && (uint64_t)st.st_size != size)
		return 0;
	if ((fields & F_RDEV) && (uint64_t)st.st_rdev != rdev)
		return 0;
	if ((fields & F_MTIME) && (st.st_mtim.tv_sec != mt || (uint32_t)st.st_mtim.tv_nsec != mtn))
		return 0;
	if ((fields & F_CTIME) && (st.st_ctim.tv_sec != ct || (uint32_t)st.st_ctim.tv_nsec != ctn))
		return 0;
	return 1;
}

/* A file to compare, open; -1 when the open already decides (*same: whether it failed as recorded). */
static int open_dep(const char *path, int32_t want_errno, int *same)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		*same = want_errno != 0 && errno == want_errno;
	else if (want_errno != 0) {
		close(fd);
		*same = 0;
		fd = -1;
	}
	return fd;
}

static int content_same(const char *path, int32_t want_errno, const uint8_t *data, uint32_t len)
{
	int same_open;
	int fd = open_dep(path, want_errno, &same_open);
	if (fd < 0)
		return same_open;
	uint8_t buf[4096];
	uint32_t seen = 0;
	int ok = 1;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ok = 0;
			break;
		}
		if (n == 0)
			break;
		if ((uint64_t)seen + (uint64_t)n > len ||
		    memcmp(buf, data + seen, (size_t)n) != 0) {
			ok = 0;
			break;
		}
		seen += (uint32_t)n;
	}
	close(fd);
	return ok && seen == len;
}

/* /proc/self/limits as "LABEL\tHARD\n" lines (src/cache/record.ts, hardLimitsText). */
static int hard_limits_same(const uint8_t *want, uint32_t len)
{
	char text[8192], line[256];
	size_t at = 0, off = 0;
	int fd = open("/proc/self/limits", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0 || n >= (ssize_t)sizeof text - 1)
		return 0;
	text[n] = '\0';
	char *save = NULL;
	char *l = strtok_r(text, "\n", &save); /* the header */
	while ((l = strtok_r(NULL, "\n", &save))) {
		char label[27], rest[256], soft[64], hard[64];
		size_t ll = strlen(l);
		snprintf(label, sizeof label, "%.26s", l);
		for (size_t e = strlen(label); e > 0 && label[e - 1] == ' '; e--)
			label[e - 1] = '\0';
		size_t s0 = strspn(label, " ");
		snprintf(rest, sizeof rest, "%s", ll > 26 ? l + 26 : "");
		if (!label[s0] || sscanf(rest, "%63s %63s", soft, hard) != 2)
			continue;
		int w = snprintf(line, sizeof line, "%s\t%s\n", label + s0, hard);
		if (w < 0 || (size_t)w >= sizeof line || off + (size_t)w > len ||
		    memcmp(want + off, line, (size_t)w) != 0)
			return 0;
		off += (size_t)w;
		at++;
	}
	return off == len;
}

/*
 * A plain pattern (letters, digits, _, * and ?: record.ts PLAIN_PATTERN)
 * against a variable's name: * any run of bytes, ? one byte, as minimatch
 * matches them on names env_plain_name accepts.
 */
static int glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++, si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else
			return 0;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/*
 * A name that minimatch and glob_match see alike: not empty, no leading
 * dot, no slash (minimatch splits there and lets a trailing one match), all
 * ASCII (minimatch's ? is one UTF-16 unit). Any other is a doubt.
 */
static int env_plain_name(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* A count and that many byte strings (at most max) into v and lens; 0 if there are more or the entry ends. */
static int str_list(struct rd *r, const uint8_t **v, uint32_t *lens, uint32_t max, uint32_t *count)
{
	*count = u32(r);
	if (r->bad || *count > max)
		return 0;
	for (uint32_t i = 0; i < *count; i++)
		if (!(v[i] = bytes(r, &lens[i])))
			return 0;
	return 1;
}

/* envmatch: the variables whose names match one of the patterns, in order, are the recorded ones. */
static int envmatch_same(struct rd *r)
{
	enum {
		MAX_PATTERNS = 256
	};
	const uint8_t *pat[MAX_PATTERNS];
	uint32_t plen[MAX_PATTERNS], n, np;
	if (!str_list(r, pat, plen, MAX_PATTERNS, &np))
		return 0;
	uint32_t count = u32(r), seen = 0;
	const uint8_t *want = NULL;
	int ok = !r->bad;
	for (char **e = environ; ok && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t len = eq ? (size_t)(eq - *e) : 0;
		if (!eq || !env_plain_name(*e, len))
			return 0;
		int m = 0;
		for (uint32_t i = 0; i < np && !m; i++)
			m = glob_match((const char *)pat[i], plen[i], *e, len);
		if (!m)
			continue;
		if (seen++ >= count || !(want = bytes(r, &n)) || !same(want, n, *e))
			return 0;
	}
	return ok && seen == count;
}

/*
 * mountlines: the lines of a mount table whose file system type (the first
 * word after the first " - ") is one of the listed ones, each with its
 * newline, in order, are the recorded ones (src/cache/record.ts, mountLines).
 */
static int mountlines_same(struct rd *r)
{
	enum {
		MAX_TYPES = 16
	};
	char path[PATH_MAX];
	const uint8_t *type[MAX_TYPES], *want;
	uint32_t tlen[MAX_TYPES], n, nt;
	if (!cstr(r, path, sizeof path) || !str_list(r, type, tlen, MAX_TYPES, &nt))
		return 0;
	int32_t want_errno = (int32_t)u32(r);
	if (!(want = bytes(r, &n)))
		return 0;
	int same_open;
	int fd = open_dep(path, want_errno, &same_open);
	if (fd < 0)
		return same_open;
	size_t cap = 1u << 16, len = 0;
	char *text = malloc(cap);
	int ok = text != NULL;
	while (ok) {
		if (len == cap) {
			char *more = cap < MAX_ENTRY ? realloc(text, cap * 2) : NULL;
			if (!more) {
				ok = 0;
				break;
			}
			text = more, cap *= 2;
		}
		ssize_t got = read(fd, text + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			ok = got == 0;
			break;
		}
		len += (size_t)got;
	}
	close(fd);
	if (!ok) {
		free(text);
		return 0;
	}
	uint32_t at = 0;
	int same_lines = 1;
	for (size_t off = 0; same_lines && off < len;) {
		const char *line = text + off, *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;
		off += ll + 1;
		const char *sep = memmem(line, ll, " - ", 3);
		if (!sep)
			continue;
		const char *t = sep + 3, *end = line + ll, *sp = memchr(t, ' ', (size_t)(end - t));
		size_t tl = (size_t)((sp ? sp : end) - t);
		int listed = 0;
		for (uint32_t i = 0; i < nt && !listed; i++)
			listed = tlen[i] == tl && memcmp(type[i], t, tl) == 0;
		if (!listed)
			continue;
		same_lines = (uint64_t)at + ll + 1 <= n && memcmp(want + at, line, ll) == 0 &&
			     want[at + ll] == '\n';
		at += (uint32_t)ll + 1;
	}
	free(text);
	return same_lines && at == n;
}

/* One dependency, compared with what is there now. 1: the same. */
static int dep_same(struct rd *r)
{
	char name[PATH_MAX], buf[PATH_MAX];
	uint32_t n;
	const uint8_t *p;

	switch (u8(r)) {
	case 1: { /* env */
		if (!cstr(r, name, sizeof name))
			return 0;
		uint8_t present = u8(r);
		p = bytes(r, &n);
		const char *v = getenv(name);
		return p && (present ? same(p, n, v) : v == NULL);
	}
	case 2: { /* environ: all of it, in order */
		uint32_t count = u32(r);
		char **e = environ;
		for (uint32_t i = 0; i < count; i++, e++) {
			p = bytes(r, &n);
			if (!p || !*e || !same(p, n, *e))
				return 0;
		}
		return !r->bad && *e == NULL;
	}
	case 3:
		return lstat_same(r);
	case 4: { /* readlink */
		if (!cstr(r, name, sizeof name))
			return 0;
		int32_t want_errno = (int32_t)u32(r);
		p = bytes(r, &n);
		ssize_t len = readlink(name, buf, sizeof buf);
		if (!p)
			return 0;
		if (want_errno != 0)
			return len < 0 && errno == want_errno;
		return len >= 0 && (size_t)len == n && memcmp(buf, p, n) == 0;
	}
	case 5: { /* content of a file whose stat says nothing (/proc, /sys) */
		if (!cstr(r, name, sizeof name))
			return 0;
		int32_t want_errno = (int32_t)u32(r);
		p = bytes(r, &n);
		return p && content_same(name, want_errno, p, n);
	}
	case 6: /* cwd */
		p = bytes(r, &n);
		return p && getcwd(buf, sizeof buf) && same(p, n, buf);
	case 7: { /* which of 0-2 are terminals */
		uint32_t mask = u32(r), now = 0;
		for (int fd = 0; fd < 3; fd++)
			if (isatty(fd))
				now |= 1u << fd;
		return !r->bad && mask == now;
	}
	case 8: { /* ids */
		uint32_t uid = u32(r), gid = u32(r);
		return !r->bad && uid == getuid() && gid == getgid();
	}
	case 9: { /* a kernel probe */
		if (!cstr(r, name, sizeof name))
			return 0;
		int64_t want = (int64_t)u64(r), got;
		return !r->bad && probe(name, &got) == 0 && got == want;
	}
	case 10: { /* host name */
		struct utsname u;
		p = bytes(r, &n);
		return p && uname(&u) == 0 && same(p, n, u.nodename);
	}
	case 11: /* hard limits */
		p = bytes(r, &n);
		return p && hard_limits_same(p, n);
	case 12:
		return envmatch_same(r);
	case 13:
		return mountlines_same(r);
	default:
		return 0;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Valid UTF-8 (what Node would decode the argument as, unchanged). */
static int utf8_ok(const unsigned char *p)
{
	while (*p) {
		int n = *p < 0x80             ? 0
			: (*p & 0xE0) == 0xC0 ? 1
			: (*p & 0xF0) == 0xE0 ? 2
			: (*p & 0xF8) == 0xF0 ? 3
					      : -1;
		if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4))
			return 0;
		unsigned c = *p++ & (0x3Fu >> n);
		for (int k = 0; k < n; k++, p++) {
			if ((*p & 0xC0) != 0x80)
				return 0;
			c = c << 6 | (*p & 0x3Fu);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xD800 && c < 0xE000))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10FFFF)))
			return 0;
	}
	return 1;
}

/* Append s as a JSON string as JSON.stringify writes it; returns the new length. */
static size_t json_str(char *out, size_t at, const char *s)
{
	out[at++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = c == '"'    ? "\\\""
				: c == '\\' ? "\\\\"
				: c == '\b' ? "\\b"
				: c == '\f' ? "\\f"
				: c == '\n' ? "\\n"
				: c == '\r' ? "\\r"
				: c == '\t' ? "\\t"
					    : NULL;
		if (e) {
			memcpy(out + at, e, 2);
			at += 2;
		} else if (c < 0x20) {
			at += (size_t)sprintf(out + at, "\\u%04x", c);
		} else
			out[at++] = (char)c;
	}
	out[at++] = '"';
	return at;
}

/* The whole cache entry of `key`, or NULL. Only the caller's own files count. */
static uint8_t *read_entry(const char *dir, const char *file, size_t *len)
{
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	if (fstat(dfd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077)) {
		close(dfd);
		return NULL;
	}
	int fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	close(dfd);
	if (fd < 0)
		return NULL;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) || st.st_size < 16 || (uint64_t)st.st_size > MAX_ENTRY)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		goto out;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			buf = NULL;
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	close(fd);
	return buf;
}

/*
 * The plan to run for this command line, in a sealed memfd, with what to
 * say on stderr first; -1 if the cache has nothing certain for it.
 */
static int cached_plan(int argc, char **argv, const uint8_t **say, uint32_t *say_len,
		       uint8_t **entry)
{
	/* The command line: only what the cache's key can say. */
	int i = 1;
	if (i < argc && strcmp(argv[i], "run") == 0)
		i++;
	while (i < argc) {
		const char *t = argv[i];
		if (strcmp(t, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(t, "-p") == 0 || strcmp(t, "--profile") == 0) {
			if (i + 1 >= argc)
				return -1;
			i += 2;
		} else if (strncmp(t, "--profile=", 10) == 0 || strcmp(t, "-v") == 0 ||
			   strcmp(t, "--verbose") == 0) {
			i++;
		} else if (t[0] == '-' && t[1] != '\0') {
			return -1;
		} else
			break;
	}
	if (i >= argc || argv[i][0] == '\0')
		return -1;
	int prog = i;
	/* TSJAIL_REPLAN: a re-plan the Node CLI counts. */
	if (getenv("TSJAIL_SHIM") || getenv("TSJAIL_REPLAN"))
		return -1;
	const char *off = getenv("TSJAIL_PLAN_CACHE");
	if (off && strcmp(off, "off") == 0)
		return -1;

	/* The key: this version, this user, the words up to PROGRAM. */
	size_t klen = 0, kcap = 256;
	for (int j = 1; j <= prog; j++)
		kcap += strlen(argv[j]) + 1;
	char *key = malloc(kcap);
	if (!key)
		return -1;
	klen = (size_t)snprintf(key, kcap, "tsjail plan cache %u\n%s\nuid %u\n", CACHE_VERSION,
				TSJAIL_VERSION, (unsigned)getuid());
	for (int j = 1; j <= prog; j++) {
		size_t n = strlen(argv[j]);
		memcpy(key + klen, argv[j], n);
		klen += n;
		if (j < prog)
			key[klen++] = '\0';
	}
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t j = 0; j < klen; j++)
		h = (h ^ (uint8_t)key[j]) * 0x100000001b3ull;

	char dir[PATH_MAX], file[32];
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int dn = xdg && xdg[0] == '/'     ? snprintf(dir, sizeof dir, "%s/tsjail", xdg)
		 : home && home[0] == '/' ? snprintf(dir, sizeof dir, "%s/.cache/tsjail", home)
					  : -1;
	if (dn < 0 || (size_t)dn >= sizeof dir) {
		free(key);
		return -1;
	}
	snprintf(file, sizeof file, "plan-%016llx", (unsigned long long)h);
	size_t len = 0;
	uint8_t *buf = read_entry(dir, file, &len);
	if (!buf) {
		why("no usable entry %s", file);
		free(key);
		return -1;
	}
	*entry = buf;

	/* Whole, undamaged, of this format, for this key. */
	struct rd r = { .p = buf + 16, .left = len - 16 };
	uint32_t n;
	if (le(buf, 4) != CACHE_MAGIC || le(buf + 4, 4) != CACHE_VERSION || le(buf + 8, 4) != len ||
	    le(buf + 12, 4) != crc32(buf + 16, len - 16)) {
		why("damaged entry %s", file);
		free(key);
		return -1;
	}
	const uint8_t *k = bytes(&r, &n);
	int key_ok = k && n == klen && memcmp(k, key, klen) == 0;
	free(key);
	if (!key_ok) {
		why("entry %s is for another command line", file);
		return -1;
	}

	/* Everything the planner looked at, as it was. */
	uint32_t ndeps = u32(&r);
	for (uint32_t d = 0; d < ndeps; d++) {
		const uint8_t *at = r.p;
		if (!dep_same(&r) || r.bad) {
			/* A path's or a variable's dependency says which (kinds 1, 3, 4, 5, 13: name first). */
			struct rd nr = { at + 1, (size_t)(r.p - at) - 1, 0 };
			char name[PATH_MAX] = "";
			if (at[0] == 1 || (at[0] >= 3 && at[0] <= 5) || at[0] == 13)
				cstr(&nr, name, sizeof name);
			why("changed: dependency %u of %u (kind %u%s%s)", d + 1, ndeps, at[0],
			    name[0] ? " " : "", name);
			return -1;
		}
	}
	why("hit");
	*say = bytes(&r, say_len);
	const uint8_t *plan = bytes(&r, &n);
	/* The sandbox's record (for ps): its meta around the argv. */
	uint32_t dl = 0, nl = 0, bl = 0, al = 0;
	const uint8_t *rdir = NULL, *rname = NULL, *before = NULL, *after = NULL;
	int has_record = u8(&r);
	if (has_record) {
		rdir = bytes(&r, &dl), rname = bytes(&r, &nl);
		before = bytes(&r, &bl), after = bytes(&r, &al);
	}
	if (!*say || !plan || r.bad || r.left != 0 || n < 16 || le(plan + 8, 4) != n ||
	    has_record > 1)
		return -1;

	/* PROGRAM and ARGS as ARGV records after the rest. */
	uint64_t total = n, meta = 2;
	uint32_t count = (uint32_t)le(plan + 12, 4);
	for (int j = prog; j < argc; j++) {
		size_t a = strlen(argv[j]);
		if (a > MAX_STR || !utf8_ok((const unsigned char *)argv[j]))
			return -1;
		total += 12 + a;
		meta += 6 * a + 3;
		count++;
	}
	meta += (uint64_t)bl + al;
	if (has_record)
		total += 8 + 4 + dl + 4 + nl + 4 + meta, count++;
	if (total > MAX_PLAN || count > MAX_RECORDS || meta > MAX_BLOB)
		return -1;
	uint8_t *out = malloc((size_t)total);
	if (!out)
		return -1;
	memcpy(out, plan, n);
	size_t at = n;
	if (has_record) {
		size_t start = at;
		out[at] = REC_RECORD, out[at + 1] = 0, out[at + 2] = 0, out[at + 3] = 0;
		at += 8;
		put32(out + at, dl), memcpy(out + at + 4, rdir, dl), at += 4 + dl;
		put32(out + at, nl), memcpy(out + at + 4, rname, nl), at += 4 + nl;
		size_t mlen_at = at;
		at += 4;
		memcpy(out + at, before, bl), at += bl;
		char *m = (char *)out;
		m[at++] = '[';
		for (int j = prog; j < argc; j++) {
			if (j > prog)
				m[at++] = ',';
			at = json_str(m, at, argv[j]);
		}
		m[at++] = ']';
		memcpy(out + at, after, al), at += al;
		put32(out + mlen_at, (uint32_t)(at - mlen_at - 4));
		put32(out + start + 4, (uint32_t)(at - start - 8));
	}
	for (int j = prog; j < argc; j++) {
		uint32_t a = (uint32_t)strlen(argv[j]);
		out[at] = REC_ARGV & 0xFF, out[at + 1] = REC_ARGV >> 8, out[at + 2] = 0,
		out[at + 3] = 0;
		put32(out + at + 4, 4 + a);
		put32(out + at + 8, a);
		memcpy(out + at + 12, argv[j], a);
		at += 12 + a;
	}
	put32(out + 8, (uint32_t)at);
	put32(out + 12, count);
	int fd = (int)syscall(SYS_memfd_create, "tsjail-plan", 0x1U | 0x2U);
	if (fd < 0 || write_all(fd, out, at) < 0 || fcntl(fd, F_ADD_SEALS, 0xF) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		free(out);
		return -1;
	}
	free(out);
	return fd;
}

int main(int argc, char **argv)
{
	const uint8_t *say = NULL;
	uint32_t say_len = 0;
	uint8_t *entry = NULL;

	/* Closed stdio would make the plan's memfd one of 0-2: /dev/null there. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			die("start", "open /dev/null as fd %d", fd);
	/* Started through a link named after a program (argv[0] dispatch):
	 * which program that is, the Node CLI decides from the name it was
	 * started as, which an exec from here would not pass on. */
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (strcmp(base, "tsjail") != 0)
		die_msg("tsjail",
			"started as %s: link program names to the Node CLI (bin/tsjail.js) "
			"for argv[0] dispatch, not to this entry point",
			base);
	int fd = cached_plan(argc, argv, &say, &say_len, &entry);
	if (fd < 0) {
		free(entry);
		node_cli(argv);
	}
	if (say_len)
		(void)write_all(2, say, say_len);
	free(entry);
	/* The shim's own command line; a plan gone stale before it is
	 * mounted is planned again by the Node CLI (the shim's --replan). */
	char fdarg[16];
	snprintf(fdarg, sizeof fdarg, "%d", fd);
	char **sargv = calloc((size_t)argc + 5, sizeof *sargv);
	if (!sargv)
		die("start", "allocate");
	sargv[0] = "tsjail-shim", sargv[1] = "--plan-fd", sargv[2] = fdarg, sargv[3] = "--replan";
	sargv[4] = (char *)cli_path();
	for (int j = 1; j < argc; j++)
		sargv[4 + j] = argv[j];
	return shim_main(argc + 4, sargv);
}
