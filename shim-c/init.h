/*
 * init.h - signals, supervision and the exit status, for the monitor and
 * for PID 1 of the sandbox.
 */
#ifndef TSJAIL_INIT_H
#define TSJAIL_INIT_H

#include <signal.h>
#include <sys/types.h>

/* Default disposition for every signal, none blocked. */
void signals_reset(void);
/* Block the forwarded signals and SIGCHLD; SET receives them. */
void signals_block(sigset_t *set);
/* Wait for SET's signals: forward HUP INT QUIT TERM USR1 USR2 to TARGET
 * (kill(2) semantics: -pgid for a group), reap every child, and return the
 * status (code, or 128+N) once CHILD has exited. */
int supervise(pid_t child, pid_t target, const sigset_t *set);
/* 1 in init (PID 1): at the end, kill everything left in the sandbox.
 * 0 for `tsjail enter`, whose supervisor is not the sandbox's init: only
 * the entered command's process group. */
extern int init_kills_all;
/* What is left when the program exits: see init_kills_all. */
void init_kill_rest(pid_t program);
/* PID 1 after the program is forked: supervise it, then kill whatever is
 * left in the sandbox and exit with the program's status. */
_Noreturn void init_run(pid_t program, const sigset_t *set);

#endif
