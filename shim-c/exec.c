/*
 * exec.c - find and execute the program.
 *
 * A program name with a '/' is executed as is; otherwise each directory of
 * the plan's search path is tried in order, with execvp(3)'s rules but no
 * shell fallback for ENOEXEC: keep going on ENOENT, ENOTDIR, ESTALE,
 * ENODEV and ETIMEDOUT, remember EACCES and keep going, stop at any other
 * error. Empty entries are skipped (execvp would try the working
 * directory). The exit statuses are the shell's: 127 not found, 126 found
 * but not executable (SPEC.md "Exit status").
 *
 * This runs under the seccomp filter, so it only calls execve, write and
 * exit_group.
 */
#include "exec.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static _Noreturn void cannot_execute(const char *name, int err)
{
	if (err == ENOENT)
		quit(127, "tsjail: %s: not found in the sandbox", name);
	quit(126, "tsjail: %s: cannot execute: %s", name, strerror(err));
}

void exec_program(const struct plan *plan)
{
	const char *name = plan->program;
	const char *dir = plan->search_path;
	int denied = 0;

	if (strchr(name, '/')) {
		execve(name, plan->argv, plan->envp);
		cannot_execute(name, errno);
	}
	for (;;) {
		size_t n = strcspn(dir, ":");
		char full[PATH_MAX];

		if (n > 0 && n + 1 + strlen(name) < sizeof full) {
			memcpy(full, dir, n);
			full[n] = '/';
			strcpy(full + n + 1, name);
			execve(full, plan->argv, plan->envp);
			switch (errno) {
			case EACCES:
				denied = 1;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				cannot_execute(name, errno);
			}
		}
		if (dir[n] == '\0')
			break;
		dir += n + 1;
	}
	cannot_execute(name, denied ? EACCES : ENOENT);
}
