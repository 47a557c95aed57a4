/*
 * util.h - how the shim fails, talks and makes the few system calls the C
 * library has no wrapper for.
 *
 * Every setup failure ends the process with exit status 125 after one line
 * "tsjail: STEP: DETAIL: strerror" on stderr (PLAN.md, "Fixed recipe"), so a
 * half-built sandbox never runs anything.
 */
#ifndef TSJAIL_UTIL_H
#define TSJAIL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>

#define EXIT_SETUP 125

/* Numbers of syscalls the build host's headers may lack (Debian 12 ships
 * 6.1 headers). Since Linux 5.1 new syscalls get one number on every
 * architecture, so these hold for x86_64 and aarch64 alike. */
enum {
	NR_open_tree = 428,
	NR_move_mount = 429,
	NR_fsopen = 430,
	NR_fsconfig = 431,
	NR_fsmount = 432,
	NR_close_range = 436,
	NR_openat2 = 437,
	NR_mount_setattr = 442,
	NR_landlock_create_ruleset = 444,
	NR_landlock_add_rule = 445,
	NR_landlock_restrict_self = 446,
};

/* 0 quiet, otherwise say each step (set once from the plan's VERBOSE). */
extern unsigned verbose;

/* Print "tsjail: STEP: DETAIL: strerror(errno)" and exit 125. */
_Noreturn void die(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same without the errno part, for failures that have none. */
_Noreturn void die_msg(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A host path changed between planning and mounting (the plan is stale).
 * With a re-plan channel (STALE_FD >= 0, see main.c: the monitor runs
 * tsjail again to plan anew), write one byte to it and exit 125 without a
 * word (said only when verbose); without, die_msg. */
extern int stale_fd;
_Noreturn void die_stale(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "tsjail-shim: ..." on stderr when verbose. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print one line on stderr and exit with CODE (exec's 126 and 127). */
_Noreturn void quit(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close every descriptor from 3 up (close_range(2), Linux 5.9). */
void close_from_3(const char *step);
/* The same, but KEEP (if >= 3) stays open. */
void close_from_3_except(const char *step, int keep);
/* The same with two descriptors kept (either may be -1). */
void close_from_3_except2(const char *step, int a, int b);
/* ... and c too. */
void close_from_3_except3(const char *step, int a, int b, int c);

/* The status a shell would report for a wait(2) status: the exit code, or
 * 128+N for death by signal N. */
int status_code(int wstatus);

/* Send N (1 or 2) descriptors over the socket SOCK, with the one byte TAG. */
void send_fds(int sock, char tag, const int *fds, size_t n, const char *step);
/* Receive exactly N descriptors with TAG (close-on-exec), else the peer died
 * or broke the protocol: exit 125 without a word (the peer said why). */
void recv_fds(int sock, char tag, int *fds, size_t n, const char *step);

#endif
