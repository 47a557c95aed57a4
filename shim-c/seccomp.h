/*
 * seccomp.h - load the plan's BPF program.
 */
#ifndef TSJAIL_SECCOMP_H
#define TSJAIL_SECCOMP_H

#include "plan.h"

/* Load the SECCOMP record's program with these flags added; returns what
 * seccomp(2) returned (the listener with SECCOMP_FILTER_FLAG_NEW_LISTENER). */
long seccomp_load(const struct plan *plan, unsigned extra_flags);
/* Nothing without a SECCOMP record; needs no_new_privs. */
void seccomp_apply(const struct plan *plan);

#endif
