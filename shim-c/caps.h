/*
 * caps.h - give up every capability for good.
 */
#ifndef TSJAIL_CAPS_H
#define TSJAIL_CAPS_H

/* Lock the securebits, clear the ambient, inheritable, bounding, effective
 * and permitted sets. */
void caps_drop_all(const char *step);
/* PR_SET_NO_NEW_PRIVS: execve can never grant privileges again. */
void caps_no_new_privs(const char *step);

#endif
