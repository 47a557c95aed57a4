/*
 * record.h - the sandbox's record for `tsjail ps`, `enter` and `stop`
 * (the plan's RECORD), kept by the monitor for exactly its own lifetime.
 */
#ifndef TSJAIL_RECORD_H
#define TSJAIL_RECORD_H

#include "plan.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monitor, before clone: check the record directory (made 0700 if
 * missing, the caller's, nobody else's), choose the sandbox's ID, claim
 * its name (a second live sandbox of the same name stops the shim) and
 * store the plan's bytes beside it, for `tsjail enter`. */
void record_begin(const struct plan *plan, const uint8_t *bytes, size_t len);
/* Monitor, after clone: publish ID.json with the monitor's and init's
 * pids, the monitor's start time and the plan's description. */
void record_publish(const struct plan *plan, pid_t init);
/* Monitor, on its way out: remove what record_begin and record_publish
 * made (nothing when there is no record). */
void record_end(void);
/* The start time of process PID (field 22 of /proc/PID/stat, clock ticks
 * since boot), or 0 when it cannot be read or the process is a zombie. */
uint64_t proc_start_time(pid_t pid);

#endif
