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

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

/* The reporter's loop: answer, write, count, until no process uses the
 * filter any more (POLLHUP); then the summary. */
static _Noreturn void reporter(const struct plan *plan, int sock)
{
	const struct plan_report_syscall *by_nr[PLAN_REPORT_MAX_NR] = { 0 };
	unsigned long counts[PLAN_REPORT_MAX_NR] = { 0 };
	struct seccomp_notif_sizes sizes;

	for (size_t i = 0; i < plan->nreport_syscalls; i++)
		by_nr[plan->report_syscalls[i].nr] = &plan->report_syscalls[i];
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
	for (;;) {
		struct pollfd p = { .fd = listener, .events = POLLIN };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(p.revents & POLLIN))
			break; /* POLLHUP: the sandbox is over */
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* the caller died, or was interrupted */
			break;
		}
		const struct plan_report_syscall *r =
			(uint32_t)req->data.nr < PLAN_REPORT_MAX_NR ? by_nr[req->data.nr] : NULL;
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
	if (plan->report_flags & PLAN_REPORT_SUMMARY) {
		struct buf sum = { 0 };
		size_t kinds = 0;
		unsigned long total = 0;
		for (size_t i = 0; i < plan->nreport_syscalls; i++) {
			unsigned long n = counts[plan->report_syscalls[i].nr];
			if (!n)
				continue;
			buf_add(&sum, "%s%s", kinds++ ? "; " : "", plan->report_syscalls[i].hint);
			if (n > 1)
				buf_add(&sum, " (%lu times)", n);
			total += n;
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
		close_from_3_except2("report", sv[1], plan->report_out);
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
