/*
 * main.c - tsjail-shim: read a launch plan, build the sandbox it
 * (shim_main, run.h: called by shim.c, and by fast.c with a cached plan),
 * describes, run the program in it.
 *
 *     tsjail-shim --plan-fd N
 *     tsjail-shim --probe-userns     (ns_probe: may this binary sandbox?)
 *
 * The steps below are PLAN.md's "Fixed recipe", numbered as there. The
 * shim decides nothing: what is mounted, mapped, limited, allowed and run
 * all comes from the plan, which is validated whole before the first
 * change (step 2). Any failure before execve exits 125 with one line
 * naming the step.
 *
 * Three processes: the monitor (this process; stays outside), init (PID 1
 * of the new PID namespace; builds the sandbox, then supervises) and the
 * program process (PID 2; drops everything, then execs).
 */
#include "caps.h"
#include "discard.h"
#include "cgroup.h"
#include "exec.h"
#include "init.h"
#include "landlock.h"
#include "mount.h"
#include "net.h"
#include "ns.h"
#include "plan.h"
#include "run.h"
#include "record.h"
#include "report.h"
#include "seccomp.h"
#include "tty.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PLAN_BYTES (16u << 20)

/* After --plan-fd N, `--replan PROGRAM ARG...`: what the monitor runs in its
 * place when the plan went stale (die_stale), so that tsjail plans again. */
static char **replan_argv;
/* The write end of the report pipe (see main), -1: none. */
static int report_fd = -1;

static int parse_args(int argc, char **argv)
{
	char *end;
	long fd;

	if (argc == 2 && strcmp(argv[1], "--probe-userns") == 0)
		exit(ns_probe());
	if (argc > 4 && strcmp(argv[3], "--replan") == 0)
		replan_argv = argv + 4;
	else if (argc != 3)
		die_msg("usage",
			"tsjail-shim --plan-fd N [--replan PROGRAM ARG...] | --probe-userns");
	if (strcmp(argv[1], "--plan-fd") != 0)
		die_msg("usage",
			"tsjail-shim --plan-fd N [--replan PROGRAM ARG...] | --probe-userns");
	errno = 0;
	fd = strtol(argv[2], &end, 10);
	/* 0-2 are the program's stdio, not a place for the plan. */
	if (errno || *end || end == argv[2] || fd < 3 || fd > INT_MAX)
		die_msg("usage", "--plan-fd: not a descriptor from 3 up: %s", argv[2]);
	return (int)fd;
}

/* Init is gone: what it said on the report pipe. A stale plan (one byte
 * 'S', only with --replan): run tsjail again in this process, which plans
 * anew against the host as it is now; the caller keeps waiting on the same
 * PID, and the LIFELINE descriptors are close-on-exec, so the helpers of
 * this attempt end with it. A discard report ('D' and one line): said on
 * the caller's stderr. */
static void after_init(int from)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(from, buf, sizeof buf)) < 0 && errno == EINTR)
		;
	close(from);
	if (n > 1 && buf[0] == 'D') {
		ssize_t w = write(STDERR_FILENO, buf + 1, (size_t)n - 1);
		(void)w;
	}
	if (n != 1 || buf[0] != 'S' || !replan_argv)
		return;
	signals_reset();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(replan_argv[0], replan_argv, environ);
	die("replan", "execute %s", replan_argv[0]);
}

static void read_full(int fd, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("plan", "read");
		if (n == 0)
			die_msg("plan", "truncated (%zu bytes missing)", len);
		buf += n, len -= (size_t)n;
	}
}

/* Exactly the header's length is read: the writer need not close its end.
 * Returns the plan's bytes (for the RECORD), which the caller frees. */
static uint8_t *read_plan(int fd, struct plan *plan, size_t *plen)
{
	uint8_t head[16];
	char err[256];

	read_full(fd, head, sizeof head);
	uint32_t len = (uint32_t)head[8] | (uint32_t)head[9] << 8 | (uint32_t)head[10] << 16 |
		       (uint32_t)head[11] << 24;
	if (len < sizeof head || len > MAX_PLAN_BYTES)
		die_msg("plan", "length %u is not between 16 bytes and 16 MiB", len);
	uint8_t *buf = malloc(len);
	if (!buf)
		die("plan", "allocate %u bytes", len);
	memcpy(buf, head, sizeof head);
	read_full(fd, buf + sizeof head, len - sizeof head);
	close(fd);
	if (plan_parse(buf, len, plan, err, sizeof err) < 0)
		die_msg("plan", "%s", err);
	*plen = len;
	return buf;
}

/* Close every descriptor above 2 except the plan's LIFELINE ones. */
static void keep_lifelines(const struct plan *plan, int plan_fd)
{
	int fds[PLAN_MAX_LIFELINES];
	size_t n = plan->nlifelines;

	for (size_t i = 0; i < n; i++) {
		fds[i] = plan->lifelines[i];
		if (fds[i] == plan_fd || fcntl(fds[i], F_GETFD) < 0)
			die_msg("lifeline", "fd %d is not an open descriptor of the caller",
				fds[i]);
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			die("lifeline", "fd %d: set close-on-exec", fds[i]);
	}
	/* Sorted, the gaps between them are the ranges to close. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	unsigned from = 3;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)fds[i] > from &&
		    syscall(NR_close_range, from, (unsigned)fds[i] - 1, 0U) < 0)
			die("start", "close_range(%u, %d)", from, fds[i] - 1);
		from = (unsigned)fds[i] + 1;
	}
	if (syscall(NR_close_range, from, ~0U, 0U) < 0)
		die("start", "close_range(%u, ~0)", from);
}

/* Steps 14-22: the program process, PID 2. Never returns. */
static _Noreturn void program(const struct plan *plan, mode_t umask_saved, int ipc_sock)
{
	sigset_t none;

	/* 14. A new session has no controlling terminal, so TIOCSTI (and
	 * /dev/tty) cannot reach the caller's terminal. With a TTY record
	 * the program is a process group of init's session instead, whose
	 * terminal is the sandbox's own pty (tty_program_join, at fork). */
	if (!plan->tty_fds && setsid() < 0)
		die("program", "setsid");
	/* 15. Die with init. (Init's death also kills the whole namespace;
	 * this covers the moment before the kernel gets to us.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("program", "PR_SET_PDEATHSIG");
	/* 15a. The limited IPC namespace, which init makes now. */
	if (ipc_sock >= 0)
		ns_ipc_join(ipc_sock);
	/* 16. */
	if (plan->chdir && chdir(plan->chdir) < 0)
		die("chdir", "%s", plan->chdir);
	for (size_t i = 0; i < plan->nrlimits; i++) {
		const struct plan_rlimit *r = &plan->rlimits[i];
		struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
		if (setrlimit((int)r->resource, &rl) < 0)
			die("rlimit", "resource %u", r->resource);
	}
	umask(umask_saved);
	/* 17-18. */
	if (plan->caps)
		caps_keep("program", plan->caps);
	else
		caps_drop_all("program");
	caps_no_new_privs("program");
	/* 19. */
	landlock_apply(plan);
	/* 20. (With a REPORT, the socket the filter's listener goes out on.) */
	close_from_3_except("program", report_sock);
	/* 21. Signals forwarded since fork were held pending; the program
	 * gets them now (a TERM sent during setup ends it here). */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (report_sock >= 0 && plan->has_seccomp)
		report_seccomp_apply(plan);
	else
		seccomp_apply(plan);
	/* 22. */
	exec_program(plan);
}

/* Steps 5-13: init, PID 1 of the new namespaces. Never returns. */
static _Noreturn void sandbox(const struct plan *plan, int sync_fd, int place_fd, int maps_fd,
			      int ctl, int netctl, uid_t uid, gid_t gid, const sigset_t *fwd)
{
	/* 5. If the monitor died before PDEATHSIG was set, nobody would
	 * ever kill us: its end of the sync pipe closes only at its death
	 * (POLLHUP), and a death after this poll sends SIGKILL. */
	struct pollfd pfd = { .fd = sync_fd, .events = POLLIN };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("init", "PR_SET_PDEATHSIG");
	if (poll(&pfd, 1, 0) != 0)
		_exit(EXIT_SETUP);
	/* 5a. CGROUP: the monitor moves us into the sandbox's cgroups; the
	 * cgroup namespace made after that is rooted at them. (EOF: the
	 * monitor failed or died, and said why.) */
	if (place_fd >= 0) {
		char go;
		ssize_t n;
		while ((n = read(place_fd, &go, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			_exit(EXIT_SETUP);
		close(place_fd);
		if (unshare(CLONE_NEWCGROUP) < 0)
			die("init", "unshare the cgroup namespace");
	}
	/* Leave the caller's session: a ^C on the terminal then reaches
	 * only the monitor, which forwards it once, not init as well. */
	if (setsid() < 0)
		die("init", "setsid");
	/* 6. Then non-dumpable: the same uid inside may not ptrace init or
	 * read its /proc files (its environment is the caller's). It comes
	 * after the maps because a non-dumpable process's /proc/self files
	 * belong to root, and uid_map would no longer be writable. */
	if (plan->uid_map) {
		/* With IDMAP the monitor has newuidmap/newgidmap write our
		 * maps from outside, and says so with one byte (EOF: it
		 * failed, and said why). */
		char done;
		ssize_t n;
		while ((n = read(maps_fd, &done, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			_exit(EXIT_SETUP);
		close(maps_fd);
		ns_become(plan->uid, plan->gid);
	} else {
		ns_map_ids(plan->uid, plan->gid, uid, gid);
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("init", "PR_SET_DUMPABLE");
	/* 6a. While the host's /proc is still there (/proc/self/ns). */
	if (plan->ns_flags & PLAN_NS_NET)
		ns_loopback_up();
	if (netctl >= 0)
		net_init_setup(plan, netctl);
	/* 7-8. Modes in the plan are exact: no umask while building. */
	mode_t umask_saved = umask(0);
	/* For step 15a: the sandbox's /proc/sys will be read-only, the
	 * host's procfs is not. */
	int sysctl_dir = -1;
	if (plan->ipc_shm &&
	    (sysctl_dir = open("/proc/sys/kernel", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("ipc", "open /proc/sys/kernel");
	mount_make_private();
	mount_stage();
	/* 9. */
	if (plan->hostname)
		ns_set_hostname(plan->hostname);
	/* 10-11. */
	mount_apply(plan);
	mount_finish();
	/* 11b. What the private tmpfs hold now, before the program runs. */
	discard_begin(plan, report_fd);
	/* 11a. The sandbox's own pty in place of the caller's terminal. */
	int fg = 0, go[2] = { -1, -1 };
	if (plan->tty_fds) {
		fg = tty_init_open(plan, ctl);
		if (pipe2(go, O_CLOEXEC) < 0)
			die("init", "pipe");
	}
	/* 12. (With IPC, the socket init hands the program its IPC
	 * namespace on in step 15a.) */
	int ipc[2] = { -1, -1 };
	if (plan->ipc_shm && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ipc) < 0)
		die("init", "socketpair");
	pid_t pid = fork();
	if (pid < 0)
		die("init", "fork the program");
	if (pid == 0) {
		if (plan->tty_fds) {
			close(ctl);
			tty_program_join(go[0], go[1]);
		}
		if (sysctl_dir >= 0) {
			close(sysctl_dir);
			close(ipc[0]);
		}
		program(plan, umask_saved, ipc[1]);
	}
	/* 15a, init's part: the program's process waits for it. */
	if (sysctl_dir >= 0) {
		close(ipc[1]);
		ns_ipc_limit(sysctl_dir, plan, ipc[0]);
	}
	if (plan->tty_fds) {
		close(go[0]);
		tty_init_place(plan, pid, fg, go[1]);
	}
	/* 13. */
	caps_drop_all("init");
	caps_no_new_privs("init");
	close_from_3_except2("init", ctl, report_fd);
	prctl(PR_SET_NAME, "tsjail-init", 0, 0, 0);
	if (plan->tty_fds)
		tty_init_run(plan, pid, ctl, fwd);
	init_run(pid, fwd);
}

/*
 * `tsjail enter`: the plan's ENTER names a running sandbox's program. The
 * monitor (this process) stays outside; its child joins the program's
 * namespaces through a pidfd (the process cannot be swapped for another
 * between the check of its start time and the join) and plays init's part
 * for the entered command: the pty of the sandbox's devpts with TTY, the
 * command forked into the sandbox's PID namespace, which then goes through
 * the program's steps 14-22 with the plan's (the sandbox's own) rlimits,
 * capabilities, no_new_privs, Landlock rules, environment and seccomp
 * filter. It sees exactly what the sandbox's program sees.
 */
static int enter(const struct plan *plan, sigset_t *fwd)
{
	int sync_pipe[2], ctl[2] = { -1, -1 };
	/* pidfd_open (Linux 5.3) and setns on a pidfd (5.8). */
	int pidfd = (int)syscall(434, (pid_t)plan->enter_pid, 0U);

	if (pidfd < 0)
		die("enter", "pidfd_open %u", plan->enter_pid);
	if (proc_start_time((pid_t)plan->enter_pid) != plan->enter_start)
		die_msg("enter", "process %u is no longer the sandbox's program", plan->enter_pid);
	tty_check(plan);
	if (plan->tty_fds && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		die("enter", "socketpair");
	if (pipe2(sync_pipe, O_CLOEXEC) < 0)
		die("enter", "pipe");
	signals_block(fwd);
	if (plan->tty_fds)
		tty_signals(fwd);
	pid_t pid = fork();
	if (pid < 0)
		die("enter", "fork");
	if (pid > 0) {
		close(pidfd);
		close(sync_pipe[0]);
		if (ctl[1] >= 0)
			close(ctl[1]);
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			die("monitor", "PR_SET_DUMPABLE");
		if (plan->tty_fds)
			return tty_monitor(plan, pid, ctl[0], fwd);
		return supervise(pid, pid, fwd);
	}
	close(sync_pipe[1]);
	if (ctl[0] >= 0)
		close(ctl[0]);
	struct pollfd pfd = { .fd = sync_pipe[0], .events = POLLIN };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("enter", "PR_SET_PDEATHSIG");
	if (poll(&pfd, 1, 0) != 0)
		_exit(EXIT_SETUP);
	close(sync_pipe[0]);
	if (setsid() < 0)
		die("enter", "setsid");
	/* The sandbox's limits hold for the entered command: into its cgroups
	 * first, while their host paths are in reach. */
	cg_join(plan);
	int ns = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		 CLONE_NEWCGROUP | (plan->ns_flags & PLAN_NS_NET ? CLONE_NEWNET : 0);
	if (setns(pidfd, ns) < 0)
		die("enter", "join the namespaces of process %u", plan->enter_pid);
	close(pidfd);
	/* Its capabilities in the sandbox's user namespace keep the program
	 * from tracing it; non-dumpable besides, as init is. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("enter", "PR_SET_DUMPABLE");
	mode_t umask_saved = umask(0);
	umask(umask_saved);
	int fg = 0, go[2] = { -1, -1 };
	if (plan->tty_fds) {
		fg = tty_init_open(plan, ctl[1]);
		if (pipe2(go, O_CLOEXEC) < 0)
			die("enter", "pipe");
	}
	init_kills_all = 0;
	pid_t cmd = fork();
	if (cmd < 0)
		die("enter", "fork the command");
	if (cmd == 0) {
		if (plan->tty_fds) {
			close(ctl[1]);
			tty_program_join(go[0], go[1]);
		}
		program(plan, umask_saved, -1);
	}
	if (plan->tty_fds) {
		close(go[0]);
		tty_init_place(plan, cmd, fg, go[1]);
	}
	caps_drop_all("enter");
	caps_no_new_privs("enter");
	close_from_3_except("enter", ctl[1]);
	prctl(PR_SET_NAME, "tsjail-enter", 0, 0, 0);
	if (plan->tty_fds)
		tty_init_run(plan, cmd, ctl[1], fwd);
	init_run(cmd, fwd);
}

int shim_main(int argc, char **argv)
{
	struct plan plan;
	sigset_t fwd;
	int sync_pipe[2];

	int plan_fd = parse_args(argc, argv);
	/* Were one of 0-2 closed, the sync pipe could land there and reach
	 * the program as its stdio: fill such a gap with /dev/null. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			die("start", "open /dev/null as fd %d", fd);
	/* 1. */
	signals_reset();
	/* 2. */
	size_t plan_len;
	uint8_t *plan_bytes = read_plan(plan_fd, &plan, &plan_len);
	verbose = plan.verbose;
	/* PARENT: a library caller's sandbox must not outlive it. Checked
	 * after the prctl: a parent that died before it is not our parent. */
	if (plan.parent_pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			die("parent", "PR_SET_PDEATHSIG");
		if ((uint32_t)getppid() != plan.parent_pid)
			die_msg("parent", "the caller (process %u) is gone", plan.parent_pid);
	}
	/* The caller's other descriptors never reach the sandbox (SPEC.md);
	 * the monitor keeps only the LIFELINE descriptors, whose peers (a
	 * D-Bus proxy) live exactly as long as the monitor holds them. Init
	 * and the program close them like every other descriptor. */
	keep_lifelines(&plan, plan_fd);
	if (plan.enter_pid) {
		free(plan_bytes);
		return enter(&plan, &fwd);
	}
	/* Read before clone: inside the new user namespace, until the maps
	 * are written, getuid() says 65534. */
	uid_t uid = getuid();
	gid_t gid = getgid();
	/* No descriptor of a terminal reaches the sandbox unless the plan
	 * relays it through the sandbox's own pty. */
	tty_check(&plan);
	int ctl[2] = { -1, -1 };
	if (plan.tty_fds && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		die("start", "socketpair");
	int netctl[2] = { -1, -1 };
	if ((plan.nnetargs || plan.nnetrules || plan.listen_fd >= 0) &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, netctl) < 0)
		die("start", "socketpair");
	if (pipe2(sync_pipe, O_CLOEXEC) < 0)
		die("start", "pipe");
	/* The report pipe, init to monitor: a stale plan (--replan) and the
	 * discard report. Init holds the write end to the end; the program
	 * process closes it with every other descriptor before it runs
	 * anything of its own. */
	int report[2] = { -1, -1 };
	if ((replan_argv || plan.ndiscard) && pipe2(report, O_CLOEXEC) < 0)
		die("start", "pipe");
	report_fd = report[1];
	stale_fd = replan_argv ? report[1] : -1;
	record_begin(&plan, plan_bytes, plan_len);
	free(plan_bytes);
	int maps[2] = { -1, -1 };
	if (plan.uid_map && pipe2(maps, O_CLOEXEC) < 0)
		die("start", "pipe");
	signals_block(&fwd);
	if (plan.tty_fds)
		tty_signals(&fwd);
	/* 2c. CGROUP, CGWRITE: the sandbox's cgroups, and their cleaner
	 * (forked with the signals blocked: ^C does not end it). */
	int cleaner = -1, place[2] = { -1, -1 };
	if (plan.ncgroups) {
		cg_name(&plan);
		cg_setup(&plan);
		cleaner = cg_cleaner(&plan);
		if (pipe2(place, O_CLOEXEC) < 0)
			die("start", "pipe");
	}
	/* REPORT: the reporter, beside the sandbox (report.c). */
	pid_t reporter = report_start(&plan);
	/* 3. */
	pid_t pid = ns_clone(plan.ns_flags & PLAN_NS_NET, !plan.ncgroups);
	if (pid == 0) {
		close(sync_pipe[1]);
		if (maps[1] >= 0)
			close(maps[1]);
		if (ctl[0] >= 0)
			close(ctl[0]);
		if (netctl[0] >= 0)
			close(netctl[0]);
		if (cleaner >= 0) {
			close(cleaner);
			close(place[1]);
		}
		sandbox(&plan, sync_pipe[0], place[0], maps[0], ctl[1], netctl[1], uid, gid, &fwd);
	}
	if (report_sock >= 0)
		close(report_sock);
	if (cleaner >= 0) {
		close(place[0]);
		cg_place(&plan, pid, cleaner);
		if (write(place[1], "g", 1) != 1)
			die("cgroup", "release the sandbox");
		close(place[1]);
	}
	if (plan.uid_map) {
		close(maps[0]);
		ns_map_ids_outside(&plan, pid);
		if (write(maps[1], "m", 1) != 1)
			die("id map", "tell the sandbox");
		close(maps[1]);
	}
	/* 4. Non-dumpable only now: the child's mm was copied at clone
	 * while we were still dumpable, which it needs for its uid_map. */
	close(sync_pipe[0]);
	if (ctl[1] >= 0)
		close(ctl[1]);
	if (report_fd >= 0)
		close(report_fd);
	stale_fd = report_fd = -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("monitor", "PR_SET_DUMPABLE");
	/* 4a. */
	if (netctl[0] >= 0) {
		close(netctl[1]);
		net_monitor_setup(&plan, netctl[0]);
	}
	record_publish(&plan, pid);
	int status =
		plan.tty_fds ? tty_monitor(&plan, pid, ctl[0], &fwd) : supervise(pid, pid, &fwd);
	record_end();
	report_end(reporter);
	status = plan.ncgroups ? cg_finish(&plan, status) : status;
	if (report[0] >= 0)
		after_init(report[0]);
	return status;
}
