/*
 * cgroup.h - the sandbox's cgroups (CGROUP and CGWRITE records): created
 * and limited by the monitor before the clone, init moved in, removed when
 * the sandbox is over, also when the monitor is killed.
 */
#ifndef TSJAIL_CGROUP_H
#define TSJAIL_CGROUP_H

#include "plan.h"

#include <sys/types.h>

/* Apply the records in plan order (mkdir, write, the monitor's own move).
 * On a failure the directories made so far are removed before the shim
 * stops with 125. */
/* Make the plan's names whole: a NAMED CGROUP becomes PATH/sb-PID-START
 * (this process's pid and start time, field 22 of /proc/self/stat), a bare
 * CGWRITE name a file of the nearest earlier CGROUP. Before cg_setup. */
void cg_name(struct plan *plan);
void cg_setup(const struct plan *plan);

/* `tsjail enter`: move this process into each of the running sandbox's
 * cgroups (the plan's CGJOIN directories), so that its limits hold for
 * the entered command too; stops with 125 naming the one it could not
 * join. Before the namespaces are joined (the cgroup namespace's root is
 * then the process's own cgroup, as the sandbox's program has it). */
void cg_join(const struct plan *plan);

/* Fork the cleaner: a process outside the sandbox that waits for the
 * monitor to be gone (its pipe closes), then removes the directories; on a
 * v1 OOM event it kills the sandbox's init, so the sandbox dies whole as
 * memory.oom.group makes it on v2. Returns the pipe's write end, which the
 * monitor keeps and init closes. */
int cg_cleaner(const struct plan *plan);

/* After the clone: move INIT into every PROCS cgroup and tell the cleaner
 * its pid. */
void cg_place(const struct plan *plan, pid_t init, int cleaner);

/* After the sandbox: the OOM message when the sandbox met its memory
 * limit, the directories removed. Returns the status to exit with. */
int cg_finish(const struct plan *plan, int status);

#endif
