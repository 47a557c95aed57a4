/*
 * plan-fuzz.c - libFuzzer target for plan_parse (make fuzz; clang).
 *
 *     ./fuzz/plan-fuzz fuzz/corpus
 *
 * A plan is input from another process: whatever its bytes, parsing must
 * end in success or an error line, never in a crash, UB or a leak. On
 * success the decoded plan is walked so that every pointer is touched.
 */
#include "plan.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p;
	char err[256];
	volatile size_t sum = 0;

	if (plan_parse(data, size, &p, err, sizeof err) != 0)
		return 0;
	for (size_t i = 0; i < p.nmounts; i++)
		sum += strlen(p.mounts[i].dest) + (p.mounts[i].src ? strlen(p.mounts[i].src) : 0) +
		       p.mounts[i].datalen;
	for (char **a = p.argv; *a; a++)
		sum += strlen(*a);
	for (char **e = p.envp; *e; e++)
		sum += strlen(*e);
	for (size_t i = 0; i < p.nll_rules; i++)
		sum += p.ll_rules[i].path ? strlen(p.ll_rules[i].path) : 0;
	sum += strlen(p.program) + strlen(p.search_path) + p.seccomp_len;
	plan_free(&p);
	return 0;
}
