/*
 * cgroup.c - the sandbox's cgroups, as the plan's CGROUP and CGWRITE
 * records say (PLAN.md). TypeScript chose every directory and value (under
 * a subtree delegated to the caller, src/cgroup); this file only makes,
 * writes, moves and removes them.
 *
 * Lifetime: the monitor creates the directories before the clone and
 * removes them when init has exited (the kernel has then reaped every
 * process of the PID namespace, so they are empty). A cleaner process,
 * forked by the monitor after the set-up, outside the sandbox and holding
 * nothing but a pipe from the monitor, removes them when the monitor dies
 * without doing so (SIGKILL of tsjail): the pipe's end closes with the
 * monitor, init dies of PDEATHSIG, and the cleaner retries rmdir until the
 * cgroups are empty. Were the cleaner killed too, the directories stay,
 * empty, until the next launch of the same user removes those whose
 * monitor is gone (sweepDead, src/cgroup/place.ts): their names (cg_name) hold the monitor's
 * pid and start time.
 *
 * v1 has no memory.oom.group: the kernel kills one process at the limit.
 * The cleaner also waits on an eventfd registered for the memory cgroup's
 * OOM notifications (cgroup.event_control) and kills init then, and with
 * it the whole PID namespace.
 */
#include "cgroup.h"
#include "record.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Records applied so far; the v1 OOM eventfd (-1: none); the monitor's
 * end of the cleaner's pipe. */
static size_t applied;
static int oom_efd = -1, to_cleaner = -1;

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Remove the directories among the first N records, last first. A busy
 * cgroup (its last processes still exiting) is retried for up to
 * PATIENCE_MS. Returns 0 when all are gone. */
static int remove_dirs(const struct plan *plan, size_t n, long patience_ms)
{
	int left = 0;

	for (size_t i = n; i-- > 0;) {
		const struct plan_cgroup *c = &plan->cgroups[i];
		if (c->type != R_CGROUP || (c->flags & PLAN_CG_SELF))
			continue;
		for (long waited = 0;; waited += 10) {
			if (rmdir(c->path) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY || waited >= patience_ms) {
				left = -1;
				break;
			}
			pause_ms(10);
		}
	}
	return left;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(value);

	if (fd < 0)
		return -1;
	ssize_t w = write(fd, value, n);
	int saved = errno;
	close(fd);
	errno = saved;
	return w == (ssize_t)n ? 0 : -1;
}

static int write_pid(const char *dir, pid_t pid)
{
	char path[PATH_MAX], value[32];

	if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(value, sizeof value, "%d", (int)pid);
	return write_file(path, value);
}

/* Undo what was applied, then stop with one line. */
__attribute__((format(printf, 2, 3))) static _Noreturn void fail(const struct plan *plan,
								 const char *fmt, ...)
{
	char msg[PATH_MAX + 64];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	remove_dirs(plan, applied, 1000);
	errno = saved;
	die("cgroup", "%s", msg);
}

/* v1: an eventfd that the kernel signals at each OOM of this memory cgroup. */
static void watch_oom_v1(const struct plan *plan, const char *dir)
{
	char path[PATH_MAX], ctl[64];

	oom_efd = eventfd(0, EFD_CLOEXEC);
	snprintf(path, sizeof path, "%s/memory.oom_control", dir);
	int ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (oom_efd < 0 || ofd < 0)
		fail(plan, "open %s", path);
	snprintf(ctl, sizeof ctl, "%d %d", oom_efd, ofd);
	snprintf(path, sizeof path, "%s/cgroup.event_control", dir);
	if (write_file(path, ctl) < 0)
		fail(plan, "write %s", path);
	close(ofd);
}

static char *joined(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *s = malloc(n);
	if (!s)
		die("cgroup", "out of memory");
	snprintf(s, n, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	return s;
}

void cg_name(struct plan *plan)
{
	char leaf[64];
	const char *dir = NULL;
	uint64_t start = proc_start_time(getpid());

	if (start == 0)
		die_msg("cgroup", "cannot read the monitor's start time from /proc/self/stat");
	snprintf(leaf, sizeof leaf, "sb-%ld-%llu", (long)getpid(), (unsigned long long)start);
	for (size_t i = 0; i < plan->ncgroups; i++) {
		struct plan_cgroup *c = &plan->cgroups[i];
		if (c->type == R_CGROUP) {
			if (c->flags & PLAN_CG_NAMED)
				c->path = joined(c->path, leaf);
			dir = c->path;
		} else if (c->path[0] != '/') {
			c->path = joined(dir, c->path);
		}
	}
}

void cg_setup(const struct plan *plan)
{
	for (applied = 0; applied < plan->ncgroups; applied++) {
		const struct plan_cgroup *c = &plan->cgroups[applied];
		if (c->type == R_CGWRITE) {
			if (write_file(c->path, c->value) < 0)
				fail(plan, "write %s to %s", c->value, c->path);
			note("cgroup: %s = %s", c->path, c->value);
			continue;
		}
		if (mkdir(c->path, 0755) < 0)
			fail(plan, "create %s", c->path);
		note("cgroup: created %s", c->path);
		if ((c->flags & PLAN_CG_SELF) && write_pid(c->path, getpid()) < 0) {
			applied++;
			fail(plan, "move the monitor into %s", c->path);
		}
		if (c->flags & PLAN_CG_OOM_V1) {
			applied++;
			watch_oom_v1(plan, c->path);
			applied--;
		}
	}
}

void cg_join(const struct plan *plan)
{
	for (size_t i = 0; i < plan->ncg_joins; i++) {
		if (write_pid(plan->cg_joins[i], getpid()) < 0)
			die("enter", "join the sandbox's cgroup %s", plan->cg_joins[i]);
		note("cgroup: joined %s", plan->cg_joins[i]);
	}
}

static unsigned long long oom_kills(const char *dir, uint32_t flags);

/* The v1 memory cgroup watched for OOM kills. */
static const char *oom_dir(const struct plan *plan)
{
	for (size_t i = 0; i < plan->ncgroups; i++)
		if (plan->cgroups[i].type == R_CGROUP && (plan->cgroups[i].flags & PLAN_CG_OOM_V1))
			return plan->cgroups[i].path;
	return "/nonexistent";
}

static _Noreturn void cleaner(const struct plan *plan, int from_monitor)
{
	pid_t init = 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Nothing of the caller's: no terminal, no pipe a reader waits on. */
	if (null >= 0)
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
	/* Nor a LIFELINE: its peer must see it close with the monitor. */
	int keep[2] = { from_monitor < oom_efd ? from_monitor : oom_efd,
			from_monitor < oom_efd ? oom_efd : from_monitor };
	unsigned lo = 3;
	for (int k = 0; k < 2; k++) {
		if (keep[k] < 3)
			continue;
		if ((unsigned)keep[k] > lo)
			syscall(NR_close_range, lo, (unsigned)keep[k] - 1, 0U);
		lo = (unsigned)keep[k] + 1;
	}
	syscall(NR_close_range, lo, ~0U, 0U);
	setsid();
	prctl(PR_SET_NAME, "tsjail-cgclean", 0, 0, 0);
	for (;;) {
		struct pollfd p[2] = { { .fd = from_monitor, .events = POLLIN },
				       { .fd = oom_efd, .events = POLLIN } };
		if (poll(p, oom_efd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* The monitor's word first: after 'd' (init reaped, its pid
		 * free for reuse) nothing is killed, and removing a v1 memory
		 * cgroup signals its eventfd too. */
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char msg[1 + sizeof(pid_t)] = { 0 };
			ssize_t got = read(from_monitor, msg, 1);
			if (got == 1 && msg[0] == 'p' &&
			    read(from_monitor, msg + 1, sizeof init) == (ssize_t)sizeof init)
				memcpy(&init, msg + 1, sizeof init);
			else if (got == 1 && msg[0] == 'd')
				init = 0;
			else if (got == 0 || (got < 0 && errno != EINTR))
				break;
			continue;
		}
		if (p[1].revents & POLLIN) {
			uint64_t n;
			if (read(oom_efd, &n, sizeof n) == sizeof n && init > 0) {
				/* The notice comes as the cgroup goes out of memory,
				 * before the kernel picks its victim: let it kill
				 * (and count) first, so the monitor can say why. */
				for (int ms = 0;
				     ms < 1000 && !oom_kills(oom_dir(plan), PLAN_CG_OOM_V1);
				     ms += 10)
					pause_ms(10);
				kill(init, SIGKILL);
			}
		}
	}
	/* The monitor is gone: init dies of PDEATHSIG, the PID namespace
	 * with it; give the kernel time to empty the cgroups. */
	if (init > 0)
		kill(init, SIGKILL);
	_exit(remove_dirs(plan, plan->ncgroups, 30000) == 0 ? 0 : 1);
}

int cg_cleaner(const struct plan *plan)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		fail(plan, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail(plan, "fork the cleaner");
	if (pid == 0) {
		close(p[1]);
		cleaner(plan, p[0]);
	}
	close(p[0]);
	if (oom_efd >= 0)
		close(oom_efd);
	oom_efd = -1;
	return to_cleaner = p[1];
}

void cg_place(const struct plan *plan, pid_t init, int cleaner_fd)
{
	char msg[1 + sizeof(pid_t)] = { 'p' };

	/* Tell the cleaner first: if a move fails, it still knows whom to kill. */
	memcpy(msg + 1, &init, sizeof init);
	if (write(cleaner_fd, msg, sizeof msg) != (ssize_t)sizeof msg)
		die("cgroup", "tell the cleaner");
	for (size_t i = 0; i < plan->ncgroups; i++) {
		const struct plan_cgroup *c = &plan->cgroups[i];
		if (c->type == R_CGROUP && (c->flags & PLAN_CG_PROCS) &&
		    write_pid(c->path, init) < 0) {
			int saved = errno;
			kill(init, SIGKILL);
			errno = saved;
			die("cgroup", "move the sandbox into %s", c->path);
		}
	}
}

/* The kernel's count of OOM kills in a memory cgroup: "oom_kill N" in v1
 * memory.oom_control and in v2 memory.events. */
static unsigned long long oom_kills(const char *dir, uint32_t flags)
{
	char path[PATH_MAX], buf[512];
	unsigned long long n = 0;

	snprintf(path, sizeof path, "%s/%s", dir,
		 flags & PLAN_CG_OOM_V1 ? "memory.oom_control" : "memory.events");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	for (char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (sscanf(line, "oom_kill %llu", &n) == 1)
			return n;
	return 0;
}

int cg_finish(const struct plan *plan, int status)
{
	/* Init is reaped: its pid may be reused, the cleaner must not kill it. */
	if (to_cleaner >= 0 && write(to_cleaner, "d", 1) != 1)
		note("cgroup: the cleaner is gone");
	for (size_t i = 0; i < plan->ncgroups; i++) {
		const struct plan_cgroup *c = &plan->cgroups[i];
		if (c->type == R_CGROUP && (c->flags & (PLAN_CG_OOM_V1 | PLAN_CG_OOM_V2)) &&
		    oom_kills(c->path, c->flags) > 0 && c->message[0])
			fprintf(stderr, "%s\n", c->message);
	}
	if (remove_dirs(plan, plan->ncgroups, 5000) < 0)
		note("cgroup: a directory could not be removed yet; the cleaner retries");
	return status;
}
