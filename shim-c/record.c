/*
 * record.c - the record of a running sandbox, for `tsjail ps`, `enter` and
 * `stop` (PLAN.md, RECORD).
 *
 * The plan names the directory; the monitor makes the files, so every way
 * of starting a sandbox leaves the same record. In that directory:
 *
 *   ID.plan      the plan's bytes as the shim read them (enter re-uses its
 *                Landlock, seccomp, rlimits and environment records)
 *   ID.json      {"v":1,"id":..,"monitor":..,"monitorStart":..,"init":..,
 *                 "started":..,"meta":{..}}, renamed into place whole, after
 *                ID.plan is complete
 *   NAME.name    when the sandbox has a name, a symbolic link whose target
 *                is "ID:MONITOR-PID:MONITOR-START"; made with symlink(2),
 *                which fails when the name exists, so two live sandboxes
 *                never share one. A link whose monitor is gone (pid and
 *                start time no longer match) is stale and replaced
 *
 * The monitor removes them when it exits. A monitor killed by SIGKILL
 * cannot: tsjail checks every record against the live process (pid and
 * start time) and removes the stale ones, so none is ever shown.
 */
#include "record.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int dirfd_ = -1;
static char id[13];
static char name_link[80]; /* "" when the sandbox has no name */
static char link_target[64];
static uint64_t my_start;
static int published;

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("record", "write %s", what);
		p += n, len -= (size_t)n;
	}
}

uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024];

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything, ')' too: count from the last. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Field 3 (state) follows ") "; each space moves one field on, to
	 * the one before field 22, the start time. A zombie
	 * is not running, whatever its start time. */
	if (p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	unsigned long long v = 0;
	if (sscanf(p + 1, "%llu", &v) != 1)
		return 0;
	return v;
}

/* A name whose monitor is no longer running (it was killed with SIGKILL). */
static int name_is_stale(const char *link)
{
	char t[64];
	int pid;
	unsigned long long start;

	ssize_t n = readlinkat(dirfd_, link, t, sizeof t - 1);
	if (n <= 0)
		return 0;
	t[n] = '\0';
	const char *colon = strchr(t, ':');
	if (!colon || sscanf(colon + 1, "%d:%llu", &pid, &start) != 2 || pid <= 0)
		return 1;
	return proc_start_time(pid) != start;
}

void record_begin(const struct plan *plan, const uint8_t *bytes, size_t len)
{
	struct stat st;
	unsigned char r[6];

	if (!plan->record_dir)
		return;
	if (mkdir(plan->record_dir, 0700) < 0 && errno != EEXIST)
		die("record", "mkdir %s", plan->record_dir);
	dirfd_ = open(plan->record_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd_ < 0)
		die("record", "open %s", plan->record_dir);
	if (fstat(dirfd_, &st) < 0)
		die("record", "stat %s", plan->record_dir);
	/* Other users must neither read the records nor plant one. */
	if (st.st_uid != getuid() || (st.st_mode & 077))
		die_msg("record", "%s is not the caller's alone (owner %u, mode %03o)",
			plan->record_dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	for (int tries = 0;; tries++) {
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			die("record", "getrandom");
		snprintf(id, sizeof id, "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
			 r[5]);
		char file[32];
		snprintf(file, sizeof file, "%s.plan", id);
		int fd = openat(dirfd_, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0 && errno == EEXIST && tries < 8)
			continue;
		if (fd < 0)
			die("record", "create %s/%s", plan->record_dir, file);
		write_all(fd, bytes, len, file);
		close(fd);
		break;
	}
	my_start = proc_start_time(getpid());
	if (plan->record_name[0]) {
		snprintf(name_link, sizeof name_link, "%s.name", plan->record_name);
		snprintf(link_target, sizeof link_target, "%s:%d:%llu", id, (int)getpid(),
			 (unsigned long long)my_start);
		int ok = symlinkat(link_target, dirfd_, name_link) == 0;
		if (!ok && errno == EEXIST && name_is_stale(name_link)) {
			unlinkat(dirfd_, name_link, 0);
			ok = symlinkat(link_target, dirfd_, name_link) == 0;
		}
		if (!ok) {
			int err = errno;
			char file[32];
			snprintf(file, sizeof file, "%s.plan", id);
			unlinkat(dirfd_, file, 0);
			name_link[0] = '\0';
			errno = err;
			if (err == EEXIST)
				die_msg("record", "the name %s is taken by a running sandbox",
					plan->record_name);
			die("record", "claim the name %s", plan->record_name);
		}
	}
}

void record_publish(const struct plan *plan, pid_t init)
{
	struct timespec now;
	char head[256], tmp[32], file[32];

	if (dirfd_ < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	int n = snprintf(head, sizeof head,
			 "{\"v\":1,\"id\":\"%s\",\"monitor\":%d,\"monitorStart\":%llu,\"init\":%d,"
			 "\"started\":%lld,\"meta\":",
			 id, (int)getpid(), (unsigned long long)my_start, (int)init,
			 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	snprintf(tmp, sizeof tmp, ".%s.json", id);
	snprintf(file, sizeof file, "%s.json", id);
	int fd = openat(dirfd_, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		die("record", "create %s", tmp);
	write_all(fd, head, (size_t)n, tmp);
	write_all(fd, plan->record_meta, plan->record_metalen, tmp);
	write_all(fd, "}\n", 2, tmp);
	close(fd);
	if (renameat(dirfd_, tmp, dirfd_, file) < 0)
		die("record", "rename %s", tmp);
	published = 1;
	note("record %s/%s", plan->record_dir, file);
}

void record_end(void)
{
	char file[32], target[64];

	if (dirfd_ < 0)
		return;
	/* The description first: from here on ps no longer lists it. */
	snprintf(file, sizeof file, "%s.json", id);
	if (published)
		unlinkat(dirfd_, file, 0);
	snprintf(file, sizeof file, "%s.plan", id);
	unlinkat(dirfd_, file, 0);
	/* Only our own name: a stale one may have been replaced since. */
	ssize_t n = name_link[0] ? readlinkat(dirfd_, name_link, target, sizeof target - 1) : -1;
	if (n > 0) {
		target[n] = '\0';
		if (strcmp(target, link_target) == 0)
			unlinkat(dirfd_, name_link, 0);
	}
	close(dirfd_);
	dirfd_ = -1;
}
