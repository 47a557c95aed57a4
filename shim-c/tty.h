/*
 * tty.h - the private pseudo-terminal of a sandbox whose stdio is a
 * terminal (the plan's TTY record), relayed by the monitor.
 */
#ifndef TSJAIL_TTY_H
#define TSJAIL_TTY_H

#include "plan.h"

#include <signal.h>
#include <sys/types.h>

/* Monitor, before clone: each of 0-2 is a terminal exactly when the plan's
 * TTY record names it (else the plan is stale), so no descriptor of the
 * caller's terminal can reach the sandbox unrelayed. */
void tty_check(const struct plan *plan);
/* The job-control signals the monitor and init take synchronously. */
void tty_signals(sigset_t *set);

/* Init, after the root is in place: open a pty of the sandbox's devpts,
 * make it init's controlling terminal and the descriptors of the plan's
 * fds, send its master to the monitor over CTL, wait for the monitor to say
 * whether the job is in the foreground. Returns that (1) or not (0). */
int tty_init_open(const struct plan *plan, int ctl);
/* Init, right after forking the program: put it in its own process group,
 * the terminal's foreground one if FG, and let it go on (GO: the write end
 * of the pipe it waits on). */
void tty_init_place(const struct plan *plan, pid_t program, int fg, int go);
/* The program, right after fork: join the group init makes, wait for init. */
void tty_program_join(int go_read, int go_write);
/* Init: supervise the program, tell the monitor when it stops, move it to
 * the foreground or background and continue it when the monitor says. */
_Noreturn void tty_init_run(const struct plan *plan, pid_t program, int ctl, const sigset_t *set);

/* Monitor: relay between the caller's terminal and the pty's master until
 * INIT exits; return its status. */
int tty_monitor(const struct plan *plan, pid_t init, int ctl, const sigset_t *set);

#endif
