/*
 * report.c - the refusals a sandbox meets, said to the user (REPORT).
 *
 * The seccomp filter TypeScript compiled for a REPORT plan answers the
 * calls it refuses with SECCOMP_RET_USER_NOTIF instead of
 * SECCOMP_RET_ERRNO, and the plan lists each such call with the errno the
 * plain filter would have returned (REPORT_SYSCALL). The *reporter*, a
 * process beside the sandbox forked by the monitor (it dies with it:
 * PR_SET_PDEATHSIG), holds the filter's listener: for each notification it
 * answers with exactly that errno (the program sees what it would have
 * seen without the report), then writes TypeScript's JSON object for the
 * call, completed with the call's arguments, as one line on the report
 * descriptor, and counts it for the summary said on stderr at the end.
 *
 * Why user notification and not another mechanism: it works unprivileged
 * (no_new_privs is set anyway), needs no ptrace (which the sandbox's
 * programs may then use themselves, and which Yama may restrict), and only
 * refused calls go through the reporter: an allowed call costs what it
 * costs without the report. SECCOMP_RET_TRAP with a SIGSYS handler cannot
 * survive execve, and SECCOMP_RET_LOG goes to the audit log, which only
 * root reads.
 *
 * The listener's descriptor is made by the program's process when it loads
 * the filter, the last thing before execve, and must reach the reporter
 * outside. After the filter, the program's process may only make the calls
 * every filter allows (write, execve, exit). So, before the filter, it
 * forks a helper that shares its descriptor table (CLONE_FILES) and whose
 * parent is init (CLONE_PARENT: the program never sees a child it did not
 * make; init reaps it). The program's process loads the filter, writes the
 * listener's number on a pipe (write is allowed) and execs; execve gives it
 * a table of its own without the close-on-exec listener, while the helper
 * keeps the shared one, so it can read the number and send the listener to
 * the reporter (SCM_RIGHTS) at its own pace, and exit. The helper is not
 * under the filter (it was forked before it), but it runs nothing but this.
 */
#include "report.h"
#include "seccomp.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int report_sock = -1;

static void send_fd(int sock, int fd)
{
	char byte = 'N';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the reader went away: the refusals still hold */
		s += w;
		n -= (size_t)w;
	}
}

/* A growing string for the JSON lines and the summary. */
struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *s = realloc(b->s, cap);
		if (!s)
			return;
		b->s = s;
		b->cap = cap;
	}
}

/* S as a JSON string. */
static void buf_json_str(struct buf *b, const char *s)
{
	buf_add(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_add(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_add(b, "\\u%04x", *p);
		else
			buf_add(b, "%c", *p);
	}
	buf_add(b, "\"");
}

/* The NUL-terminated string at ADDR in process PID, into OUT[PATH_MAX]. */
static int read_string(pid_t pid, uint64_t addr, char *out, size_t cap)
{
	size_t got = 0;
	/* Page by page: a string near the end of a mapping must not fail for
	 * the bytes after it. */
	while (got + 1 < cap) {
		size_t page = 4096 - ((addr + got) & 4095);
		size_t want = page < cap - 1 - got ? page : cap - 1 - got;
		struct iovec local = { .iov_base = out + got, .iov_len = want };
		struct iovec remote = { .iov_base = (void *)(uintptr_t)(addr + got),
					.iov_len = want };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -1;
		if (memchr(out + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	out[cap - 1] = '\0';
	return -1; /* longer than PATH_MAX */
}

/* The sandbox's view of PATH as process PID resolves it (relative to its
 * working directory or to descriptor DIRFD), into OUT[cap]. */
static int sandbox_path(pid_t pid, const char *path, long dirfd, int has_dirfd, char *out,
			size_t cap)
{
	if (path[0] == '/')
		return snprintf(out, cap, "%s", path) < (int)cap ? 0 : -1;
	char link[64], base[PATH_MAX];
	if (!has_dirfd || dirfd == AT_FDCWD)
		snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof link, "/proc/%d/fd/%ld", (int)pid, dirfd);
	ssize_t n = readlink(link, base, sizeof base - 1);
	if (n <= 0 || base[0] != '/')
		return -1;
	base[n] = '\0';
	return snprintf(out, cap, "%s%s%s", base, n > 1 ? "/" : "", path) < (int)cap ? 0 : -1;
}

/* connect(fd, addr, len) and sendto(fd, buf, n, flags, addr, len): the
 * calls whose address learning says. */
static int is_address_call(uint32_t nr)
{
	return nr == SYS_connect || nr == SYS_sendto;
}

/* The address call NR of process PID names, as JSON members: "family" and
 * "path" (a unix socket; "abstract" for one in the abstract namespace), or
 * "host" and "port". Nothing when there is none or it cannot be read. */
static void add_address(struct buf *b, uint32_t nr, pid_t pid, const __u64 args[6])
{
	__u64 addr = nr == SYS_connect ? args[1] : args[4];
	__u64 len = nr == SYS_connect ? args[2] : args[5];
	struct sockaddr_storage ss;
	if (!addr || len < sizeof(sa_family_t))
		return;
	if (len > sizeof ss)
		len = sizeof ss;
	memset(&ss, 0, sizeof ss);
	struct iovec local = { .iov_base = &ss, .iov_len = (size_t)len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = (size_t)len };
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return;
	char text[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		size_t n = (size_t)len - offsetof(struct sockaddr_un, sun_path);
		if ((size_t)len <= offsetof(struct sockaddr_un, sun_path))
			return;
		char path[sizeof un->sun_path + 1];
		int abstract = un->sun_path[0] == '\0';
		memcpy(path, un->sun_path + abstract, n - (size_t)abstract);
		path[n - (size_t)abstract] = '\0';
		buf_add(b, ",\"family\":\"unix\",\"%s\":", abstract ? "abstract" : "path");
		buf_json_str(b, path);
	} else if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text))
			buf_add(b, ",\"family\":\"inet\",\"host\":\"%s\",\"port\":%u", text,
				ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text))
			buf_add(b, ",\"family\":\"inet6\",\"host\":\"%s\",\"port\":%u", text,
				ntohs(in6->sin6_port));
	}
}

/* Landlock's filesystem rights (LANDLOCK_ACCESS_FS_*: bit N is LL_NAMES[N]),
 * declared here as landlock.c does: the build host's headers may be older. */
static const char *const LL_NAMES[] = { "execute",    "write_file",  "read_file", "read_dir",
					"remove_dir", "remove_file", "make_char", "make_dir",
					"make_reg",   "make_sock",   "make_fifo", "make_block",
					"make_sym",   "refer",       "truncate",  "ioctl_dev" };
#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_REMOVE_DIR (1ULL << 4)
#define LL_REMOVE_FILE (1ULL << 5)
#define LL_MAKE_CHAR (1ULL << 6)
#define LL_MAKE_DIR (1ULL << 7)
#define LL_MAKE_REG (1ULL << 8)
#define LL_MAKE_SOCK (1ULL << 9)
#define LL_MAKE_FIFO (1ULL << 10)
#define LL_MAKE_BLOCK (1ULL << 11)
#define LL_MAKE_SYM (1ULL << 12)
#define LL_TRUNCATE (1ULL << 14)

/* IN made lexically normal (absolute, no ".", "..", "//" or trailing "/")
 * into OUT[cap]; -1 when it does not fit. */
static int normalize(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	if (cap < 2 || in[0] != '/')
		return -1;
	out[n++] = '/';
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 1 && out[n - 1] != '/')
				n--;
			if (n > 1)
				n--;
		} else {
			if (n + len + 2 > cap)
				return -1;
			if (n > 1)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = e;
	}
	out[n] = '\0';
	return 0;
}

/* Whether P is DIR or below it (both normal). */
static int beneath(const char *p, const char *dir)
{
	if (strcmp(dir, "/") == 0)
		return 1;
	size_t n = strlen(dir);
	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* The rights the LANDLOCK rules grant at P: those of every rule at P or
 * above it (a rule on a directory covers what is beneath). */
static uint64_t ll_granted(const struct plan *plan, const char *p)
{
	uint64_t a = 0;
	for (size_t i = 0; i < plan->nll_rules; i++)
		if (plan->ll_rules[i].path && beneath(p, plan->ll_rules[i].path))
			a |= plan->ll_rules[i].access;
	return a;
}

/* Whether no component of P, itself included, is a symbolic link in
 * process PID's tree: only then are the rules' paths P's (P is the file an
 * open, exec or truncate follows links to, or the directory of an entry). */
static int no_links(pid_t pid, const char *p)
{
	char inside[PATH_MAX + 32];
	int base = snprintf(inside, sizeof inside, "/proc/%d/root", (int)pid);
	if (base < 0 || (size_t)base + strlen(p) >= sizeof inside)
		return 0;
	memcpy(inside + base, p, strlen(p) + 1);
	for (char *c = inside + base + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		int end = *c == '\0';
		char keep = *c;
		*c = '\0';
		struct stat st;
		int link = lstat(inside, &st) == 0 && S_ISLNK(st.st_mode);
		*c = keep;
		if (link)
			return 0;
		if (end)
			return 1;
	}
}

/* The open flags of an openat2 call (the first member of its open_how). */
static uint64_t how_flags(pid_t pid, uint64_t addr)
{
	uint64_t fl = 0;
	struct iovec local = { .iov_base = &fl, .iov_len = sizeof fl };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof fl };
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof fl)
		return 0;
	return fl;
}

/* The Landlock rights call NR on WHERE needs (0: none that tsjail
 * attributes), and in AT the path they are checked at: WHERE itself, or its
 * directory for a call that makes or removes an entry. EXISTS and MODE:
 * what the sandbox has at WHERE before the call. */
static uint64_t ll_needed(uint32_t nr, pid_t pid, const __u64 args[6],
			  const struct plan_report_path *rp, const char *where, int exists,
			  mode_t mode, char *at, size_t cap)
{
	int is_dir = exists && S_ISDIR(mode);
	snprintf(at, cap, "%s", where);
	uint64_t need = 0;
	int entry = 0;
	long nrl = (long)nr;
	if (nrl == SYS_execve || nrl == SYS_execveat)
		return exists && !is_dir ? LL_EXECUTE : 0;
	int is_open = nrl == SYS_openat || nrl == SYS_openat2;
#ifdef SYS_open
	is_open |= nrl == SYS_open;
#endif
#ifdef SYS_creat
	is_open |= nrl == SYS_creat;
#endif
	if (is_open) {
		uint64_t fl = nrl == SYS_openat2  ? how_flags(pid, args[2])
			      : rp->flags_arg < 6 ? args[rp->flags_arg]
						  : (uint64_t)(O_CREAT | O_WRONLY | O_TRUNC);
		if (exists && !is_dir) {
			if ((fl & O_ACCMODE) != O_RDONLY)
				need |= LL_WRITE_FILE;
			/* O_TRUNC truncates (and Landlock checks it) on regular files only. */
			if ((fl & O_TRUNC) && S_ISREG(mode))
				need |= LL_TRUNCATE;
		} else if (!exists && (fl & O_CREAT)) {
			need = LL_MAKE_REG;
			entry = 1;
		}
	} else if (nrl == SYS_mkdirat
#ifdef SYS_mkdir
		   || nrl == SYS_mkdir
#endif
	) {
		need = exists ? 0 : LL_MAKE_DIR;
		entry = 1;
	} else if (nrl == SYS_unlinkat) {
		need = !exists                    ? 0
		       : (args[2] & AT_REMOVEDIR) ? LL_REMOVE_DIR
		       : is_dir                   ? 0
						  : LL_REMOVE_FILE;
		entry = 1;
#ifdef SYS_unlink
	} else if (nrl == SYS_unlink) {
		need = exists && !is_dir ? LL_REMOVE_FILE : 0;
		entry = 1;
#endif
#ifdef SYS_rmdir
	} else if (nrl == SYS_rmdir) {
		need = exists && is_dir ? LL_REMOVE_DIR : 0;
		entry = 1;
#endif
	} else if (nrl == SYS_symlinkat
#ifdef SYS_symlink
		   || nrl == SYS_symlink
#endif
		   || nrl == SYS_linkat
#ifdef SYS_link
		   || nrl == SYS_link
#endif
	) {
		need = exists ? 0 : nrl == SYS_linkat ? LL_MAKE_REG : LL_MAKE_SYM;
#ifdef SYS_link
		if (nrl == SYS_link)
			need = exists ? 0 : LL_MAKE_REG;
#endif
		entry = 1;
	} else if (nrl == SYS_mknodat
#ifdef SYS_mknod
		   || nrl == SYS_mknod
#endif
	) {
		unsigned made = (unsigned)args[nrl == SYS_mknodat ? 2 : 1];
		need = exists           ? 0
		       : S_ISFIFO(made) ? LL_MAKE_FIFO
		       : S_ISSOCK(made) ? LL_MAKE_SOCK
		       : S_ISCHR(made)  ? LL_MAKE_CHAR
		       : S_ISBLK(made)  ? LL_MAKE_BLOCK
					: LL_MAKE_REG;
		entry = 1;
	} else if (nrl == SYS_truncate) {
		need = exists && S_ISREG(mode) ? LL_TRUNCATE : 0;
	}
	if (entry && need) {
		char *slash = strrchr(at, '/');
		if (!slash || slash[1] == '\0')
			return 0;
		if (slash == at)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return need;
}

/* Whether call NR may need a right the reporter attributes: not an open to
 * read only (the most frequent call, which then costs nothing more). */
static int ll_candidate(uint32_t nr, pid_t pid, const __u64 args[6],
			const struct plan_report_path *rp)
{
	long nrl = (long)nr;
	uint64_t fl;
	if (nrl == SYS_openat2)
		fl = how_flags(pid, args[2]);
	else if (nrl == SYS_openat
#ifdef SYS_open
		 || nrl == SYS_open
#endif
	)
		fl = rp->flags_arg < 6 ? args[rp->flags_arg] : 0;
	else
		return 1;
	return (fl & O_ACCMODE) != O_RDONLY || (fl & (O_CREAT | O_TRUNC));
}

/* The "syscall" member of a REPORT_PATH's JSON, into OUT (empty when none). */
static void json_syscall(const char *json, char *out, size_t cap)
{
	out[0] = '\0';
	const char *k = strstr(json, "\"syscall\":\"");
	if (!k)
		return;
	k += strlen("\"syscall\":\"");
	size_t n = 0;
	while (k[n] && k[n] != '"' && n + 1 < cap) {
		out[n] = k[n];
		n++;
	}
	out[n] = '\0';
}

/* HEAD, the N ITEMS (NULL ones left out) separated by SEP, and TAIL, on stderr. */
static void say_list(const char *head, char *const *items, size_t n, const char *sep,
		     const char *tail)
{
	write_all(STDERR_FILENO, head, strlen(head));
	for (size_t i = 0, said = 0; i < n; i++) {
		if (!items[i])
			continue;
		if (said++)
			write_all(STDERR_FILENO, sep, strlen(sep));
		write_all(STDERR_FILENO, items[i], strlen(items[i]));
	}
	write_all(STDERR_FILENO, tail, strlen(tail));
}

/* At most this many hidden paths are named in the summary. */
#define SUMMARY_PATHS 8
/* ... and D-Bus names. */
#define SUMMARY_NAMES 8

/* xdg-dbus-proxy's --log, line by line: a call ("C4: -> DEST call MEMBER at
 * PATH") the proxy then hides or denies ("*HIDDEN*", "*DENIED*") is a
 * refused talk to DEST; "Filtering message due to arg0 NAME, policy: P
 * (required 3)" a refused own of NAME (required 2: a talk). */
struct dbus_log {
	char line[1024];
	size_t len;
	char dest[256], member[256];
	unsigned long refused;
	char *names[SUMMARY_NAMES];
	size_t nnames;
};

static void dbus_refused(const struct plan *plan, struct dbus_log *d, const char *name,
			 const char *member, int own)
{
	d->refused++;
	int seen_before = 0;
	for (size_t i = 0; i < d->nnames; i++)
		seen_before |= strcmp(d->names[i], name) == 0;
	if (!seen_before && d->nnames < SUMMARY_NAMES)
		d->names[d->nnames++] = strdup(name);
	if (plan->report_out < 0)
		return;
	struct buf line = { 0 };
	buf_add(&line, "%s,\"name\":", own ? plan->report_dbus_own : plan->report_dbus_talk);
	buf_json_str(&line, name);
	buf_add(&line, ",\"add\":");
	buf_json_str(&line, name);
	if (member[0]) {
		buf_add(&line, ",\"member\":");
		buf_json_str(&line, member);
	}
	buf_add(&line, "}\n");
	if (line.s)
		write_all(plan->report_out, line.s, line.len);
	free(line.s);
}

static void dbus_line(const struct plan *plan, struct dbus_log *d, const char *l)
{
	char dest[256], member[256], name[256];
	unsigned policy, required;
	if (sscanf(l, "C%*u: -> %255s call %255s at", dest, member) == 2) {
		snprintf(d->dest, sizeof d->dest, "%s", dest);
		snprintf(d->member, sizeof d->member, "%s", member);
		return;
	}
	if (sscanf(l, "Filtering message due to arg0 %255[^,], policy: %u (required %u)", name,
		   &policy, &required) == 3) {
		dbus_refused(plan, d, name, "", required >= 3);
		d->dest[0] = '\0'; /* said: not the hidden call's too */
		return;
	}
	if ((strncmp(l, "*HIDDEN*", 8) == 0 || strncmp(l, "*DENIED", 7) == 0) && d->dest[0]) {
		if (strcmp(d->dest, "org.freedesktop.DBus") != 0)
			dbus_refused(plan, d, d->dest, d->member, 0);
		d->dest[0] = '\0';
		return;
	}
	if (l[0] == 'C' || l[0] == 'B')
		d->dest[0] = '\0'; /* another message: the last call went through */
}

/* Whatever the log descriptor has now; returns 0 at its end. */
static int dbus_read(const struct plan *plan, struct dbus_log *d)
{
	char chunk[4096];
	ssize_t n = read(plan->report_dbus_fd, chunk, sizeof chunk);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		if (chunk[i] != '\n') {
			if (d->len + 1 < sizeof d->line)
				d->line[d->len++] = chunk[i];
			continue;
		}
		d->line[d->len] = '\0';
		dbus_line(plan, d, d->line);
		d->len = 0;
	}
	return 1;
}

/* The reporter's loop: answer, write, count, until no process uses the
 * filter any more (POLLHUP); then the summary. */
static _Noreturn void reporter(const struct plan *plan, int sock)
{
	const struct plan_report_syscall *by_nr[PLAN_REPORT_MAX_NR] = { 0 };
	const int learn = (plan->report_flags & PLAN_REPORT_LEARN) != 0;
	const struct plan_report_path *path_nr[PLAN_REPORT_MAX_NR] = { 0 };
	unsigned long counts[PLAN_REPORT_MAX_NR] = { 0 };
	char *hidden[SUMMARY_PATHS];
	size_t nhidden = 0;
	unsigned long hidden_total = 0;
	/* Refusals of the LANDLOCK rules, and up to SUMMARY_PATHS of them for the summary. */
	char *ll_said[SUMMARY_PATHS];
	size_t nll_said = 0;
	unsigned long ll_total = 0;
	struct seccomp_notif_sizes sizes;

	for (size_t i = 0; i < plan->nreport_syscalls; i++)
		by_nr[plan->report_syscalls[i].nr] = &plan->report_syscalls[i];
	for (size_t i = 0; i < plan->nreport_paths; i++)
		path_nr[plan->report_paths[i].nr] = &plan->report_paths[i];
	int listener = recv_fd(sock);
	close(sock);
	if (listener < 0)
		_exit(0); /* the program never got to its filter */
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		_exit(EXIT_SETUP);
	struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
	if (!req || !resp)
		_exit(EXIT_SETUP);
	struct dbus_log dbus = { .len = 0 };
	int dbus_open = plan->report_dbus_fd >= 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = listener, .events = POLLIN },
				       { .fd = dbus_open ? plan->report_dbus_fd : -1,
					 .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLIN | POLLHUP))
			dbus_open = dbus_read(plan, &dbus);
		if (!p[0].revents)
			continue;
		if (!(p[0].revents & POLLIN))
			break; /* POLLHUP: the sandbox is over */
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* the caller died, or was interrupted */
			break;
		}
		uint32_t nr = (uint32_t)req->data.nr;
		const struct plan_report_path *rp = nr < PLAN_REPORT_MAX_NR ? path_nr[nr] : NULL;
		if (rp) {
			/* An allowed call: read its path, let it go on, then look. */
			char path[PATH_MAX], where[PATH_MAX];
			pid_t pid = (pid_t)req->pid;
			int ok = read_string(pid, req->data.args[rp->path_arg], path,
					     sizeof path) == 0 &&
				 path[0] &&
				 sandbox_path(pid, path,
					      (long)(int)req->data.args[rp->dirfd_arg % 6],
					      rp->dirfd_arg != PLAN_REPORT_NO_ARG, where,
					      sizeof where) == 0;
			/* Hidden: the sandbox has nothing there, the host has. Looked
			 * at before the call goes on (an open that creates the file
			 * in a private tmpfs is still an open of a hidden path). */
			char inside[PATH_MAX + 32];
			struct stat st;
			/* Not under /proc: the sandbox has a procfs of its own, whose
			 * self and PIDs mean nothing seen from here (no grant shows
			 * the host's). */
			int is_hidden = ok && strncmp(where, "/proc/", 6) != 0 &&
					snprintf(inside, sizeof inside, "/proc/%d/root%s", (int)pid,
						 where) < (int)sizeof inside &&
					lstat(inside, &st) < 0 && errno == ENOENT &&
					lstat(where, &st) == 0;
			/* Shown, but the LANDLOCK rules do not grant what the call
			 * needs there: the refusal is theirs (or the mount's, which
			 * says the same), found from the plan, as the kernel tells
			 * Landlock's denials only to audit. */
			const struct plan_report_ll *ll = NULL;
			char norm[PATH_MAX], at[PATH_MAX];
			uint64_t missing = 0;
			int by_mount = 0;
			if (ok && !is_hidden && !learn && plan->nreport_ll &&
			    ll_candidate(nr, pid, req->data.args, rp) &&
			    strncmp(where, "/proc/", 6) != 0 &&
			    normalize(where, norm, sizeof norm) == 0 &&
			    snprintf(inside, sizeof inside, "/proc/%d/root%s", (int)pid, norm) <
				    (int)sizeof inside) {
				struct stat ist;
				int exists = lstat(inside, &ist) == 0;
				uint64_t need = ll_needed(nr, pid, req->data.args, rp, norm, exists,
							  exists ? ist.st_mode : 0, at, sizeof at);
				missing = need & plan->ll_fs & ~ll_granted(plan, at);
				/* Else the mount's flags: a read-only view (a read-only
				 * path inside a writable one, which Landlock's rule above
				 * it grants) or a noexec one. */
				struct statvfs sv;
				if (need && !missing &&
				    snprintf(inside, sizeof inside, "/proc/%d/root%s", (int)pid,
					     at) < (int)sizeof inside &&
				    statvfs(inside, &sv) == 0) {
					if (sv.f_flag & ST_RDONLY)
						missing = need & ~LL_EXECUTE;
					if (sv.f_flag & ST_NOEXEC)
						missing |= need & LL_EXECUTE;
					by_mount = missing != 0;
				}
				if (missing && !no_links(pid, at))
					missing = 0;
				for (size_t i = 0; missing && i < plan->nreport_ll; i++) {
					const struct plan_report_ll *r = &plan->report_ll[i];
					if ((r->access & missing) && beneath(at, r->path) &&
					    (!ll || strlen(r->path) > strlen(ll->path)))
						ll = r;
				}
			}
			memset(resp, 0, sizes.seccomp_notif_resp);
			resp->id = req->id;
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
				break;
			if (ll) {
				ll_total++;
				struct buf line = { 0 };
				buf_add(&line, "{\"kind\":\"%s\",%s,\"path\":",
					by_mount ? "mount" : "landlock", ll->json + 1);
				buf_json_str(&line, norm);
				if (strcmp(at, norm) != 0) {
					buf_add(&line, ",\"directory\":");
					buf_json_str(&line, at);
				}
				buf_add(&line, ",\"access\":\"");
				for (unsigned b = 0, k = 0; b < 16; b++)
					if (missing >> b & 1)
						buf_add(&line, "%s%s", k++ ? "," : "", LL_NAMES[b]);
				buf_add(&line, "\"");
				char name[64];
				json_syscall(rp->json, name, sizeof name);
				if (name[0])
					buf_add(&line, ",\"syscall\":\"%s\"", name);
				int seen_before = 0;
				for (size_t i = 0; i < nll_said; i++)
					seen_before |= strcmp(ll_said[i], norm) == 0;
				if (!seen_before && nll_said < SUMMARY_PATHS) {
					struct buf s = { 0 };
					buf_add(&s, "%s (%s)", norm, ll->hint);
					ll_said[nll_said++] = s.s;
				}
				buf_add(&line, "}\n");
				if (line.s && plan->report_out >= 0)
					write_all(plan->report_out, line.s, line.len);
				free(line.s);
				continue;
			}
			/* Learning says every path; reporting, the hidden ones. */
			if (!(learn ? ok : is_hidden))
				continue;
			if (is_hidden) {
				hidden_total++;
				int seen_before = 0;
				for (size_t i = 0; i < nhidden; i++)
					seen_before |= strcmp(hidden[i], where) == 0;
				if (!seen_before && nhidden < SUMMARY_PATHS)
					hidden[nhidden++] = strdup(where);
			}
			if (plan->report_out < 0)
				continue;
			struct buf line = { 0 };
			buf_add(&line, "%s,\"path\":", rp->json);
			buf_json_str(&line, where);
			if (rp->flags_arg != PLAN_REPORT_NO_ARG) {
				uint64_t fl = req->data.args[rp->flags_arg];
				buf_add(&line, ",\"write\":%s",
					(fl & O_ACCMODE) != O_RDONLY || (fl & O_CREAT) ? "true"
										       : "false");
				if (learn)
					buf_add(&line, ",\"directory\":%s",
						fl & O_DIRECTORY ? "true" : "false");
			}
			if (learn)
				buf_add(&line, ",\"hidden\":%s", is_hidden ? "true" : "false");
			buf_add(&line, "}\n");
			if (line.s)
				write_all(plan->report_out, line.s, line.len);
			free(line.s);
			continue;
		}
		const struct plan_report_syscall *r = nr < PLAN_REPORT_MAX_NR ? by_nr[nr] : NULL;
		if (r && r->err == 0) {
			/* Learning: an allowed call goes on; said the first time,
			 * and an address each time one is given. */
			struct buf line = { 0 };
			if (plan->report_out >= 0 && (counts[r->nr]++ == 0 || is_address_call(nr)))
				buf_add(&line, "%s", r->json);
			if (line.s && is_address_call(nr))
				add_address(&line, nr, (pid_t)req->pid, req->data.args);
			memset(resp, 0, sizes.seccomp_notif_resp);
			resp->id = req->id;
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
				break;
			buf_add(&line, "}\n");
			if (line.s && line.len > 2)
				write_all(plan->report_out, line.s, line.len);
			free(line.s);
			continue;
		}
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		/* Not in the plan cannot happen (TypeScript lists every call
		 * it notifies); refused as an unknown call would be. */
		resp->error = -(r ? (int)r->err : ENOSYS);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
			break;
		if (!r)
			continue;
		counts[r->nr]++;
		if (plan->report_out < 0)
			continue;
		struct buf line = { 0 };
		buf_add(&line, "%s,\"args\":[", r->json);
		for (int i = 0; i < 6; i++)
			buf_add(&line, "%s\"0x%llx\"", i ? "," : "",
				(unsigned long long)req->data.args[i]);
		buf_add(&line, "]}\n");
		if (line.s)
			write_all(plan->report_out, line.s, line.len);
		free(line.s);
	}
	/* What the proxy said up to the end (it is line-buffered and lives
	 * until the monitor exits, after us: read what is there, no more). */
	while (dbus_open) {
		struct pollfd q = { .fd = plan->report_dbus_fd, .events = POLLIN };
		if (poll(&q, 1, 20) <= 0)
			break;
		dbus_open = dbus_read(plan, &dbus);
	}
	if (plan->report_flags & PLAN_REPORT_SUMMARY) {
		if (dbus.refused) {
			char head[128];
			snprintf(head, sizeof head,
				 "tsjail: %lu D-Bus message%s refused: ", dbus.refused,
				 dbus.refused == 1 ? "" : "s");
			say_list(head, dbus.names, dbus.nnames, ", ",
				 " (dbus.session.talk or .own allows a name)\n");
		}
		struct buf sum = { 0 };
		size_t kinds = 0;
		unsigned long total = 0;
		for (size_t i = 0; i < plan->nreport_syscalls; i++) {
			unsigned long n = counts[plan->report_syscalls[i].nr];
			if (!n || plan->report_syscalls[i].err == 0)
				continue;
			buf_add(&sum, "%s%s", kinds++ ? "; " : "", plan->report_syscalls[i].hint);
			if (n > 1)
				buf_add(&sum, " (%lu times)", n);
			total += n;
		}
		if (hidden_total) {
			char head[128];
			snprintf(head, sizeof head,
				 "tsjail: %lu open%s of paths the sandbox does not show: ",
				 hidden_total, hidden_total == 1 ? "" : "s");
			say_list(head, hidden, nhidden, ", ",
				 " (filesystem.ro shows one, filesystem.rw to write)\n");
		}
		if (ll_total) {
			char head[128];
			snprintf(
				head, sizeof head,
				"tsjail: %lu file access%s refused by the sandbox's filesystem rules: ",
				ll_total, ll_total == 1 ? "" : "es");
			say_list(head, ll_said, nll_said, "; ", "\n");
		}
		if (kinds) {
			char head[128];
			int h = snprintf(head, sizeof head,
					 "tsjail: %lu system call%s refused: ", total,
					 total == 1 ? "" : "s");
			write_all(STDERR_FILENO, head, (size_t)h);
			write_all(STDERR_FILENO, sum.s, sum.len);
			write_all(STDERR_FILENO, "\n", 1);
		}
		free(sum.s);
	}
	_exit(0);
}

pid_t report_start(const struct plan *plan)
{
	int sv[2];

	if (!plan->has_report)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("report", "socketpair");
	pid_t pid = fork();
	if (pid < 0)
		die("report", "fork the reporter");
	if (pid == 0) {
		/* Signals stay blocked (the monitor forks us with its forwarded
		 * set blocked): a ^C ends the program, and so the reporter. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			_exit(EXIT_SETUP);
		close_from_3_except3("report", sv[1], plan->report_out, plan->report_dbus_fd);
		prctl(PR_SET_NAME, "tsjail-report", 0, 0, 0);
		reporter(plan, sv[1]);
	}
	close(sv[1]);
	report_sock = sv[0];
	return pid;
}

void report_end(pid_t reporter)
{
	if (reporter < 0)
		return;
	/* It has the last word: after the sandbox, before our exit status.
	 * (supervise() may have reaped it already: ECHILD.) */
	while (waitpid(reporter, NULL, 0) < 0 && errno == EINTR)
		;
}

void report_seccomp_apply(const struct plan *plan)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		die("report", "pipe");
	/* Like fork(), but sharing the descriptor table, and init's child. */
	pid_t helper = (pid_t)syscall(SYS_clone, CLONE_FILES | CLONE_PARENT | SIGCHLD, NULL, NULL,
				      NULL, NULL);
	if (helper < 0)
		die("report", "fork the listener's courier");
	if (helper == 0) {
		int fd = -1;
		ssize_t n;
		prctl(PR_SET_NAME, "tsjail-courier", 0, 0, 0);
		while ((n = read(p[0], &fd, sizeof fd)) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof fd)
			send_fd(report_sock, fd);
		_exit(0);
	}
	long fd = seccomp_load(plan, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	/* From here on only what every filter allows: write, execve, exit. */
	int n = (int)fd;
	if (write(p[1], &n, sizeof n) != (ssize_t)sizeof n)
		die("report", "hand the listener over");
}
