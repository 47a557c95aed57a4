/*
 * probe.c - escape attempts, one technique per name. Each technique runs in a
 * forked child and prints one line:
 *
 *     NAME ok                 the attempt succeeded
 *     NAME errno=N            the attempt failed with errno N
 *     NAME signal=N           the attempt killed the child with signal N
 *
 * test/escape/escape.test.ts runs this inside sandboxes (every attempt must
 * fail in the expected way) and outside, as the same user, where the control
 * cases must succeed: a probe that cannot succeed anywhere proves nothing.
 *
 *     probe NAME[=ARG] ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/capability.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323
#endif

/* Returns 0 for success, else -errno. */
static long result(long r)
{
	return r < 0 ? -errno : 0;
}

static const char *arg; /* the part after '=' */

static long t_ptrace(void)
{
	return result(ptrace(PTRACE_ATTACH, (pid_t)atoi(arg), 0, 0));
}

static long t_vmread(void)
{
	char buf[8], *remote = (char *)0x400000;
	struct iovec l = { buf, sizeof buf }, r = { remote, sizeof buf };
	long n = process_vm_readv((pid_t)atoi(arg), &l, 1, &r, 1, 0);
	/* EFAULT means the permission check passed and only the address was bad. */
	return n < 0 && errno == EFAULT ? 0 : result(n);
}

static long t_pidfd_signal(void)
{
	int fd = (int)syscall(SYS_pidfd_open, atoi(arg), 0);
	if (fd < 0)
		return -errno;
	return result(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0));
}

static long t_kill(void)
{
	return result(kill((pid_t)atoi(arg), 0));
}

static long t_open_read(void)
{
	int fd = open(arg, O_RDONLY);
	return fd < 0 ? -errno : 0;
}

static long t_open_write(void)
{
	int fd = open(arg, O_WRONLY);
	if (fd < 0)
		return -errno;
	return result(write(fd, "1", 1));
}

static long t_handle(void)
{
	/* The "shocker" attack: open a file by handle, bypassing the mount view. */
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[8];
	} fh = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };
	return result(syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY));
}

static long t_mount_tmpfs(void)
{
	return result(mount("none", arg, "tmpfs", 0, NULL));
}

static long t_umount(void)
{
	return result(umount2(arg, MNT_DETACH));
}

static long t_remount_rw(void)
{
	return result(mount(NULL, arg, NULL, MS_REMOUNT | MS_BIND, NULL));
}

static long t_fsopen(void)
{
	return result(syscall(SYS_fsopen, "tmpfs", 0));
}

static long t_open_tree(void)
{
	return result(
		syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | AT_RECURSIVE));
}

static long t_pivot_root(void)
{
	return result(syscall(SYS_pivot_root, "/tmp", "/tmp"));
}

static long t_chroot(void)
{
	return result(chroot("/tmp"));
}

static long t_userns(void)
{
	return result(unshare(CLONE_NEWUSER));
}

/* A nested user namespace, then an attempt to make a read-only mount of the
 * outer sandbox writable from it: the flags are locked. */
static long t_userns_remount(void)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -errno;
	return result(mount(NULL, arg, NULL, MS_REMOUNT | MS_BIND, NULL));
}

/* After a raw clone: the child leaves at once, the parent waits for it. */
static long reap(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

/* The same through clone(2) and clone3(2), which carry the flags otherwise. */
static long t_clone_newuser(void)
{
	return reap(syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0));
}

static long t_clone3(void)
{
	uint64_t args[11];
	memset(args, 0, sizeof args);
	args[0] = CLONE_NEWUSER; /* flags */
	args[4] = SIGCHLD;       /* exit_signal */
	return reap(syscall(435 /* clone3 */, args, (size_t)88));
}

static long t_move_mount(void)
{
	/* MOVE_MOUNT_F_EMPTY_PATH off: move the mount at /tmp onto /usr. */
	return result(syscall(429 /* move_mount */, AT_FDCWD, "/tmp", AT_FDCWD, "/usr", 0));
}

static long t_pidfd_getfd(void)
{
	/* Take a descriptor out of another process (here: our parent). */
	int fd = (int)syscall(SYS_pidfd_open, getppid(), 0);
	if (fd < 0)
		return -errno;
	return result(syscall(438 /* pidfd_getfd */, fd, 1, 0));
}

static long t_personality_hi(void)
{
	/* READ_IMPLIES_EXEC with a bit above 32: the kernel takes an unsigned int. */
	return result(syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC | (1UL << 32)));
}

static long t_socket_hi(void)
{
	/* AF_PACKET with a bit above 32 in the family: the kernel takes an int. */
	return result(syscall(SYS_socket, 17UL | (1UL << 32), 3, 0));
}

/* A user and network namespace of its own (a browser's nested sandbox may make
 * one), where it holds CAP_NET_ADMIN, then the netfilter configuration socket:
 * nf_tables there is the kernel code most exploited from user namespaces. */
static long t_nested_netfilter(void)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	return result(socket(AF_NETLINK, SOCK_RAW, 12 /* NETLINK_NETFILTER */));
}

/* The same namespaces, then the older x_tables interface (iptables' setsockopt,
 * CVE-2021-22555). A truncated IPT_SO_SET_REPLACE fails with EINVAL once the
 * kernel parses it; EPERM means it never got there. */
static long t_nested_xtables(void)
{
	char buf[8] = { 0 };
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (s < 0)
		return -errno;
	long r = setsockopt(s, SOL_IP, 64 /* IPT_SO_SET_REPLACE */, buf, sizeof buf);
	return r < 0 && errno != EPERM ? 0 : result(r);
}

/* ARG: a netlink protocol; the socket in the sandbox's own network. */
static long t_netlink(void)
{
	return result(socket(AF_NETLINK, SOCK_RAW, atoi(arg)));
}

static long t_keyctl(void)
{
	return result(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
}

static long t_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4, a.value_size = 4, a.max_entries = 1;
	return result(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
}

static long t_perf(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a, a.type = PERF_TYPE_SOFTWARE, a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = 1;
	return result(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}

static long t_userfaultfd(void)
{
	return result(syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */));
}

static long t_io_uring(void)
{
	char params[120];
	memset(params, 0, sizeof params);
	return result(syscall(SYS_io_uring_setup, 1, params));
}

static long t_kexec(void)
{
	return result(syscall(SYS_kexec_load, 0, 0, NULL, 0));
}

static long t_init_module(void)
{
	return result(syscall(SYS_init_module, "", 0, ""));
}

static long t_personality(void)
{
	return result(personality(READ_IMPLIES_EXEC));
}

static long t_int80(void)
{
#if defined(__x86_64__)
	long r;
	/* getpid through the i386 entry point */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return r < 0 ? r : 0;
#else
	return -ENOSYS;
#endif
}

static long t_x32(void)
{
#if defined(__x86_64__)
	return result(syscall(39 | 0x40000000)); /* x32 getpid */
#else
	return -ENOSYS;
#endif
}

static long t_socket(void)
{
	/* ARG: family,type[,protocol] */
	const char *c1 = strchr(arg, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	int family = atoi(arg), type = c1 ? atoi(c1 + 1) : 0, proto = c2 ? atoi(c2 + 1) : 0;
	return result(socket(family, type, proto));
}

static long t_connect_unix(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(sa.sun_path, arg, sizeof sa.sun_path - 1);
	return result(connect(s, (void *)&sa, sizeof sa));
}

static long t_connect_abstract(void)
{
	/* ARG: the name without its leading NUL, as X11 and D-Bus use them. */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t n = strnlen(arg, sizeof sa.sun_path - 1);
	memcpy(sa.sun_path + 1, arg, n);
	return result(connect(s, (void *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
}

static long t_tiocsti(void)
{
	/* Push a character into the input of the terminal on stdin. */
	char c = ' ';
	return result(ioctl(0, TIOCSTI, &c));
}

static long t_tiocsti_hi(void)
{
	/* The same command with bits above 32 set (CVE-2019-10063): the kernel
	 * ignores them, a filter comparing 64 bits must not. */
	char c = ' ';
	return result(syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), &c));
}

static long t_tioclinux(void)
{
	/* TIOCL_GETSHIFTSTATE; on a console, subcodes copy and paste the
	 * selection into the terminal's input. */
	char sub = 6;
	return result(ioctl(0, TIOCLINUX, &sub));
}

static long t_fd(void)
{
	/* ARG: a descriptor number the caller had open. */
	return result(fcntl(atoi(arg), F_GETFD));
}

static long t_env(void)
{
	return getenv(arg) ? 0 : -ENOENT;
}

/* ARG: a copy of this probe that is set-user-ID root or has file
 * capabilities; it reports through "--report" whether it gained anything. */
static const char *current_name;
static long t_exec_priv(void)
{
	execl(arg, arg, "--report", current_name, (char *)NULL);
	return -errno;
}

static int report_privileges(const char *name)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	syscall(SYS_capget, &h, d);
	int gained = geteuid() == 0 || d[0].effective || d[1].effective || d[0].permitted ||
		     d[1].permitted;
	printf(gained ? "%s ok\n" : "%s errno=1\n", name);
	return 0;
}

static long t_mknod(void)
{
	return result(mknod(arg, S_IFCHR | 0600, makedev(1, 1)));
}

static long t_link(void)
{
	/* ARG: from,to */
	char from[512];
	const char *comma = strchr(arg, ',');
	snprintf(from, sizeof from, "%.*s", (int)(comma - arg), arg);
	return result(link(from, comma + 1));
}

static long t_setuid_root(void)
{
	return result(setuid(0));
}

static long t_forkbomb(void)
{
	/* Fork until refused; the children wait to be killed with the group. */
	for (int i = 0; i < 100000; i++) {
		pid_t p = fork();
		if (p < 0)
			return -errno;
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	return 0;
}

static long t_bigfile(void)
{
	/* ARG: path; write past RLIMIT_FSIZE (SIGXFSZ is ignored to see EFBIG). */
	static char buf[1 << 20];
	signal(SIGXFSZ, SIG_IGN);
	int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < 4096; i++)
		if (write(fd, buf, sizeof buf) < 0)
			return -errno;
	return 0;
}

static long t_bigalloc(void)
{
	/* 64 GiB of address space at once. */
	void *p = malloc((size_t)64 << 30);
	return p ? 0 : -ENOMEM;
}

static const struct {
	const char *name;
	long (*fn)(void);
} techniques[] = {
	{ "ptrace", t_ptrace },
	{ "vmread", t_vmread },
	{ "pidfd_signal", t_pidfd_signal },
	{ "kill", t_kill },
	{ "open_read", t_open_read },
	{ "open_write", t_open_write },
	{ "open_by_handle", t_handle },
	{ "mount_tmpfs", t_mount_tmpfs },
	{ "umount", t_umount },
	{ "remount_rw", t_remount_rw },
	{ "fsopen", t_fsopen },
	{ "open_tree", t_open_tree },
	{ "pivot_root", t_pivot_root },
	{ "chroot", t_chroot },
	{ "userns", t_userns },
	{ "userns_remount", t_userns_remount },
	{ "keyctl", t_keyctl },
	{ "bpf", t_bpf },
	{ "perf", t_perf },
	{ "userfaultfd", t_userfaultfd },
	{ "io_uring", t_io_uring },
	{ "kexec", t_kexec },
	{ "init_module", t_init_module },
	{ "personality", t_personality },
	{ "int80", t_int80 },
	{ "x32", t_x32 },
	{ "socket", t_socket },
	{ "connect_unix", t_connect_unix },
	{ "mknod", t_mknod },
	{ "link", t_link },
	{ "setuid_root", t_setuid_root },
	{ "forkbomb", t_forkbomb },
	{ "bigfile", t_bigfile },
	{ "bigalloc", t_bigalloc },
	{ "connect_abstract", t_connect_abstract },
	{ "tiocsti", t_tiocsti },
	{ "tiocsti_hi", t_tiocsti_hi },
	{ "tioclinux", t_tioclinux },
	{ "fd", t_fd },
	{ "env", t_env },
	{ "clone_newuser", t_clone_newuser },
	{ "clone3", t_clone3 },
	{ "move_mount", t_move_mount },
	{ "pidfd_getfd", t_pidfd_getfd },
	{ "personality_hi", t_personality_hi },
	{ "socket_hi", t_socket_hi },
	{ "nested_netfilter", t_nested_netfilter },
	{ "netlink", t_netlink },
	{ "nested_xtables", t_nested_xtables },
	{ "exec_setuid", t_exec_priv },
	{ "exec_setcap", t_exec_priv },
};

/* The control's listener: an abstract name on the host, as an X server has. */
static int listen_abstract(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strnlen(name, sizeof sa.sun_path - 1);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path + 1, name, n);
	if (bind(s, (void *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
	    listen(s, 64) < 0) {
		perror("listen-abstract");
		return 1;
	}
	printf("ready\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "--report") == 0)
		return report_privileges(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--listen-abstract") == 0)
		return listen_abstract(argv[2]);
	for (int i = 1; i < argc; i++) {
		char name[64];
		const char *eq = strchr(argv[i], '=');
		size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		snprintf(name, sizeof name, "%.*s", (int)n, argv[i]);
		arg = eq ? eq + 1 : "";
		current_name = name;
		long (*fn)(void) = NULL;
		for (size_t k = 0; k < sizeof techniques / sizeof techniques[0]; k++)
			if (strcmp(techniques[k].name, name) == 0)
				fn = techniques[k].fn;
		if (!fn) {
			printf("%s unknown\n", name);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			/* Own process group, so a fork bomb can be killed whole. */
			setpgid(0, 0);
			long r = fn();
			if (r == 0)
				printf("%s ok\n", name);
			else
				printf("%s errno=%ld\n", name, -r);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		kill(-pid, SIGKILL);
		while (waitpid(-pid, NULL, 0) > 0)
			;
		if (WIFSIGNALED(st))
			printf("%s signal=%d\n", name, WTERMSIG(st));
	}
	return 0;
}
