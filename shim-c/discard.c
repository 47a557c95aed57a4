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

struct found {
	unsigned long count;
	unsigned long entries;
	char shown[MAX_SHOWN][512];
};

/* Regular files there before the program ran (device and inode), so that a
 * file it made counts however close to the start (the same clock tick) it
 * was made. Past this many, only the ctime tells. */
#define MAX_BEFORE 4096
static struct {
	dev_t dev;
	ino_t ino;
} before[MAX_BEFORE];
static size_t nbefore;

static int existed(const struct stat *st)
{
	for (size_t i = 0; i < nbefore; i++)
		if (before[i].ino == st->st_ino && before[i].dev == st->st_dev)
			return 1;
	return 0;
}

/* Made since the start, or changed since (a coarse-clock ctime after it). */
static int newer(const struct stat *st)
{
	if (!existed(st) && nbefore < MAX_BEFORE)
		return 1;
	return st->st_ctim.tv_sec > since.tv_sec ||
	       (st->st_ctim.tv_sec == since.tv_sec && st->st_ctim.tv_nsec > since.tv_nsec);
}

/* Regular files below DIR (open directory FD, device DEV): recorded in
 * before[] (F null) or, when made since, counted in F. */
static void walk(int fd, const char *dir, dev_t dev, struct found *f, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	unsigned long entries = 0;

	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) && (f ? f->entries : entries) < MAX_ENTRIES) {
		struct stat st;
		char path[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (f)
			f->entries++;
		else
			entries++;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
		if (S_ISREG(st.st_mode) && !f) {
			if (nbefore < MAX_BEFORE)
				before[nbefore].dev = st.st_dev, before[nbefore++].ino = st.st_ino;
		} else if (S_ISREG(st.st_mode) && newer(&st)) {
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

/* Walks DIR (not crossing into other mounts) with walk(). */
static void walk_dir(const char *dir, struct found *f)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	walk(fd, dir, st.st_dev, f, 0);
}

void discard_begin(const struct plan *plan, int report_fd)
{
	if (!plan->ndiscard || report_fd < 0)
		return;
	dplan = plan;
	dfd = report_fd;
	for (size_t i = 0; i < plan->ndiscard; i++) {
		used[i] = inodes_used(plan->discard[i]);
		walk_dir(plan->discard[i], NULL);
	}
	/* File times are taken from the coarse clock: a file changed after
	 * this has a later ctime, or the same one within this clock tick
	 * (then only a file made since, told by its inode, counts). */
	clock_gettime(CLOCK_REALTIME_COARSE, &since);
}

void discard_end(void)
{
	struct found f = { 0 };
	char line[2048];
	size_t n = 0;

	if (!dplan)
		return;
	for (size_t i = 0; i < dplan->ndiscard; i++)
		if (inodes_used(dplan->discard[i]) > used[i])
			walk_dir(dplan->discard[i], &f);
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
