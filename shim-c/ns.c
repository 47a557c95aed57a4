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
#include "plan.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t ns_clone(int net, int cgroup)
{
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			      CLONE_NEWUTS | (cgroup ? CLONE_NEWCGROUP : 0) |
			      (net ? CLONE_NEWNET : 0);

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

int ns_probe(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0) {
		printf("clone %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		return 1;
	}
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	int status;
	while (waitpid((pid_t)pid, &status, 0) < 0)
		if (errno != EINTR)
			die("probe", "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok\n");
		return 0;
	}
	int err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	printf("mount %s\n", err && strerrorname_np(err) ? strerrorname_np(err) : "?");
	return 2;
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

static void run_map_helper(const char *helper, const char *map, pid_t child)
{
	char pidtext[16], words[256];
	char *argv[2 + 15 + 1];
	size_t argc = 0;
	char *envp[] = { NULL };
	int status;

	snprintf(pidtext, sizeof pidtext, "%d", (int)child);
	/* plan.c checked the map: at most 15 words of digits. */
	snprintf(words, sizeof words, "%s", map);
	argv[argc++] = (char *)helper;
	argv[argc++] = pidtext;
	for (char *w = strtok(words, " "); w && argc < 2 + 15; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		die("id map", "fork %s", helper);
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(helper, argv, envp);
		fprintf(stderr, "tsjail: id map: execute %s: %s\n", helper, strerror(errno));
		_exit(EXIT_SETUP);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("id map", "wait for %s", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		die_msg("id map",
			"%s %s %s failed (it said why above); check /etc/subuid and /etc/subgid",
			helper, pidtext, map);
	}
}

void ns_map_ids_outside(const struct plan *plan, pid_t child)
{
	run_map_helper(plan->newuidmap, plan->uid_map, child);
	run_map_helper(plan->newgidmap, plan->gid_map, child);
	note("mapped uids %s, gids %s", plan->uid_map, plan->gid_map);
}

void ns_become(uint32_t uid, uint32_t gid)
{
	if (setgroups(0, NULL) < 0)
		die("id map", "drop the supplementary groups");
	if (setresgid(gid, gid, gid) < 0)
		die("id map", "become gid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		die("id map", "become uid %u", uid);
}

static void write_sysctl(int dir, const char *path, const char *text)
{
	/* procfs resolves an IPC sysctl by the IPC namespace of the process
	 * that looks it up (ipc_sysctl.c set_lookup), not by the mount. */
	int fd = openat(dir, path, O_WRONLY | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(text);

	if (fd < 0 || write(fd, text, (size_t)n) != n)
		die("ipc", "write %s", path);
	close(fd);
}

static void write_sysctl_u64(int dir, const char *path, unsigned long long value)
{
	char text[32];

	snprintf(text, sizeof text, "%llu\n", value);
	write_sysctl(dir, path, text);
}

/*
 * The IPC sysctls of a namespace belong to uid 0 of the user namespace that
 * owns it (ipc/ipc_sysctl.c, ipc_set_ownership), and ours maps only the
 * caller's uid. So init, once it has forked the program and needs nothing
 * of our user namespace any more (it only drops its capabilities and
 * supervises), moves into a user namespace of its own nested in ours, with
 * root mapped to the plan's ids (our ids there), and a new IPC namespace
 * owned by it; it sets the limits there and hands a descriptor of that
 * namespace to the program's process over SOCK, which enters it with
 * setns(2) (ns_ipc_join): its capabilities in our namespace, the parent of
 * init's, allow it. No process is made for it. The sysctls are written
 * through SYSCTL_DIR, /proc/sys/kernel of the host's procfs opened before
 * the mounts (the sandbox's /proc/sys is read-only). Init is dumpable only
 * while it writes its maps: a non-dumpable process's /proc/self files
 * belong to root, and it could not write them.
 */
void ns_ipc_limit(int sysctl_dir, const struct plan *plan, int sock)
{
	char map[64];
	uint64_t shm = plan->ipc_shm;

	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		die("ipc", "PR_SET_DUMPABLE");
	if (unshare(CLONE_NEWUSER | CLONE_NEWIPC) < 0)
		die("ipc", "unshare a user and IPC namespace");
	write_proc("/proc/self/setgroups", "deny");
	snprintf(map, sizeof map, "0 %u 1\n", plan->uid);
	write_proc("/proc/self/uid_map", map);
	snprintf(map, sizeof map, "0 %u 1\n", plan->gid);
	write_proc("/proc/self/gid_map", map);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("ipc", "PR_SET_DUMPABLE");
	unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
	write_sysctl_u64(sysctl_dir, "shmmax", shm);
	write_sysctl_u64(sysctl_dir, "shmall", (shm + page - 1) / page);
	write_sysctl_u64(sysctl_dir, "msgmax", plan->ipc_msg[0]);
	write_sysctl_u64(sysctl_dir, "msgmnb", plan->ipc_msg[1]);
	write_sysctl_u64(sysctl_dir, "msgmni", plan->ipc_msg[2]);
	char sem[64];
	snprintf(sem, sizeof sem, "%u %u %u %u\n", plan->ipc_sem[0], plan->ipc_sem[1],
		 plan->ipc_sem[2], plan->ipc_sem[3]);
	write_sysctl(sysctl_dir, "sem", sem);
	close(sysctl_dir);
	int fd = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("ipc", "open /proc/self/ns/ipc");
	send_fds(sock, 'I', &fd, 1, "ipc");
	close(fd);
	close(sock);
	note("System V IPC limited: shared memory %llu bytes, %u message queues of %u bytes, "
	     "%u semaphore sets of %u, %u semaphores in all",
	     (unsigned long long)shm, plan->ipc_msg[2], plan->ipc_msg[1], plan->ipc_sem[3],
	     plan->ipc_sem[0], plan->ipc_sem[1]);
}

void ns_ipc_join(int sock)
{
	int fd;

	recv_fds(sock, 'I', &fd, 1, "ipc");
	close(sock);
	if (setns(fd, CLONE_NEWIPC) < 0)
		die("ipc", "enter the limited IPC namespace");
	close(fd);
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
