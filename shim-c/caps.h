/*
 * caps.h - give up every capability for good.
 */
#ifndef TSJAIL_CAPS_H
#define TSJAIL_CAPS_H

#include <stdint.h>

/* Lock the securebits, clear the ambient, inheritable, bounding, effective
 * and permitted sets. */
void caps_drop_all(const char *step);
/* As caps_drop_all, but KEEP (bit N: capability N) stays in the bounding,
 * permitted, inheritable, effective and ambient sets, so the program gets
 * exactly these across execve, in its own user namespace only. uid
 * changes clear them as they would root's (no SECBIT_NO_SETUID_FIXUP). */
void caps_keep(const char *step, uint64_t keep);
/* PR_SET_NO_NEW_PRIVS: execve can never grant privileges again. */
void caps_no_new_privs(const char *step);

#endif
