/*
 * exec.h - run the program, or say why not.
 */
#ifndef TSJAIL_EXEC_H
#define TSJAIL_EXEC_H

#include "plan.h"

/* execve the plan's program; on failure exit 127 (not found) or 126. */
_Noreturn void exec_program(const struct plan *plan);

#endif
