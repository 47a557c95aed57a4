/*
 * landlock.c - create the plan's ruleset, add its rules, restrict self.
 *
 * TypeScript chose the ABI and masked every right to it; the shim applies
 * exactly that, and any error is fatal. Rules are added after the final
 * pivot_root, from paths opened in the sandbox's own tree: a rule sits on
 * an inode but is checked by walking the path of each access up to the
 * root of the mount namespace, so only inodes on the final tree's paths
 * count (Documentation/userspace-api/landlock.rst, "Bind mounts").
 * Mounting is impossible once restricted, which is why this comes after
 * every mount. landlock_restrict_self needs no_new_privs (set just before).
 * The structs are declared here: the build host's <linux/landlock.h> may
 * predate the running kernel.
 */
#include "landlock.h"
#include "util.h"

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

struct ruleset_attr {
	uint64_t handled_access_fs;  /* ABI 1 */
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define RULE_PATH_BENEATH 1
#define RULE_NET_PORT 2

void landlock_apply(const struct plan *plan)
{
	if (!plan->has_landlock)
		return;
	struct ruleset_attr attr = {
		.handled_access_fs = plan->ll_fs,
		.handled_access_net = plan->ll_net,
		.scoped = plan->ll_scoped,
	};
	/* Pass only the fields the plan's ABI has: an older kernel rejects
	 * a larger struct whose extra bytes are not zero (E2BIG), and
	 * plan.c has made sure the fields left out are 0. */
	size_t size = plan->ll_abi <= 3 ? 8 : plan->ll_abi <= 5 ? 16 : 24;
	int ruleset = (int)syscall(NR_landlock_create_ruleset, &attr, size, 0U);
	if (ruleset < 0)
		die("landlock", "create a ruleset for ABI %u", plan->ll_abi);

	for (size_t i = 0; i < plan->nll_rules; i++) {
		const struct plan_ll_rule *r = &plan->ll_rules[i];
		long ok;
		if (r->path) {
			/* Following symlinks is right here: the rule belongs on
			 * the inode the program reaches (/lib -> usr/lib). */
			struct path_beneath_attr pb = { .allowed_access = r->access };
			pb.parent_fd = open(r->path, O_PATH | O_CLOEXEC);
			if (pb.parent_fd < 0)
				die("landlock", "open %s", r->path);
			ok = syscall(NR_landlock_add_rule, ruleset, RULE_PATH_BENEATH, &pb, 0U);
			if (ok < 0)
				die("landlock", "rule on %s (access 0x%llx)", r->path,
				    (unsigned long long)r->access);
			close(pb.parent_fd);
		} else {
			struct net_port_attr np = { .allowed_access = r->access, .port = r->port };
			ok = syscall(NR_landlock_add_rule, ruleset, RULE_NET_PORT, &np, 0U);
			if (ok < 0)
				die("landlock", "rule on port %llu", (unsigned long long)r->port);
		}
	}
	if (syscall(NR_landlock_restrict_self, ruleset, plan->ll_flags) < 0)
		die("landlock", "restrict self");
	close(ruleset);
	note("landlock ABI %u: %zu rules", plan->ll_abi, plan->nll_rules);
}
