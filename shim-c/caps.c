/*
 * caps.c - capabilities, securebits and no_new_privs.
 *
 * The creator of a user namespace holds every capability inside it
 * (user_namespaces(7)). Before the program runs they all go, in the order
 * capabilities(7) requires: the securebits and the bounding set need
 * CAP_SETPCAP, so they come first and capset(2) to nothing comes last.
 * The locked securebits make it permanent: with SECBIT_NOROOT an execve as
 * uid 0 (a plan may map the caller to root) grants nothing, and
 * SECBIT_NO_SETUID_FIXUP keeps uid changes from touching the sets.
 */
#include "caps.h"
#include "util.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <unistd.h>

void caps_drop_all(const char *step)
{
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
			     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0, 0, 0 } };

	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		die(step, "lock securebits");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die(step, "clear the ambient capabilities");
	/* The kernel may know more capabilities than our headers: drop
	 * until it says EINVAL (no such capability). /proc may be gone. */
	for (unsigned long cap = 0;; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > CAP_LAST_CAP / 2)
			break;
		die(step, "drop capability %lu from the bounding set", cap);
	}
	if (syscall(SYS_capset, &head, data) < 0)
		die(step, "capset to nothing");
}

static void capset_to(const char *step, uint64_t permitted, uint64_t inheritable)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
		{ (uint32_t)permitted, (uint32_t)permitted, (uint32_t)inheritable },
		{ (uint32_t)(permitted >> 32), (uint32_t)(permitted >> 32),
		  (uint32_t)(inheritable >> 32) },
	};

	if (syscall(SYS_capset, &head, data) < 0)
		die(step, "capset");
}

/*
 * The order capabilities(7) needs: an ambient capability must be permitted
 * and inheritable when raised; the securebits and the bounding set need
 * CAP_SETPCAP, kept until the last capset unless KEEP names it (it cannot:
 * the profile's list has no setpcap).
 */
void caps_keep(const char *step, uint64_t keep)
{
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

	capset_to(step, keep | (uint64_t)1 << CAP_SETPCAP, keep);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die(step, "clear the ambient capabilities");
	for (unsigned long cap = 0; cap < 64; cap++)
		if (keep >> cap & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die(step, "raise ambient capability %lu", cap);
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		die(step, "lock securebits");
	for (unsigned long cap = 0;; cap++) {
		if (cap < 64 && keep >> cap & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > CAP_LAST_CAP / 2)
			break;
		die(step, "drop capability %lu from the bounding set", cap);
	}
	capset_to(step, keep, keep);
}

void caps_no_new_privs(const char *step)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(step, "PR_SET_NO_NEW_PRIVS");
}
