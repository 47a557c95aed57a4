/* Per-syscall cost under tsjail's seccomp filter vs libseccomp's.
 *
 *   bench [-n CALLS] [-r ROUNDS] TSJAIL.bpf POLICY.txt
 *
 * Configurations: no filter; tsjail's @default as compiled by tsjail; the
 * same policy built by libseccomp with SCMP_FLTATR_CTL_OPTIMIZE=2 (binary
 * tree). Each round runs every configuration once, in turn, in a fresh child
 * (a filter cannot be removed); each child times CALLS getppid() (served by
 * the kernel's action cache when the filter allows it without arguments) and
 * CALLS ioctl(pipe, FIONREAD) (argument-checked: the filter runs). Prints the
 * median ns/call per configuration and the ratios.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	CFG_NONE,
	CFG_TSJAIL,
	CFG_LIBSECCOMP,
	NCFG
};
static const char *cfg_name[NCFG] = { "no filter", "tsjail @default", "libseccomp tree (opt 2)" };

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int load_tsjail(const char *path)
{
	static struct sock_filter buf[4097];
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, sizeof(buf[0]), 4097, f);
	fclose(f);
	if (n == 0 || n > 4096)
		return -1;
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = buf };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static enum scmp_compare cmp_of(const char *s)
{
	if (!strcmp(s, "EQ"))
		return SCMP_CMP_EQ;
	if (!strcmp(s, "NE"))
		return SCMP_CMP_NE;
	if (!strcmp(s, "GE"))
		return SCMP_CMP_GE;
	if (!strcmp(s, "GT"))
		return SCMP_CMP_GT;
	if (!strcmp(s, "LT"))
		return SCMP_CMP_LT;
	if (!strcmp(s, "LE"))
		return SCMP_CMP_LE;
	return SCMP_CMP_MASKED_EQ;
}

static uint32_t action_of(const char *s)
{
	if (!strcmp(s, "ALLOW"))
		return SCMP_ACT_ALLOW;
	if (!strcmp(s, "EAFNOSUPPORT"))
		return SCMP_ACT_ERRNO(EAFNOSUPPORT);
	return SCMP_ACT_ERRNO(EPERM);
}

static int load_libseccomp(const char *path)
{
	scmp_filter_ctx ctx =
		seccomp_init(SCMP_ACT_ERRNO(ENOSYS)); /* EPERM rules must differ from the default */
	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2))
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char kind[4], act[32];
		int nr, count, used;
		if (sscanf(line, "%3s %n", kind, &used) != 1)
			continue;
		if (kind[0] == 'A') {
			if (sscanf(line + used, "%d", &nr) == 1 &&
			    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0))
				fprintf(stderr, "libseccomp refused allow %d\n", nr);
			continue;
		}
		char *p = line + used;
		if (sscanf(p, "%31s %d %d %n", act, &nr, &count, &used) != 3)
			return -1;
		p += used;
		struct scmp_arg_cmp cmps[6];
		for (int i = 0; i < count; i++) {
			unsigned arg;
			char op[16];
			unsigned long long v, m;
			if (sscanf(p, "%u %15s %lli %lli %n", &arg, op, &v, &m, &used) != 4)
				return -1;
			p += used;
			enum scmp_compare c = cmp_of(op);
			cmps[i] = c == SCMP_CMP_MASKED_EQ ? (struct scmp_arg_cmp){ arg, c, m, v }
							  : (struct scmp_arg_cmp){ arg, c, v, 0 };
		}
		if (seccomp_rule_add_array(ctx, action_of(act), nr, count, cmps))
			fprintf(stderr, "libseccomp refused rule: %s", line);
	}
	fclose(f);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

struct sample {
	double getppid, ioctl;
};

static struct sample measure(long calls)
{
	int p[2];
	if (pipe(p))
		exit(1);
	int n;
	for (long i = 0; i < calls / 10; i++) /* warm up */
		syscall(SYS_getppid);
	double t0 = now_ns();
	for (long i = 0; i < calls; i++)
		syscall(SYS_getppid);
	double t1 = now_ns();
	for (long i = 0; i < calls; i++)
		if (ioctl(p[0], FIONREAD, &n))
			exit(1);
	double t2 = now_ns();
	return (struct sample){ (t1 - t0) / calls, (t2 - t1) / calls };
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	long calls = 2000000;
	int rounds = 7, opt;
	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			calls = atol(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: bench [-n CALLS] [-r ROUNDS] TSJAIL.bpf POLICY.txt\n");
		return 2;
	}
	const char *tsjail = argv[optind], *policy = argv[optind + 1];
	double g[NCFG][64], io[NCFG][64];
	if (rounds > 64)
		rounds = 64;
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < NCFG; c++) {
			int fd[2];
			if (pipe(fd))
				return 1;
			pid_t pid = fork();
			if (pid == 0) {
				close(fd[0]);
				int rc = c == CFG_TSJAIL       ? load_tsjail(tsjail)
					 : c == CFG_LIBSECCOMP ? load_libseccomp(policy)
							       : 0;
				if (rc) {
					fprintf(stderr, "loading %s failed: %d\n", cfg_name[c], rc);
					_exit(1);
				}
				struct sample s = measure(calls);
				if (write(fd[1], &s, sizeof(s)) != sizeof(s))
					_exit(1);
				_exit(0);
			}
			close(fd[1]);
			struct sample s;
			if (read(fd[0], &s, sizeof(s)) != sizeof(s))
				return 1;
			close(fd[0]);
			waitpid(pid, NULL, 0);
			g[c][r] = s.getppid;
			io[c][r] = s.ioctl;
		}
	}
	double mg[NCFG], mi[NCFG];
	printf("%-26s %14s %14s   (%ld calls x %d interleaved rounds, median ns/call)\n",
	       "configuration", "getppid", "ioctl FIONREAD", calls, rounds);
	for (int c = 0; c < NCFG; c++) {
		mg[c] = median(g[c], rounds);
		mi[c] = median(io[c], rounds);
		printf("%-26s %14.1f %14.1f\n", cfg_name[c], mg[c], mi[c]);
	}
	printf("tsjail - no filter:        %+14.1f %+14.1f ns\n", mg[CFG_TSJAIL] - mg[CFG_NONE],
	       mi[CFG_TSJAIL] - mi[CFG_NONE]);
	printf("libseccomp - no filter:    %+14.1f %+14.1f ns\n", mg[CFG_LIBSECCOMP] - mg[CFG_NONE],
	       mi[CFG_LIBSECCOMP] - mi[CFG_NONE]);
	printf("tsjail / libseccomp:       %14.3f %14.3f\n", mg[CFG_TSJAIL] / mg[CFG_LIBSECCOMP],
	       mi[CFG_TSJAIL] / mi[CFG_LIBSECCOMP]);
	printf("filter overhead ratio (tsjail/libseccomp, minus no filter): %.3f\n",
	       (mi[CFG_TSJAIL] - mi[CFG_NONE]) / (mi[CFG_LIBSECCOMP] - mi[CFG_NONE]));
	return 0;
}
