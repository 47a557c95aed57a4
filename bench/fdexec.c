/* fdexec FD FILE CMD [ARGS...]: open FILE read-only on descriptor FD, then
 * exec CMD. Lets a benchmark hand bwrap a fresh seccomp fd on every run
 * (bwrap reads its --seccomp fd to the end) without a shell in between. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: fdexec FD FILE CMD [ARGS...]\n");
		return 2;
	}
	int want = atoi(argv[1]);
	int fd = open(argv[2], O_RDONLY);
	if (fd < 0 || (fd != want && (dup2(fd, want) < 0 || close(fd) < 0))) {
		perror("fdexec");
		return 2;
	}
	execvp(argv[3], argv + 3);
	perror("fdexec: exec");
	return 127;
}
