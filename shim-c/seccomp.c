/*
 * seccomp.c - load the seccomp filter TypeScript compiled.
 *
 * The program is opaque here: struct sock_filter[] exactly as the plan
 * carries it (plan.c checked length % 8 and the 4096-instruction limit;
 * the kernel verifies the code). It is loaded last, right before execve,
 * so the filter only has to allow execve and the error path (write,
 * exit_group), as bubblewrap does with --seccomp. seccomp(2) rather than
 * prctl so the plan's flags (e.g. SECCOMP_FILTER_FLAG_LOG) can be passed.
 * No TSYNC: the shim has a single thread.
 */
#include "seccomp.h"
#include "util.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long seccomp_load(const struct plan *plan, unsigned extra_flags)
{
	/* Copy into properly aligned memory; the plan's bytes may sit at
	 * any offset. */
	struct sock_filter *insns = malloc(plan->seccomp_len);
	if (!insns)
		die("seccomp", "allocate the program");
	memcpy(insns, plan->seccomp_prog, plan->seccomp_len);
	struct sock_fprog prog = {
		.len = (unsigned short)(plan->seccomp_len / sizeof *insns),
		.filter = insns,
	};
	note("seccomp: %u instructions%s", prog.len,
	     extra_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? ", refusals reported" : "");
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan->seccomp_flags | extra_flags,
			 &prog);
	if (r < 0)
		die("seccomp", "load the filter (%u instructions, flags 0x%x)", prog.len,
		    plan->seccomp_flags | extra_flags);
	return r;
}

void seccomp_apply(const struct plan *plan)
{
	if (plan->has_seccomp)
		seccomp_load(plan, 0);
}
