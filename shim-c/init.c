/*
 * init.c - signal forwarding, reaping and the exit status.
 *
 * Two processes supervise: the monitor (outside the sandbox, the process
 * tsjail exec'd) watches init, and init (PID 1 inside) watches the
 * program. Both block the signals they handle and take them synchronously
 * with sigwaitinfo(2): no handlers, no async-signal-safety questions, and
 * a signal that arrives early stays pending instead of being lost. The
 * mask is blocked before clone and inherited, so nothing slips through
 * between clone and the loops.
 *
 * Init forwards to the program's process group (the program makes one with
 * setsid, PLAN.md step 14), the way a terminal delivers ^C to a whole job:
 * a shell script's current child gets SIGINT too. Until the group exists
 * the signal goes to the program alone; it stays pending there until the
 * program unblocks signals just before execve.
 *
 * PID 1 of a PID namespace gets no signal from inside the namespace that it
 * has no handler for, except ones it blocks, which queue (kernel/signal.c
 * sig_ignored). A program that signals PID 1 only gets the signal forwarded
 * back to itself.
 */
#include "init.h"
#include "discard.h"
#include "util.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

void signals_reset(void)
{
	/* Node ignores SIGPIPE and ignored dispositions survive execve
	 * (signal(7)); the program must start from the defaults. glibc
	 * refuses its two internal signals with EINVAL: fine. */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void signals_block(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		die("signals", "block");
}

int supervise(pid_t child, pid_t target, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			die("supervise", "sigwaitinfo");
		}
		if (sig != SIGCHLD) {
			if (kill(target, sig) < 0 && errno == ESRCH && target < 0)
				kill(-target, sig);
			continue;
		}
		/* SIGCHLD does not queue: one may stand for many exits. */
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);
			if (pid <= 0)
				break;
			if (pid == child)
				return status_code(st);
		}
	}
}

int init_kills_all = 1;

void init_kill_rest(pid_t program)
{
	/* From PID 1, kill(-1) reaches every other process of the
	 * namespace (kill(2)); the kernel would also kill them when init
	 * exits, but this way nothing runs on while init is exiting. An
	 * entered command's supervisor is outside the sandbox's PID
	 * namespace, where kill(-1) would reach every process of the user. */
	if (init_kills_all)
		kill(-1, SIGKILL);
	else
		kill(-program, SIGKILL);
	discard_end();
}

void init_run(pid_t program, const sigset_t *set)
{
	int status = supervise(program, -program, set);

	init_kill_rest(program);
	_exit(status);
}
