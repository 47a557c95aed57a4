/*
 * util.c - error reporting and small helpers shared by every step.
 *
 * Lines are built with vsnprintf into a buffer on the stack and written
 * with a single write(2): no malloc and no stdio state, so the same code is
 * safe in the monitor, in init, and in the program process after seccomp,
 * where the filter only promises write and exit_group (PLAN.md step 21).
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned verbose;

__attribute__((format(printf, 2, 0))) static void put_line(const char *prefix, const char *fmt,
							   va_list ap, int err)
{
	char buf[1024];
	size_t n = (size_t)snprintf(buf, sizeof buf, "%s", prefix);
	int k = vsnprintf(buf + n, sizeof buf - n, fmt, ap);

	n = k < 0 ? n : n + (size_t)k;
	if (err && n < sizeof buf)
		n += (size_t)snprintf(buf + n, sizeof buf - n, ": %s", strerror(err));
	if (n > sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	/* One write, so lines from init and the program never interleave. */
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

__attribute__((format(printf, 3, 0))) static _Noreturn void vdie(const char *step, int err,
								 const char *fmt, va_list ap)
{
	char prefix[128];

	snprintf(prefix, sizeof prefix, "tsjail: %s: ", step);
	put_line(prefix, fmt, ap, err);
	_exit(EXIT_SETUP);
}

void die(const char *step, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vdie(step, err, fmt, ap);
}

void die_msg(const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(step, 0, fmt, ap);
}

int stale_fd = -1;

void die_stale(const char *step, const char *fmt, ...)
{
	va_list ap;
	char prefix[160];

	va_start(ap, fmt);
	if (stale_fd < 0)
		vdie(step, 0, fmt, ap);
	if (verbose) {
		snprintf(prefix, sizeof prefix, "tsjail-shim: %s: re-planning: ", step);
		put_line(prefix, fmt, ap, 0);
	}
	va_end(ap);
	ssize_t w = write(stale_fd, "S", 1);
	(void)w;
	_exit(EXIT_SETUP);
}

void quit(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_line("", fmt, ap, 0);
	va_end(ap);
	_exit(code);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	put_line("tsjail-shim: ", fmt, ap, 0);
	va_end(ap);
}

void close_from_3(const char *step)
{
	if (syscall(NR_close_range, 3U, ~0U, 0U) < 0)
		die(step, "close_range(3, ~0)");
}

void close_from_3_except(const char *step, int keep)
{
	close_from_3_except2(step, keep, -1);
}

void close_from_3_except2(const char *step, int a, int b)
{
	close_from_3_except3(step, a, b, -1);
}

void close_from_3_except3(const char *step, int a, int b, int c)
{
	int keep[3] = { a, b, c };
	unsigned from = 3;

	/* In order: three elements. */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] < 3 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from &&
		    syscall(NR_close_range, from, (unsigned)keep[i] - 1, 0U) < 0)
			die(step, "close_range(%u, %d)", from, keep[i] - 1);
		from = (unsigned)keep[i] + 1;
	}
	if (syscall(NR_close_range, from, ~0U, 0U) < 0)
		die(step, "close_range(%u, ~0)", from);
}

int status_code(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

void send_fds(int sock, char tag, const int *fds, size_t n, const char *step)
{
	char buf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(buf, 0, sizeof buf);
	msg.msg_control = buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die(step, "send descriptors");
}

void recv_fds(int sock, char tag, int *fds, size_t n, const char *step)
{
	char buf[CMSG_SPACE(sizeof(int) * 2)], got = 0;
	struct iovec iov = { .iov_base = &got, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	msg.msg_control = buf;
	msg.msg_controllen = sizeof buf;
	while ((r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			die(step, "receive descriptors");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	/* The peer said why on stderr. */
	if (r != 1 || got != tag || !cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int) * n))
		_exit(EXIT_SETUP);
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
}
