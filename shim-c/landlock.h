/*
 * landlock.h - apply the plan's Landlock ruleset to this process.
 */
#ifndef TSJAIL_LANDLOCK_H
#define TSJAIL_LANDLOCK_H

#include "plan.h"

/* Nothing without a LANDLOCK record; any error is fatal (exit 125). */
void landlock_apply(const struct plan *plan);

#endif
