/*
 * tty.c - a private pseudo-terminal for a sandbox started on a terminal.
 *
 * A program that holds the caller's terminal can read what is typed at the
 * next shell prompt and change the terminal's modes, and, running in a
 * session of its own, job control never stops it. So, as sudo does with
 * use_pty, the sandbox gets a pty of its own devpts instance instead:
 *
 *  - init (inside) opens the pty after the root is in place, makes its
 *    slave init's controlling terminal and the program's descriptors 0-2
 *    where those were terminals, and sends the master to the monitor over a
 *    socketpair (SCM_RIGHTS). Nothing inside holds the caller's terminal.
 *  - the monitor (outside) copies the caller's modes and window size to
 *    the pty, puts the caller's terminal in raw mode while the job is in
 *    the foreground (plan flag RAW: stdin and stdout are both terminals),
 *    and relays bytes both ways. It reads the caller's terminal only while
 *    its job is the terminal's foreground job, so a background tsjail never
 *    takes input meant for the shell.
 *  - job control is mirrored: when the monitor's job is in the background
 *    init makes its own process group the pty's foreground group, so the
 *    program reading its terminal gets SIGTTIN (and SIGTTOU writing with
 *    tostop, or changing modes) from the kernel like any background job.
 *    When the program stops (^Z, SIGTTIN, ...), init tells the monitor,
 *    which restores the caller's modes and stops itself with the same
 *    signal: the shell sees the job stopped. When the shell continues the
 *    monitor (fg, bg), it tells init whether it is now in the foreground;
 *    init moves the pty's foreground group accordingly and continues the
 *    program.
 *  - SIGWINCH: the new size goes to the pty, whose kernel side signals the
 *    program. TIOCSTI on the pty could only fake the program's own input.
 *
 * Messages on the socketpair are single bytes (SOCK_SEQPACKET): init sends
 * 'M' with the master, then 'S' and the stop signal's number whenever the
 * program stops; the monitor sends 'F' (foreground) or 'B' (background).
 */
#include "tty.h"
#include "init.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static const int job_signals[] = { SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU };

void tty_check(const struct plan *plan)
{
	for (int fd = 0; fd < 3; fd++) {
		int want = plan->tty_fds >> fd & 1;
		if (isatty(fd) != want)
			die_msg("terminal",
				"descriptor %d is %sa terminal, the plan says otherwise: stale plan",
				fd, want ? "not " : "");
	}
}

void tty_signals(sigset_t *set)
{
	for (size_t i = 0; i < sizeof job_signals / sizeof job_signals[0]; i++)
		sigaddset(set, job_signals[i]);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		die("signals", "block");
}

/* The first of 0-2 that the plan relays: init's handle on the pty. */
static int first_fd(const struct plan *plan)
{
	return plan->tty_fds & 1 ? 0 : plan->tty_fds & 2 ? 1 : 2;
}

static void send_msg(int ctl, char what, int arg, int fd)
{
	char buf[2] = { what, (char)arg };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		msg.msg_control = u.b;
		msg.msg_controllen = sizeof u.b;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	while (sendmsg(ctl, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("terminal", "send to the %s", fd >= 0 ? "monitor" : "peer");
}

/* One message: returns its letter (0 at EOF), ARG and a passed fd (or -1). */
static char recv_msg(int ctl, int *arg, int *fd)
{
	char buf[2] = { 0, 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b
	};
	ssize_t n;

	while ((n = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return 0;
	if (fd) {
		*fd = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof *fd);
	}
	if (arg)
		*arg = (unsigned char)buf[1];
	return n > 0 ? buf[0] : 0;
}

/* ---- init ---- */

int tty_init_open(const struct plan *plan, int ctl)
{
	char ptmx[PATH_MAX];
	int unlock = 0;

	snprintf(ptmx, sizeof ptmx, "%s/ptmx", plan->tty_devpts);
	int master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die("terminal", "open %s", ptmx);
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die("terminal", "unlock the pty");
	/* TIOCGPTPEER (Linux 4.13) opens exactly this master's slave. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die("terminal", "open the pty's slave");
	/* Init has been a session leader without a terminal since step 5. */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die("terminal", "make the pty init's controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (plan->tty_fds >> fd & 1 && dup2(slave, fd) < 0)
			die("terminal", "the pty as descriptor %d", fd);
	close(slave);
	send_msg(ctl, 'M', 0, master);
	close(master);
	note("a private pty in %s for descriptors%s%s%s", plan->tty_devpts,
	     plan->tty_fds & 1 ? " 0" : "", plan->tty_fds & 2 ? " 1" : "",
	     plan->tty_fds & 4 ? " 2" : "");
	char m = recv_msg(ctl, NULL, NULL);
	if (m != 'F' && m != 'B')
		die_msg("terminal", "the monitor did not answer");
	return m == 'F';
}

void tty_init_place(const struct plan *plan, pid_t program, int fg, int go)
{
	/* Both sides call setpgid, as shells do, so neither order races. */
	if (setpgid(program, program) < 0 && errno != EACCES)
		die("terminal", "process group of the program");
	if (fg && tcsetpgrp(first_fd(plan), program) < 0)
		die("terminal", "the program in the foreground");
	close(go);
}

void tty_program_join(int go_read, int go_write)
{
	char c;

	close(go_write);
	if (setpgid(0, 0) < 0)
		die("program", "setpgid");
	while (read(go_read, &c, 1) < 0 && errno == EINTR)
		;
	close(go_read);
}

struct jobs {
	int tty; /* init's descriptor of the pty */
	pid_t program;
	pid_t saved_fg; /* the pty's foreground group when it was sent back */
	int stopped;
};

/* The monitor says where its job is now: mirror it on the pty, continue. */
static void move_job(struct jobs *j, int fg)
{
	pid_t me = getpgrp();

	if (fg) {
		pid_t to = j->saved_fg > 0 ? j->saved_fg : j->program;
		if (tcsetpgrp(j->tty, to) < 0)
			tcsetpgrp(j->tty, j->program);
	} else {
		pid_t cur = tcgetpgrp(j->tty);
		if (cur > 0 && cur != me)
			j->saved_fg = cur;
		tcsetpgrp(j->tty, me);
	}
	if (j->stopped) {
		if (j->saved_fg > 0 && j->saved_fg != j->program)
			kill(-j->saved_fg, SIGCONT);
		kill(-j->program, SIGCONT);
		j->stopped = 0;
	}
}

void tty_init_run(const struct plan *plan, pid_t program, int ctl, const sigset_t *set)
{
	struct jobs j = { .tty = first_fd(plan), .program = program };
	int sfd = signalfd(-1, set, SFD_CLOEXEC);

	if (sfd < 0)
		die("init", "signalfd");
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = ctl, .events = POLLIN } };
		if (poll(p, ctl >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("init", "poll");
		}
		if (ctl >= 0 && p[1].revents) {
			char m = recv_msg(ctl, NULL, NULL);
			if (m == 'F' || m == 'B')
				move_job(&j, m == 'F');
			else if (m == 0) {
				close(ctl); /* the monitor is gone; PDEATHSIG follows */
				ctl = -1;
			}
		}
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != sizeof si)
			continue;
		int sig = (int)si.ssi_signo;
		if (sig == SIGCONT || sig == SIGWINCH)
			continue;
		if (sig != SIGCHLD) {
			if (kill(-program, sig) < 0 && errno == ESRCH)
				kill(program, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG | WUNTRACED);
			if (pid <= 0)
				break;
			if (pid != program)
				continue;
			if (WIFSTOPPED(st)) {
				j.stopped = 1;
				if (ctl >= 0)
					send_msg(ctl, 'S', WSTOPSIG(st), -1);
				continue;
			}
			init_kill_rest(program);
			_exit(status_code(st));
		}
	}
}

/* ---- monitor ---- */

struct relay {
	const struct plan *plan;
	int in, out; /* the caller's terminal: read from, write to (-1: none) */
	int ctl_fd;  /* any of the caller's terminal descriptors */
	int master;
	struct termios saved;
	int have_saved, raw_now;
	char inbuf[4096], outbuf[4096];
	size_t inlen, outlen;
	int in_eof, master_gone;
};

static int foreground(const struct relay *r)
{
	return tcgetpgrp(r->ctl_fd) == getpgrp();
}

static void restore(struct relay *r)
{
	if (r->raw_now) {
		tcsetattr(r->ctl_fd, TCSADRAIN, &r->saved);
		r->raw_now = 0;
	}
}

/*
 * What was typed while the caller's terminal was still cooked (after fg,
 * or before the sandbox started) waits in its line buffer, and a ^D there
 * is an end-of-file mark that the kernel hands out as a NUL byte once the
 * mode turns raw (n_tty keeps it as __DISABLED_CHAR): the program would
 * read a NUL instead of end of file. So before going raw, ^D is made an
 * ordinary character (one typed from now on stays the byte it is), and the
 * complete lines and end-of-file marks typed before are taken as they are,
 * each mark as the caller's EOF character, the key that was pressed. What
 * does not fit the relay's buffer (4 KiB typed ahead) is left to raw mode.
 */
static void take_cooked(struct relay *r)
{
	struct termios held = r->saved;

	if (r->in < 0 || !(r->saved.c_lflag & ICANON))
		return;
	held.c_cc[VEOF] = _POSIX_VDISABLE;
	if (tcsetattr(r->ctl_fd, TCSANOW, &held) < 0)
		return;
	while (r->inlen + 1 < sizeof r->inbuf) {
		struct pollfd p = { .fd = r->in, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t n = read(r->in, r->inbuf + r->inlen, sizeof r->inbuf - 1 - r->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n > 0)
			r->inlen += (size_t)n;
		else
			r->inbuf[r->inlen++] = (char)r->saved.c_cc[VEOF];
	}
}

static void go_raw(struct relay *r)
{
	struct termios t = r->saved;

	if (!(r->plan->tty_flags & PLAN_TTY_RAW) || r->raw_now || !r->have_saved)
		return;
	take_cooked(r);
	cfmakeraw(&t);
	if (tcsetattr(r->ctl_fd, TCSADRAIN, &t) == 0)
		r->raw_now = 1;
	else
		tcsetattr(r->ctl_fd, TCSANOW, &r->saved); /* ^D as it was */
}

static void sync_size(struct relay *r)
{
	struct winsize ws;

	if (ioctl(r->ctl_fd, TIOCGWINSZ, &ws) == 0)
		ioctl(r->master, TIOCSWINSZ, &ws);
}

/* After a start or a continue: tell init where the job is now. */
static void placed(struct relay *r, int ctl)
{
	int fg = foreground(r);
	struct termios now, inner;

	sync_size(r);
	if (fg) {
		/* The modes may have changed while we were stopped. */
		if (!r->raw_now && tcgetattr(r->ctl_fd, &now) == 0)
			r->saved = now, r->have_saved = 1;
		go_raw(r);
	} else if (tcgetattr(r->ctl_fd, &now) == 0 && tcgetattr(r->master, &inner) == 0) {
		/* In the background, tostop is the caller's choice. */
		inner.c_lflag = (inner.c_lflag & ~(tcflag_t)TOSTOP) | (now.c_lflag & TOSTOP);
		tcsetattr(r->master, TCSANOW, &inner);
	}
	send_msg(ctl, fg ? 'F' : 'B', 0, -1);
}

static void drain(struct relay *r);

/* The program stopped with SIG: so does the job the shell sees. */
static void stop_self(struct relay *r, int sig, int ctl)
{
	sigset_t s;

	/* What the program wrote before it stopped is shown before the
	 * shell says it stopped. */
	drain(r);
	restore(r);
	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		sig = SIGSTOP;
	sigemptyset(&s);
	sigaddset(&s, sig);
	kill(getpid(), sig);
	/* Delivered here; returns when continued (or at once if the kernel
	 * discards it: an orphaned process group is never stopped). */
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	sigprocmask(SIG_BLOCK, &s, NULL);
	placed(r, ctl);
}

static void put_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w, n -= (size_t)w;
	}
}

/* Write out what the pty holds now (init is gone, or the program stopped). */
static void drain(struct relay *r)
{
	if (r->out >= 0)
		put_all(r->out, r->outbuf, r->outlen);
	r->outlen = 0;
	for (;;) {
		ssize_t n = read(r->master, r->outbuf, sizeof r->outbuf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (r->out >= 0)
			put_all(r->out, r->outbuf, (size_t)n);
	}
}

static void on_input(struct relay *r)
{
	ssize_t n = read(r->in, r->inbuf, sizeof r->inbuf);
	struct termios t;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		r->inlen = (size_t)n;
		return;
	}
	/* End of input (^D on a terminal not in raw mode), or a hangup: the
	 * program sees end of file when its pty is in canonical mode. */
	r->in_eof = 1;
	if (n == 0 && tcgetattr(r->master, &t) == 0 && t.c_lflag & ICANON) {
		r->inbuf[0] = (char)t.c_cc[VEOF];
		r->inlen = 1;
	}
}

int tty_monitor(const struct plan *plan, pid_t init, int ctl, const sigset_t *set)
{
	struct relay r = { .plan = plan, .in = -1, .out = -1, .master = -1 };
	int sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	int st, m;

	if (sfd < 0)
		die("monitor", "signalfd");
	r.in = plan->tty_fds & 1 ? 0 : -1;
	r.out = plan->tty_fds & 2 ? 1 : plan->tty_fds & 4 ? 2 : 0;
	r.ctl_fd = first_fd(plan);
	r.have_saved = tcgetattr(r.ctl_fd, &r.saved) == 0;

	/* Init's first message is the master; if init fails before, the
	 * socket ends and its status is ours. */
	if (recv_msg(ctl, NULL, &r.master) != 'M' || r.master < 0) {
		while (waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		return status_code(st);
	}
	if (fcntl(r.master, F_SETFL, O_NONBLOCK) < 0)
		die("monitor", "pty master non-blocking");
	if (r.have_saved) {
		struct termios inner = r.saved;
		/* Without raw mode the caller's terminal echoes and edits
		 * lines itself; the pty must not echo them a second time. */
		if (!(plan->tty_flags & PLAN_TTY_RAW))
			inner.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(r.master, TCSANOW, &inner);
	}
	placed(&r, ctl);

	for (;;) {
		int fg = r.in >= 0 && !r.in_eof && foreground(&r);
		struct pollfd p[5] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ctl, .events = POLLIN },
			{ .fd = fg && !r.inlen ? r.in : -1, .events = POLLIN },
			{ .fd = r.master_gone ? -1 : r.master,
			  .events = (short)((r.inlen ? POLLOUT : 0) | (r.outlen ? 0 : POLLIN)) },
			{ .fd = r.outlen ? r.out : -1, .events = POLLOUT },
		};
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("monitor", "poll");
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			on_input(&r);
		if (p[3].revents & POLLOUT && r.inlen) {
			ssize_t w = write(r.master, r.inbuf, r.inlen);
			if (w > 0) {
				memmove(r.inbuf, r.inbuf + w, r.inlen - (size_t)w);
				r.inlen -= (size_t)w;
			}
		}
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR) && !r.outlen) {
			ssize_t n = read(r.master, r.outbuf, sizeof r.outbuf);
			if (n > 0)
				r.outlen = (size_t)n;
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				r.master_gone = 1; /* no one inside holds the pty */
		}
		if (p[4].revents & (POLLOUT | POLLERR | POLLHUP)) {
			ssize_t w = write(r.out, r.outbuf, r.outlen);
			if (w > 0) {
				memmove(r.outbuf, r.outbuf + w, r.outlen - (size_t)w);
				r.outlen -= (size_t)w;
			} else if (w < 0 && errno != EINTR && errno != EAGAIN) {
				r.outlen = 0; /* the caller's terminal is gone */
			}
		}
		if (p[1].revents) {
			char msg = recv_msg(ctl, &m, NULL);
			if (msg == 'S')
				stop_self(&r, m, ctl);
			else if (msg == 0)
				ctl = -1; /* init is exiting; SIGCHLD follows */
		}
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == sizeof si) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGWINCH) {
				sync_size(&r);
			} else if (sig == SIGCONT) {
				if (ctl >= 0)
					placed(&r, ctl);
			} else if (sig != SIGCHLD) {
				/* TSTP, TTIN, TTOU too: the program stops (or not)
				 * as it chooses, and init reports it. */
				kill(init, sig);
			} else if (waitpid(init, &st, WNOHANG) == init) {
				drain(&r);
				restore(&r);
				return status_code(st);
			}
		}
	}
}
