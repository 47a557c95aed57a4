/*
 * plan-test.c - unit tests of plan_parse (plan.c), printed as TAP.
 *
 * Each test builds a plan with the small writer below, parses it and checks
 * either the decoded structs or that parsing failed with the expected
 * message. `make check` builds this with ASan and UBSan, so an out-of-bounds
 * read or a leak on any error path fails the run too.
 */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_no, failures;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures += !cond;
}

/* A plan under construction: 16 header bytes, then records. */
struct pb {
	uint8_t d[1 << 17];
	size_t n, rec;
	uint32_t count;
};

static void put(struct pb *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void le(uint8_t *at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static void u16(struct pb *b, uint16_t v)
{
	le(b->d + b->n, v, 2);
	b->n += 2;
}
static void u32(struct pb *b, uint32_t v)
{
	le(b->d + b->n, v, 4);
	b->n += 4;
}
static void u64(struct pb *b, uint64_t v)
{
	le(b->d + b->n, v, 8);
	b->n += 8;
}
static void strn(struct pb *b, const char *s, size_t n)
{
	u32(b, (uint32_t)n);
	put(b, s, n);
}
static void str(struct pb *b, const char *s)
{
	strn(b, s, strlen(s));
}

static void begin(struct pb *b, uint16_t type)
{
	b->rec = b->n;
	u16(b, type);
	u16(b, 0);
	u32(b, 0);
	b->count++;
}

static void end(struct pb *b)
{
	le(b->d + b->rec + 4, b->n - b->rec - 8, 4);
}

static void init(struct pb *b)
{
	b->n = 16;
	b->count = 0;
}

static size_t finish(struct pb *b)
{
	le(b->d, 0x504A5354, 4);
	le(b->d + 4, 1, 4);
	le(b->d + 8, b->n, 4);
	le(b->d + 12, b->count, 4);
	return b->n;
}

static void rec_str(struct pb *b, uint16_t type, const char *s)
{
	begin(b, type);
	str(b, s);
	end(b);
}

static void rec_u32(struct pb *b, uint16_t type, uint32_t v)
{
	begin(b, type);
	u32(b, v);
	end(b);
}

/* The required records: IDS, one ARGV, EXEC. */
static void minimal(struct pb *b)
{
	init(b);
	begin(b, R_IDS);
	u32(b, 1000);
	u32(b, 1000);
	end(b);
	rec_str(b, R_ARGV, "sh");
	begin(b, R_EXEC);
	str(b, "sh");
	str(b, "/usr/bin:/bin");
	end(b);
}

static struct pb B;

/* Parse B and expect failure with WANT in the message. */
static void bad(const char *want, const char *what)
{
	struct plan p;
	char err[256];
	size_t len = finish(&B);
	int r = plan_parse(B.d, len, &p, err, sizeof err);

	ok(r == -1 && strstr(err, want) != NULL, "rejects %s (%s)", what,
	   r == -1 ? err : "accepted");
}

static void bad_mount_path(uint16_t type, const char *path, const char *what)
{
	minimal(&B);
	begin(&B, type);
	str(&B, path);
	end(&B);
	bad("not an absolute normalised path", what);
}

static void test_good(void)
{
	struct plan p;
	char err[256];
	static const uint8_t insn[16] = { 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f,
					  0x06, 0, 0, 0, 0, 0, 0xff, 0x7f };

	minimal(&B);
	ok(plan_parse(B.d, finish(&B), &p, err, sizeof err) == 0, "minimal plan parses (%s)", err);
	ok(p.uid == 1000 && p.argc == 1 && strcmp(p.argv[0], "sh") == 0 && !p.argv[1] &&
		   strcmp(p.search_path, "/usr/bin:/bin") == 0 && p.envc == 0 && !p.envp[0] &&
		   !p.hostname,
	   "minimal plan decodes");
	plan_free(&p);

	minimal(&B);
	rec_u32(&B, R_NAMESPACES, 1);
	rec_str(&B, R_HOSTNAME, "box");
	rec_u32(&B, R_VERBOSE, 1);
	begin(&B, R_TMPFS);
	str(&B, "/");
	u32(&B, 0755);
	u64(&B, 1 << 20);
	u32(&B, 0xf);
	end(&B);
	begin(&B, R_BIND);
	str(&B, "/usr");
	str(&B, "/usr");
	u64(&B, 7);
	u64(&B, 9);
	u32(&B, 1);
	u32(&B, 1);
	end(&B);
	begin(&B, R_MKDIR);
	str(&B, "/a/b");
	u32(&B, 0700);
	end(&B);
	begin(&B, R_SYMLINK);
	str(&B, "usr/bin");
	str(&B, "/bin");
	end(&B);
	begin(&B, R_FILE);
	str(&B, "/etc/x");
	u32(&B, 0644);
	strn(&B, "a\0b", 3);
	end(&B);
	rec_str(&B, R_PROC, "/proc");
	begin(&B, R_DEVBIND);
	str(&B, "/dev/null");
	str(&B, "/dev/null");
	u64(&B, 0x103);
	end(&B);
	rec_str(&B, R_DEVPTS, "/dev/pts");
	begin(&B, R_REMOUNT);
	str(&B, "/");
	u32(&B, 1);
	end(&B);
	begin(&B, R_BINDSELF);
	str(&B, "/proc/sys");
	u32(&B, 1);
	end(&B);
	begin(&B, R_DENY);
	str(&B, "/home/.ssh");
	u32(&B, 1);
	end(&B);
	rec_str(&B, R_CHDIR, "/home");
	begin(&B, R_RLIMIT);
	u32(&B, 7);
	u64(&B, 1024);
	u64(&B, UINT64_MAX);
	end(&B);
	rec_str(&B, R_ENV, "PATH=/usr/bin");
	rec_str(&B, R_ENV, "EMPTY=");
	rec_str(&B, R_ARGV, "");
	begin(&B, R_LANDLOCK);
	u32(&B, 6);
	u64(&B, 0xffff);
	u64(&B, 3);
	u64(&B, 3);
	u32(&B, 0);
	end(&B);
	begin(&B, R_LL_PATH);
	str(&B, "/usr");
	u64(&B, 5);
	end(&B);
	begin(&B, R_LL_PORT);
	u64(&B, 443);
	u64(&B, 2);
	end(&B);
	begin(&B, R_SECCOMP);
	u32(&B, 0);
	strn(&B, (const char *)insn, sizeof insn);
	end(&B);
	ok(plan_parse(B.d, finish(&B), &p, err, sizeof err) == 0,
	   "plan with every record type parses (%s)", err);
	ok(p.ns_flags == 1 && strcmp(p.hostname, "box") == 0 && p.verbose == 1 && p.nmounts == 11,
	   "setup records and 11 mounts decode");
	ok(p.mounts[0].type == R_TMPFS && p.mounts[0].mode == 0755 && p.mounts[0].size == 1 << 20 &&
		   p.mounts[0].flags == 0xf,
	   "TMPFS fields");
	ok(p.mounts[1].type == R_BIND && strcmp(p.mounts[1].src, "/usr") == 0 &&
		   p.mounts[1].dev == 7 && p.mounts[1].ino == 9 && p.mounts[1].kind == 1,
	   "BIND fields");
	ok(p.mounts[4].datalen == 3 && memcmp(p.mounts[4].data, "a\0b", 3) == 0,
	   "FILE content may hold NUL");
	ok(strcmp(p.mounts[3].src, "usr/bin") == 0 && strcmp(p.mounts[3].dest, "/bin") == 0,
	   "SYMLINK fields");
	ok(p.mounts[6].dev == 0x103, "DEVBIND rdev");
	ok(strcmp(p.chdir, "/home") == 0 && p.nrlimits == 1 && p.rlimits[0].hard == UINT64_MAX,
	   "process records");
	ok(p.envc == 2 && strcmp(p.envp[1], "EMPTY=") == 0 && !p.envp[2],
	   "ENV in order, NULL-terminated");
	ok(p.argc == 2 && p.argv[1][0] == '\0' && !p.argv[2], "ARGV keeps an empty argument");
	ok(p.has_landlock && p.ll_abi == 6 && p.ll_scoped == 3 && p.nll_rules == 2 &&
		   strcmp(p.ll_rules[0].path, "/usr") == 0 && !p.ll_rules[1].path &&
		   p.ll_rules[1].port == 443,
	   "Landlock records");
	ok(p.has_seccomp && p.seccomp_len == 16 && memcmp(p.seccomp_prog, insn, 16) == 0,
	   "SECCOMP program");
	plan_free(&p);
}

static void test_header(void)
{
	struct plan p;
	char err[256];

	ok(plan_parse(B.d, 8, &p, err, sizeof err) == -1 && strstr(err, "shorter"),
	   "rejects 8 bytes");
	minimal(&B);
	finish(&B);
	B.d[0] ^= 1;
	ok(plan_parse(B.d, B.n, &p, err, sizeof err) == -1 && strstr(err, "magic"),
	   "rejects bad magic");
	minimal(&B);
	finish(&B);
	B.d[4] = 2;
	ok(plan_parse(B.d, B.n, &p, err, sizeof err) == -1 && strstr(err, "version"),
	   "rejects version 2");
	minimal(&B);
	finish(&B);
	ok(plan_parse(B.d, B.n - 1, &p, err, sizeof err) == -1 && strstr(err, "header says"),
	   "rejects a length that does not match");
	minimal(&B);
	B.count++;
	bad("past the end", "a count larger than the records");
	minimal(&B);
	B.count--;
	bad("after the last record", "trailing bytes");
	minimal(&B);
	B.count = 65537;
	bad("exceed", "more than 65536 records");
	minimal(&B);
	finish(&B);
	ok(plan_parse(B.d, B.n, &p, NULL, 0) == 0, "parses with no error buffer");
	plan_free(&p);
	B.d[0] ^= 1;
	ok(plan_parse(B.d, B.n, &p, NULL, 0) == -1, "fails with no error buffer");
}

static void test_framing(void)
{
	minimal(&B);
	rec_u32(&B, 99, 0);
	bad("unknown type 99", "an unknown record type");
	minimal(&B);
	rec_u32(&B, R_VERBOSE, 0);
	B.d[B.rec + 2] = 1;
	bad("reserved", "reserved != 0");
	minimal(&B);
	begin(&B, R_VERBOSE);
	u32(&B, 0);
	u32(&B, 0);
	end(&B);
	bad("left over", "a payload with trailing bytes");
	minimal(&B);
	begin(&B, R_VERBOSE);
	u16(&B, 0);
	end(&B);
	bad("too short", "a short payload");
	minimal(&B);
	begin(&B, R_IDS);
	u32(&B, 1);
	u32(&B, 1);
	end(&B);
	bad("second IDS", "a duplicate IDS");
	minimal(&B);
	rec_str(&B, R_CHDIR, "/");
	rec_str(&B, R_CHDIR, "/");
	bad("second CHDIR", "a duplicate CHDIR");
	init(&B);
	rec_str(&B, R_ARGV, "x");
	bad("no IDS", "a plan without IDS");
	init(&B);
	begin(&B, R_IDS);
	u32(&B, 1);
	u32(&B, 1);
	end(&B);
	rec_str(&B, R_ARGV, "x");
	bad("no EXEC", "a plan without EXEC");
	init(&B);
	begin(&B, R_IDS);
	u32(&B, 1);
	u32(&B, 1);
	end(&B);
	begin(&B, R_EXEC);
	str(&B, "x");
	str(&B, "");
	end(&B);
	bad("no ARGV", "a plan without ARGV");
}

static void test_fields(void)
{
	char big[4098];

	memset(big, 'a', sizeof big);
	minimal(&B);
	begin(&B, R_ARGV);
	strn(&B, big, 4097);
	end(&B);
	bad("exceeds 4096", "a string over 4096 bytes");
	minimal(&B);
	begin(&B, R_ARGV);
	strn(&B, big, 4096);
	end(&B);
	finish(&B);
	{
		struct plan p;
		char err[256];
		ok(plan_parse(B.d, B.n, &p, err, sizeof err) == 0, "accepts a 4096-byte string");
		plan_free(&p);
	}
	minimal(&B);
	begin(&B, R_ARGV);
	strn(&B, "a\0b", 3);
	end(&B);
	bad("NUL", "a string with NUL");
	minimal(&B);
	begin(&B, R_ARGV);
	u32(&B, 0xffffffffu);
	end(&B);
	bad("exceeds", "a huge string length");
	minimal(&B);
	begin(&B, R_ARGV);
	u32(&B, 10);
	put(&B, "abc", 3);
	end(&B);
	bad("too short", "a string longer than its record");

	bad_mount_path(R_PROC, "proc", "a relative path");
	bad_mount_path(R_PROC, "", "an empty path");
	bad_mount_path(R_PROC, "/a//b", "an empty segment");
	bad_mount_path(R_PROC, "/a/./b", "a . segment");
	bad_mount_path(R_PROC, "/a/..", "a .. segment");
	bad_mount_path(R_PROC, "/a/", "a trailing slash");
	bad_mount_path(R_CHDIR, "//", "// as a path");

	minimal(&B);
	begin(&B, R_TMPFS);
	str(&B, "/t");
	u32(&B, 0755);
	u64(&B, 0);
	u32(&B, 0x10);
	end(&B);
	bad("mount flag", "unknown mount flags");
	minimal(&B);
	begin(&B, R_MKDIR);
	str(&B, "/t");
	u32(&B, 010000);
	end(&B);
	bad("07777", "a mode above 07777");
	minimal(&B);
	begin(&B, R_BIND);
	str(&B, "/a");
	str(&B, "/a");
	u64(&B, 1);
	u64(&B, 1);
	u32(&B, 3);
	u32(&B, 0);
	end(&B);
	bad("kind", "BIND kind 3");
	minimal(&B);
	begin(&B, R_DENY);
	str(&B, "/a");
	u32(&B, 0);
	end(&B);
	bad("kind", "DENY kind 0");
	minimal(&B);
	begin(&B, R_SYMLINK);
	str(&B, "");
	str(&B, "/a");
	end(&B);
	bad("empty symlink target", "an empty symlink target");
	minimal(&B);
	rec_u32(&B, R_NAMESPACES, 2);
	bad("namespace flag", "unknown namespace flags");
	minimal(&B);
	memset(big, 'h', 65);
	begin(&B, R_HOSTNAME);
	strn(&B, big, 65);
	end(&B);
	bad("hostname", "a 65-byte hostname");
	minimal(&B);
	rec_str(&B, R_ENV, "NOEQUALS");
	bad("NAME=VALUE", "ENV without =");
	minimal(&B);
	rec_str(&B, R_ENV, "=x");
	bad("NAME=VALUE", "ENV with an empty name");
	minimal(&B);
	begin(&B, R_RLIMIT);
	u32(&B, 16);
	u64(&B, 0);
	u64(&B, 0);
	end(&B);
	bad("resource", "an unknown rlimit resource");
	minimal(&B);
	begin(&B, R_RLIMIT);
	u32(&B, 7);
	u64(&B, 2);
	u64(&B, 1);
	end(&B);
	bad("soft limit", "soft above hard");
	minimal(&B);
	B.rec = 16;
	le(B.d + 16 + 8, 0xffffffffu, 4);
	bad("4294967295", "uid -1");
	minimal(&B);
	begin(&B, R_EXEC);
	str(&B, "");
	str(&B, "");
	end(&B);
	bad("second EXEC", "a duplicate EXEC");
}

static void test_security(void)
{
	uint8_t insns[4097 * 8] = { 0 };

	minimal(&B);
	begin(&B, R_LL_PATH);
	str(&B, "/usr");
	u64(&B, 1);
	end(&B);
	bad("without a LANDLOCK", "LL_PATH without LANDLOCK");
	minimal(&B);
	begin(&B, R_LL_PORT);
	u64(&B, 80);
	u64(&B, 1);
	end(&B);
	bad("without a LANDLOCK", "LL_PORT without LANDLOCK");
	minimal(&B);
	begin(&B, R_LANDLOCK);
	u32(&B, 3);
	u64(&B, 1);
	u64(&B, 1);
	u64(&B, 0);
	u32(&B, 0);
	end(&B);
	bad("need abi 4", "net rights at ABI 3");
	minimal(&B);
	begin(&B, R_LANDLOCK);
	u32(&B, 5);
	u64(&B, 1);
	u64(&B, 0);
	u64(&B, 1);
	u32(&B, 0);
	end(&B);
	bad("need abi 6", "scoped rights at ABI 5");
	minimal(&B);
	begin(&B, R_LANDLOCK);
	u32(&B, 0);
	u64(&B, 1);
	u64(&B, 0);
	u64(&B, 0);
	u32(&B, 0);
	end(&B);
	bad("abi 0", "ABI 0");
	minimal(&B);
	begin(&B, R_LANDLOCK);
	u32(&B, 4);
	u64(&B, 1);
	u64(&B, 1);
	u64(&B, 0);
	u32(&B, 0);
	end(&B);
	begin(&B, R_LL_PORT);
	u64(&B, 65536);
	u64(&B, 1);
	end(&B);
	bad("65535", "port 65536");
	minimal(&B);
	begin(&B, R_SECCOMP);
	u32(&B, 0);
	strn(&B, (const char *)insns, 12);
	end(&B);
	bad("multiple of 8", "a 12-byte seccomp program");
	minimal(&B);
	begin(&B, R_SECCOMP);
	u32(&B, 0);
	strn(&B, "", 0);
	end(&B);
	bad("multiple of 8", "an empty seccomp program");
	minimal(&B);
	begin(&B, R_SECCOMP);
	u32(&B, 0);
	strn(&B, (const char *)insns, 4097 * 8);
	end(&B);
	bad("exceeds", "4097 seccomp instructions");
	minimal(&B);
	begin(&B, R_SECCOMP);
	u32(&B, 0);
	strn(&B, (const char *)insns, 4096 * 8);
	end(&B);
	finish(&B);
	{
		struct plan p;
		char err[256];
		ok(plan_parse(B.d, B.n, &p, err, sizeof err) == 0,
		   "accepts 4096 seccomp instructions");
		plan_free(&p);
	}
}

/* Every prefix and every single-byte corruption of a full plan must be
 * handled without a crash (ASan/UBSan watch). */
static void test_mutations(void)
{
	struct plan p;
	char err[256];
	static uint8_t copy[1 << 12];
	int accepted = 0;

	test_good(); /* leaves the full plan in B */
	size_t len = B.n;
	for (size_t cut = 0; cut < len; cut++)
		accepted += plan_parse(B.d, cut, &p, err, sizeof err) == 0;
	ok(accepted == 0, "no strict prefix of a plan parses");
	for (size_t i = 0; i < len && len <= sizeof copy; i++) {
		memcpy(copy, B.d, len);
		copy[i] ^= 0xff;
		if (plan_parse(copy, len, &p, err, sizeof err) == 0)
			plan_free(&p);
	}
	ok(1, "%zu single-byte corruptions parsed without a crash", len);
}

static void test_lifeline(void)
{
	struct plan p;
	char err[256];

	minimal(&B);
	rec_u32(&B, R_LIFELINE, 7);
	rec_u32(&B, R_LIFELINE, 3);
	ok(plan_parse(B.d, finish(&B), &p, err, sizeof err) == 0, "two LIFELINE records parse (%s)",
	   err);
	ok(p.nlifelines == 2 && p.lifelines[0] == 7 && p.lifelines[1] == 3,
	   "LIFELINE fds decode in order");
	plan_free(&p);
	minimal(&B);
	rec_u32(&B, R_LIFELINE, 2);
	bad("fd below 3", "a LIFELINE on stdio");
	minimal(&B);
	rec_u32(&B, R_LIFELINE, 0x80000000u);
	bad("above INT_MAX", "a LIFELINE fd that is no int");
	minimal(&B);
	rec_u32(&B, R_LIFELINE, 5);
	rec_u32(&B, R_LIFELINE, 5);
	bad("listed twice", "the same LIFELINE fd twice");
	minimal(&B);
	for (unsigned i = 0; i <= PLAN_MAX_LIFELINES; i++)
		rec_u32(&B, R_LIFELINE, 3 + i);
	bad("more than 16 LIFELINE", "17 LIFELINE records");
}

static void rec_tty(struct pb *b, const char *devpts, uint32_t fds, uint32_t flags)
{
	begin(b, R_TTY);
	str(b, devpts);
	u32(b, fds);
	u32(b, flags);
	end(b);
}

static void test_tty(void)
{
	struct plan p;
	char err[256];

	minimal(&B);
	rec_tty(&B, "/dev/pts", 5, PLAN_TTY_RAW);
	rec_str(&B, R_DEVPTS, "/dev/pts");
	ok(plan_parse(B.d, finish(&B), &p, err, sizeof err) == 0,
	   "a TTY record before its DEVPTS parses (%s)", err);
	ok(p.tty_fds == 5 && p.tty_flags == PLAN_TTY_RAW && strcmp(p.tty_devpts, "/dev/pts") == 0,
	   "TTY fields decode");
	plan_free(&p);
	minimal(&B);
	rec_tty(&B, "/dev/pts", 1, 0);
	bad("no DEVPTS record mounts /dev/pts", "a TTY without its devpts");
	static const struct {
		uint32_t fds, flags;
		const char *want, *what;
	} cases[] = {
		{ 0, 0, "non-empty set", "a TTY naming no descriptor" },
		{ 8, 0, "non-empty set", "a TTY naming fd 3" },
		{ 1, 2, "unknown tty flag", "unknown TTY flags" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		minimal(&B);
		rec_str(&B, R_DEVPTS, "/dev/pts");
		rec_tty(&B, "/dev/pts", cases[i].fds, cases[i].flags);
		bad(cases[i].want, cases[i].what);
	}
	minimal(&B);
	rec_str(&B, R_DEVPTS, "/dev/pts");
	rec_tty(&B, "/dev/pts", 1, 0);
	rec_tty(&B, "/dev/pts", 2, 0);
	bad("a second TTY", "two TTY records");
}

int main(void)
{
	test_good();
	test_lifeline();
	test_tty();
	test_header();
	test_framing();
	test_fields();
	test_security();
	test_mutations();
	printf("1..%d\n", test_no);
	return failures != 0;
}
