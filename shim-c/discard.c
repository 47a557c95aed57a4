/*
 * discard.c - see discard.h.
 */
#include "discard.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* The walk stops after this many directory entries in all. */
#define MAX_ENTRIES 20000
#define MAX_SHOWN 3

static const struct plan *dplan;
static int dfd = -1;
static unsigned long long used[PLAN_MAX_DISCARDS];
static struct timespec since;

static unsigned long long inodes_used(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) < 0)
		return 0;
	return (unsigned long long)(sf.f_files - sf.f_ffree);
}

void discard_begin(const struct plan *plan, int report_fd)
{
	if (!plan->ndiscard || report_fd < 0)
		return;
	dplan = plan;
	dfd = report_fd;
	for (size_t i = 0; i < plan->ndiscard; i++)
		used[i] = inodes_used(plan->discard[i]);
	/* File times are taken from the coarse clock: a file made after
	 * this has a later ctime. */
	clock_gettime(CLOCK_REALTIME_COARSE, &since);
}

struct found {
	unsigned long count;
	unsigned long entries;
	char shown[MAX_SHOWN][512];
};

static int newer(const struct stat *st)
{
	return st->st_ctim.tv_sec > since.tv_sec ||
	       (st->st_ctim.tv_sec == since.tv_sec && st->st_ctim.tv_nsec > since.tv_nsec);
}

/* Regular files below DIR (open directory FD, device DEV) made since. */
static void walk(int fd, const char *dir, dev_t dev, struct found *f, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) && f->entries < MAX_ENTRIES) {
		struct stat st;
		char path[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		f->entries++;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
		if (S_ISREG(st.st_mode) && newer(&st)) {
			if (f->count < MAX_SHOWN)
				snprintf(f->shown[f->count], sizeof f->shown[0], "%s", path);
			f->count++;
		} else if (S_ISDIR(st.st_mode) && depth < 64) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk(sub, path, dev, f, depth + 1);
		}
	}
	closedir(d);
}

void discard_end(void)
{
	struct found f = { 0 };
	char line[2048];
	size_t n = 0;

	if (!dplan)
		return;
	for (size_t i = 0; i < dplan->ndiscard; i++) {
		const char *dir = dplan->discard[i];
		struct stat st;

		if (inodes_used(dir) <= used[i])
			continue;
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0) {
			close(fd);
			continue;
		}
		walk(fd, dir, st.st_dev, &f, 0);
	}
	if (!f.count)
		return;
	n = (size_t)snprintf(line, sizeof line,
			     "Dtsjail: %lu file%s written to the sandbox's private directories %s "
			     "discarded:",
			     f.count, f.count == 1 ? "" : "s", f.count == 1 ? "is" : "are");
	for (unsigned long i = 0; i < f.count && i < MAX_SHOWN && n < sizeof line; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, "%s %s", i ? "," : "", f.shown[i]);
	if (f.count > MAX_SHOWN && n < sizeof line)
		n += (size_t)snprintf(line + n, sizeof line - n, ", ...");
	if (n < sizeof line)
		n += (size_t)snprintf(line + n, sizeof line - n,
				      "; keep such files with --rw DIR or the profile's "
				      "filesystem.rw (-q: say nothing)\n");
	if (n >= sizeof line)
		n = sizeof line - 1, line[n - 1] = '\n';
	ssize_t w = write(dfd, line, n);
	(void)w;
}
