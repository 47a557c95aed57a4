/*
 * memfd.c - native code from writable memory: each probe prints one line
 * "NAME ok" or "NAME errno=N" (issue 10, item 4).
 *
 *   memfd_exec      memfd_create(0) + a copy of /bin/true + execveat(AT_EMPTY_PATH)
 *   memfd_procfd    the same, executed as /proc/self/fd/N
 *   sealed_exec     memfd_create(MFD_NOEXEC_SEAL) + execveat
 *   sealed_chmod    fchmod 0755 of such a memfd
 *   sealed_mmap     mmap(PROT_EXEC) of such a memfd (as of anonymous memory)
 *   file_exec=DIR   a copy of /bin/true in DIR, chmod 0755, execve
 *   file_mmap=DIR   mmap(PROT_EXEC) of that copy
 *   shm_exec        SysV shmget + shmat(SHM_EXEC) (as of anonymous memory)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8U
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

static int result(const char *name, int err)
{
	if (err)
		printf("%s errno=%d\n", name, err);
	else
		printf("%s ok\n", name);
	fflush(stdout);
	return 0;
}

static int copy_true(int to)
{
	char buf[65536];
	int from = open("/bin/true", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (from < 0)
		return -1;
	while ((n = read(from, buf, sizeof buf)) > 0)
		if (write(to, buf, (size_t)n) != n)
			return -1;
	close(from);
	return 0;
}

/* Run the exec in a child: 0 if the copy of true ran, else the errno. */
static int try_exec(int fd, const char *path)
{
	int pipefd[2], err = 0;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errno;
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "true", NULL }, *envp[] = { NULL };
		if (path)
			execve(path, argv, envp);
		else
			syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		err = errno;
		if (write(pipefd[1], &err, sizeof err) < 0)
			_exit(2);
		_exit(1);
	}
	close(pipefd[1]);
	int st;
	ssize_t n = read(pipefd[0], &err, sizeof err);
	waitpid(pid, &st, 0);
	close(pipefd[0]);
	if (n == sizeof err)
		return err;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int memfd(unsigned flags)
{
	int fd = (int)syscall(SYS_memfd_create, "probe", flags);
	if (fd >= 0 && copy_true(fd) < 0)
		return -1;
	return fd;
}

static int mmap_exec(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	munmap(p, 4096);
	return 0;
}

static int probe(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	const char *val = eq ? eq + 1 : "";

	if (!strcmp(name, "memfd_exec") || !strcmp(name, "memfd_procfd") ||
	    !strcmp(name, "sealed_exec") || !strcmp(name, "sealed_chmod") ||
	    !strcmp(name, "sealed_mmap")) {
		int sealed = name[0] == 's';
		int fd = memfd(sealed ? MFD_NOEXEC_SEAL : 0);
		if (fd < 0)
			return result(name, errno);
		if (!strcmp(name, "sealed_chmod"))
			return result(name, fchmod(fd, 0755) < 0 ? errno : 0);
		if (!strcmp(name, "sealed_mmap"))
			return result(name, mmap_exec(fd));
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		return result(name, try_exec(fd, strcmp(name, "memfd_procfd") ? NULL : path));
	}
	if (!strcmp(name, "file_exec") || !strcmp(name, "file_mmap")) {
		char path[4096];
		snprintf(path, sizeof path, "%s/probe-true", val);
		unlink(path);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0755);
		if (fd < 0 || copy_true(fd) < 0)
			return result(name, errno);
		int err;
		if (name[5] == 'e') {
			close(fd); /* a file open for writing cannot be executed (ETXTBSY) */
			err = try_exec(-1, path);
		} else {
			err = mmap_exec(fd);
			close(fd);
		}
		unlink(path);
		return result(name, err);
	}
	if (!strcmp(name, "shm_exec")) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0700);
		if (id < 0)
			return result(name, errno);
		void *p = shmat(id, NULL, SHM_EXEC);
		int err = p == (void *)-1 ? errno : 0;
		shmctl(id, IPC_RMID, NULL);
		return result(name, err);
	}
	printf("%s unknown\n", name);
	return 1;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++)
		bad |= probe(argv[i]);
	return bad;
}
