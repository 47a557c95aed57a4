/*
 * report.h - refusals said to the user: the seccomp filter's, through its
 * listener (REPORT, REPORT_SYSCALL; report.c says how).
 */
#ifndef TSJAIL_REPORT_H
#define TSJAIL_REPORT_H

#include "plan.h"

#include <sys/types.h>

/* The monitor's end of the socket the listener comes back on; the program's
 * process keeps it open until it loads its filter. -1: no REPORT. */
extern int report_sock;

/* Monitor, before clone: fork the reporter. Returns its pid, -1 without
 * a REPORT record. */
pid_t report_start(const struct plan *plan);
/* Monitor, after the sandbox: wait for the reporter's last word. */
void report_end(pid_t reporter);
/* Program process, step 21 with a REPORT: load the filter with a listener
 * and have it carried to the reporter. */
void report_seccomp_apply(const struct plan *plan);

#endif
