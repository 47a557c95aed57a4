/*
 * seccomp.h - load the plan's BPF program.
 */
#ifndef TSJAIL_SECCOMP_H
#define TSJAIL_SECCOMP_H

#include "plan.h"

/* Nothing without a SECCOMP record; needs no_new_privs. */
void seccomp_apply(const struct plan *plan);

#endif
