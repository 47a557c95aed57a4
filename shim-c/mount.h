/*
 * mount.h - the sandbox's file system: staging, the plan's mount records,
 * the final pivot_root.
 */
#ifndef TSJAIL_MOUNT_H
#define TSJAIL_MOUNT_H

#include "plan.h"

/* Make every mount private so nothing we do propagates to the host. */
void mount_make_private(void);
/* Staging tmpfs on /tmp holding newroot (a tmpfs) and oldroot; pivot into
 * it so the host is under /oldroot. */
void mount_stage(void);
/* Apply the plan's mount records, in order, under /newroot. */
void mount_apply(const struct plan *plan);
/* Detach the host, pivot into /newroot, detach the staging tmpfs. */
void mount_finish(void);

#endif
