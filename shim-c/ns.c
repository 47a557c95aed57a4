/*
 * ns.c - namespaces: creation, the user namespace's id maps, loopback and
 * hostname.
 *
 * Everything here runs in the child that clone(2) put into the new
 * namespaces, except ns_clone's error path. The child maps its own ids,
 * as unprivileged bubblewrap does: user_namespaces(7) lets a process with
 * CAP_SETUID in the new namespace (which the creator's child has, all caps)
 * write a one-line map of its own euid, provided setgroups is denied first
 * for gid_map (Linux 3.19, CVE-2014-8989).
 */
#include "ns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

pid_t ns_clone(int net)
{
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			      CLONE_NEWUTS | CLONE_NEWCGROUP | (net ? CLONE_NEWNET : 0);

	/* The raw syscall with no new stack behaves like fork(2) (bwrap's
	 * raw_clone does the same); glibc's clone() wants a stack and a
	 * function. The argument order differs between x86_64 and aarch64
	 * only in the last two, both 0 here. */
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid >= 0)
		return (pid_t)pid;
	if (errno == EPERM || errno == ENOSPC || errno == EUSERS || errno == EINVAL)
		die("clone", "unprivileged user namespaces were refused (check "
			     "kernel.unprivileged_userns_clone on Debian, "
			     "kernel.apparmor_restrict_unprivileged_userns on Ubuntu, "
			     "user.max_user_namespaces)");
	die("clone", "new namespaces");
}

static void write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(text);

	if (fd < 0)
		die("id map", "open %s", path);
	/* A map must arrive in a single write(2). */
	if (write(fd, text, n) != (ssize_t)n)
		die("id map", "write %s", path);
	close(fd);
}

void ns_map_ids(uint32_t inside_uid, uint32_t inside_gid, uid_t outside_uid, gid_t outside_gid)
{
	char map[64];

	write_proc("/proc/self/setgroups", "deny");
	snprintf(map, sizeof map, "%u %u 1\n", inside_uid, (unsigned)outside_uid);
	write_proc("/proc/self/uid_map", map);
	snprintf(map, sizeof map, "%u %u 1\n", inside_gid, (unsigned)outside_gid);
	write_proc("/proc/self/gid_map", map);
	note("mapped uid %u to %u, gid %u to %u", inside_uid, (unsigned)outside_uid, inside_gid,
	     (unsigned)outside_gid);
}

void ns_loopback_up(void)
{
	/* SIOCSIFFLAGS is enough: bringing lo up makes the kernel add
	 * 127.0.0.1/8 and ::1 itself (inetdev_event, addrconf_notify). */
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("loopback", "socket");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("loopback", "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("loopback", "SIOCSIFFLAGS lo up");
	close(fd);
	note("brought up lo");
}

void ns_set_hostname(const char *name)
{
	if (sethostname(name, strlen(name)) < 0)
		die("hostname", "sethostname %s", name);
	note("hostname %s", name);
}
