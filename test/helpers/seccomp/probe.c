/* Kernel probe for tsjail's seccomp compiler tests.
 *
 *   probe FILTER ABI FIRST LAST [A0 A1 A2 A3 A4 A5]
 *
 * Loads FILTER (raw struct sock_filter[], as compiled by tsjail) in a child
 * under no_new_privs and issues every syscall number FIRST..LAST of ABI
 * ("x86_64": syscall insn; "i386": int $0x80; "x32": syscall with nr |
 * 0x40000000) with the given arguments (default 0), printing one line per
 * number: "NR ALLOW", "NR ERRNO:E", "NR KILL" or "NR SIGNAL:S".
 *
 * Nothing the filter allows is ever executed: a second filter that returns
 * SECCOMP_RET_USER_NOTIF for everything is stacked first. With several
 * filters the kernel takes the lowest action (kernel/seccomp.c
 * seccomp_run_filters), so our ERRNO and KILL_PROCESS beat USER_NOTIF while
 * USER_NOTIF beats our ALLOW and LOG; this supervisor answers each
 * notification with a marker errno, so "allowed" shows up as that marker.
 * A killed child is replaced by a new one that resumes after the number that
 * killed it. Results travel through shared memory: between probes the child
 * makes no system call at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARKER 4000 /* errno the supervisor returns for "notified" */
#define MAX_PROBES 4096

enum {
	PH_START,
	PH_LISTENER,
	PH_INSTALLED,
	PH_DONE
};

struct shared {
	volatile int phase;
	volatile int listener;
	volatile long next; /* index of the next probe to run */
	volatile long result[MAX_PROBES];
	volatile int done[MAX_PROBES];
};

static struct shared *sh;
static unsigned long args[6];

static long raw64(unsigned long nr, const unsigned long *a)
{
	long ret;
	register unsigned long r10 __asm__("r10") = a[3];
	register unsigned long r8 __asm__("r8") = a[4];
	register unsigned long r9 __asm__("r9") = a[5];
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static long raw32(unsigned long nr, const unsigned long *a)
{
	long ret;
	/* int $0x80 from 64-bit code: i386 numbering, AUDIT_ARCH_I386; ebp via push/pop. */
	__asm__ volatile("push %%rbp\n\tmov %7, %%rbp\n\tint $0x80\n\tpop %%rbp"
			 : "=a"(ret)
			 : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "m"(a[5])
			 : "memory");
	return (int)ret;
}

static int load(const char *path, struct sock_fprog *prog)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static struct sock_filter buf[4096 + 1];
	size_t n = fread(buf, sizeof(buf[0]), 4097, f);
	fclose(f);
	if (n == 0 || n > 4096)
		return -1;
	prog->len = (unsigned short)n;
	prog->filter = buf;
	return 0;
}

static void child(struct sock_fprog *ours, const char *abi, long first, long count)
{
	static struct sock_filter notif[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog nprog = { .len = 1, .filter = notif };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(90);
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			 &nprog);
	if (fd < 0)
		_exit(91);
	sh->listener = fd;
	__atomic_store_n(&sh->phase, PH_LISTENER, __ATOMIC_SEQ_CST);
	/* Notified; the supervisor lets it run once it has taken the listener. */
	if (raw64(SYS_seccomp, (unsigned long[]){ SECCOMP_SET_MODE_FILTER, 0, (unsigned long)ours,
						  0, 0, 0 }) != 0)
		_exit(92);
	__atomic_store_n(&sh->phase, PH_INSTALLED, __ATOMIC_SEQ_CST);
	int i386 = strcmp(abi, "i386") == 0;
	unsigned long base = strcmp(abi, "x32") == 0 ? 0x40000000UL : 0;
	for (long i = sh->next; i < count; i++) {
		sh->next = i;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		unsigned long nr = base + (unsigned long)(first + i);
		long r = i386 ? raw32(nr, args) : raw64(nr, args);
		sh->result[i] = r;
		sh->done[i] = 1;
	}
	sh->next = count;
	__atomic_store_n(&sh->phase, PH_DONE, __ATOMIC_SEQ_CST);
	raw64(SYS_exit_group, (unsigned long[]){ 0, 0, 0, 0, 0, 0 });
}

/* Answers notifications until the child is gone; returns its wait status. */
static int supervise(pid_t pid)
{
	int listener = -1, status = 0;
	for (;;) {
		if (listener < 0 && __atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) >= PH_LISTENER) {
			int pidfd = syscall(SYS_pidfd_open, pid, 0);
			if (pidfd >= 0) {
				listener = syscall(SYS_pidfd_getfd, pidfd, sh->listener, 0);
				close(pidfd);
			}
			if (listener < 0) {
				perror("pidfd_getfd");
				kill(pid, SIGKILL);
			}
		}
		if (listener >= 0) {
			struct pollfd p = { .fd = listener, .events = POLLIN };
			int n = poll(&p, 1, 20);
			if (n > 0 && (p.revents & POLLIN)) {
				struct seccomp_notif req;
				struct seccomp_notif_resp resp;
				memset(&req, 0, sizeof(req));
				if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
					memset(&resp, 0, sizeof(resp));
					resp.id = req.id;
					int phase = __atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST);
					if (phase == PH_INSTALLED) {
						resp.error = -MARKER;
					} else {
						resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
					}
					ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
				}
			}
		} else {
			usleep(1000);
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
	}
	if (listener >= 0)
		close(listener);
	return status;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 11) {
		fprintf(stderr, "usage: probe FILTER ABI FIRST LAST [A0..A5]\n");
		return 2;
	}
	struct sock_fprog ours;
	if (load(argv[1], &ours)) {
		fprintf(stderr, "probe: cannot read filter %s\n", argv[1]);
		return 2;
	}
	long first = strtol(argv[3], NULL, 0), last = strtol(argv[4], NULL, 0);
	long count = last - first + 1;
	if (count <= 0 || count > MAX_PROBES)
		return 2;
	for (int i = 0; i < 6 && argc == 11; i++)
		args[i] = strtoul(argv[5 + i], NULL, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	memset((void *)sh, 0, sizeof(*sh));
	while (sh->next < count) {
		sh->phase = PH_START;
		long start = sh->next;
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0)
			child(&ours, argv[2], first, count);
		int status = supervise(pid);
		if (sh->phase == PH_DONE)
			break;
		if (sh->phase < PH_INSTALLED) {
			fprintf(stderr, "probe: child failed to set up (status 0x%x)\n", status);
			return 3;
		}
		long i = sh->next;
		if (!sh->done[i]) {
			sh->result[i] = WIFSIGNALED(status) ? (WTERMSIG(status) == SIGSYS
								       ? -100000
								       : -200000 - WTERMSIG(status))
							    : -300000;
			sh->done[i] = 1;
		}
		sh->next = i + 1;
		if (sh->next <= start)
			return 4;
	}
	for (long i = 0; i < count; i++) {
		long r = sh->result[i];
		printf("%ld ", first + i);
		if (r == -MARKER)
			printf("ALLOW\n");
		else if (r == -100000)
			printf("KILL\n");
		else if (r <= -200000 && r > -300000)
			printf("SIGNAL:%ld\n", -(r + 200000));
		else if (r < 0 && r > -4096)
			printf("ERRNO:%ld\n", -r);
		else
			printf("RAN:%ld\n", r);
	}
	return 0;
}
