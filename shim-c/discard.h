/*
 * discard.h - what the program left in the sandbox's private tmpfs.
 *
 * Init, which holds the sandbox's mounts, counts the inodes of each DISCARD
 * tmpfs (statfs) and notes its regular files (a walk of what the plan put
 * there) once the sandbox is built, and counts again when the program has
 * exited; only a tmpfs whose count grew is walked (bounded, never crossing
 * into another mount) for the regular files made (not noted before) or
 * changed since. The line that says
 * so goes to the monitor over the report pipe, which prints it on the
 * caller's stderr: nothing is walked, and nothing said, when nothing was
 * written.
 */
#ifndef TSJAIL_DISCARD_H
#define TSJAIL_DISCARD_H

#include "plan.h"

/* Init, after the mounts and before the program is forked. */
void discard_begin(const struct plan *plan, int report_fd);
/* Init, after the program and everything else in the sandbox is gone. */
void discard_end(void);

#endif
