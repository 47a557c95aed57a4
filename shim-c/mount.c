/*
 * mount.c - build the sandbox's root from the plan's mount records.
 *
 * The layout follows bubblewrap: a staging tmpfs on the host's /tmp holds
 * "newroot" (a tmpfs that becomes the sandbox's /) and "oldroot"; after
 * pivot_root into the staging tmpfs the host is reachable only under
 * /oldroot, every record is applied under /newroot, and at the end the host
 * and the staging tmpfs are detached.
 *
 * No path is ever followed through a symlink, so a program of the same user
 * that swaps a directory for a link (in the host tree, or inside a
 * writable bind) cannot redirect a mount:
 *  - host sources are opened with openat2(RESOLVE_NO_SYMLINKS) and must be
 *    the inode the plan saw (st_dev, st_ino), else the plan is stale;
 *  - destinations are walked one component at a time with O_NOFOLLOW,
 *    creating what is missing, and mounted on by file descriptor;
 *  - mounts are made with the fd-based API (open_tree, fsopen/fsmount,
 *    move_mount, Linux 5.2) and their flags set on the detached tree with
 *    mount_setattr (5.12) before it is attached. On 5.10 and 5.11 the
 *    flags are set after attaching, with MS_REMOUNT on the top mount and on
 *    each submount listed in one read of /proc/self/mountinfo.
 */
#include "mount.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x04
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 1
#define FSMOUNT_CLOEXEC 1
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* struct mount_attr as of Linux 5.12 (MOUNT_ATTR_SIZE_VER0). */
struct attr_v0 {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int staging_fd = -1; /* "/" of the staging tmpfs */
static int oldroot_fd = -1; /* the host's "/" */
static int legacy;          /* mount_setattr is missing: remount instead */

static int mount_setattr_(int fd, unsigned flags, unsigned attrs)
{
#ifdef SHIM_FORCE_LEGACY_MOUNT
	/* Test builds only (make legacy): take the Linux 5.10 path. */
	(void)fd, (void)flags, (void)attrs;
	errno = ENOSYS;
	return -1;
#else
	struct attr_v0 a = { .attr_set = attrs };
	return (int)syscall(NR_mount_setattr, fd, "", flags | AT_EMPTY_PATH, &a, sizeof a);
#endif
}

static unsigned attrs_of(uint32_t mflags)
{
	return (mflags & PLAN_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
	       (mflags & PLAN_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	       (mflags & PLAN_NODEV ? MOUNT_ATTR_NODEV : 0) |
	       (mflags & PLAN_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

void mount_make_private(void)
{
	/* After CLONE_NEWNS our mounts are copies that still share
	 * propagation with the host's (mount_namespaces(7), "shared
	 * subtrees"); without this every mount below would appear on the
	 * host too. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make mounts private", "mount --make-rprivate /");
}

void mount_stage(void)
{
	/* pivot_root(2) needs the new root to be a mount point; a tmpfs of
	 * our own also gives the DENY file somewhere to live. */
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		die("staging", "mount tmpfs on /tmp");
	if (chdir("/tmp") < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
		die("staging", "create newroot and oldroot");
	if (mount("tmpfs", "newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		die("staging", "mount tmpfs on newroot");
	if (syscall(SYS_pivot_root, ".", "oldroot") < 0 || chdir("/") < 0)
		die("staging", "pivot_root into the staging tmpfs");
	staging_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	oldroot_fd = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (staging_fd < 0 || oldroot_fd < 0)
		die("staging", "open / and /oldroot");
	note("staged: host under /oldroot, sandbox root under /newroot");
}

/* The topmost mount on /newroot (a BIND on "/" may cover the tmpfs). */
static int open_root(void)
{
	int fd = openat(staging_fd, "newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die("mount", "open /newroot");
	return fd;
}

/* Open NAME in DIR without following a symlink. MAKE is 0 (must exist),
 * 'd' or 'f': create a directory (0755) or an empty file (0444) if it is
 * missing, and insist on that kind if it exists (a directory can only be
 * mounted on a directory, anything else only on a non-directory). */
static int open_or_make(int dir, const char *name, int make, const char *dest)
{
	struct stat st;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && make) {
		int r = make == 'd' ? mkdirat(dir, name, 0755)
				    : mknodat(dir, name, S_IFREG | 0444, 0);
		if (r < 0 && errno != EEXIST)
			die("mount point", "%s: create %s", dest, name);
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		die("mount point", "%s: open %s", dest, name);
	if (S_ISLNK(st.st_mode))
		die_msg("mount point", "%s: %s is a symbolic link", dest, name);
	if (make == 'd' && !S_ISDIR(st.st_mode))
		die_msg("mount point", "%s: %s exists and is not a directory", dest, name);
	if (make == 'f' && S_ISDIR(st.st_mode))
		die_msg("mount point", "%s: %s exists and is a directory", dest, name);
	return fd;
}

/* Open the directory that holds DEST's last component under /newroot,
 * creating missing parents. BUF (PATH_MAX) keeps the copy *LAST points to. */
static int open_parent(const char *dest, char *buf, const char **last)
{
	int dir = open_root();
	char *comp = buf, *slash;

	snprintf(buf, PATH_MAX, "%s", dest + 1);
	for (; (slash = strchr(comp, '/')) != NULL; comp = slash + 1) {
		*slash = '\0';
		int next = open_or_make(dir, comp, 'd', dest);
		close(dir);
		dir = next;
	}
	*last = comp;
	return dir;
}

/* Open DEST under /newroot as a mount point (see open_or_make). */
static int open_dest(const char *dest, int make)
{
	char buf[PATH_MAX];
	const char *last;

	if (strcmp(dest, "/") == 0)
		return open_root();
	int dir = open_parent(dest, buf, &last);
	int fd = open_or_make(dir, last, make, dest);
	close(dir);
	return fd;
}

/* A host path, opened under /oldroot without following any symlink. */
static int open_host(const char *src, const char *step)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(NR_openat2, oldroot_fd, src[1] ? src + 1 : ".", &how, sizeof how);

	if (fd < 0)
		die(step, "open %s on the host%s", src,
		    errno == ELOOP ? " (a symbolic link is on the way)" : "");
	return fd;
}

static int clone_tree(int fd, const char *path, const char *dest)
{
	/* AT_RECURSIVE: the kernel refuses a non-recursive copy of a tree
	 * with locked submounts (it would reveal what they cover). */
	int tree = (int)syscall(NR_open_tree, fd, path,
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);

	if (tree < 0)
		die("mount", "clone the tree for %s", dest);
	return tree;
}

static void attach(int mnt, int target, const char *dest)
{
	if (syscall(NR_move_mount, mnt, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die("mount", "attach at %s", dest);
	close(mnt);
	close(target);
}

/* Linux 5.10/5.11: add ATTRS to the mount at PATH by MS_REMOUNT|MS_BIND.
 * The flags the mount already has must be passed again: those the kernel
 * locked when it copied the host's mounts into our namespace cannot be
 * cleared (mount_namespaces(7)), and statvfs's ST_* equal the MS_* values. */
static void remount(const char *path, unsigned attrs, const char *dest)
{
	struct statvfs sv;
	unsigned long keep = ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME |
			     ST_NODIRATIME | ST_RELATIME;

	if (statvfs(path, &sv) < 0)
		die("mount", "%s: statvfs %s", dest, path);
	unsigned long fl = MS_REMOUNT | MS_BIND | (sv.f_flag & keep) |
			   (attrs & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0) |
			   (attrs & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0) |
			   (attrs & MOUNT_ATTR_NODEV ? MS_NODEV : 0) |
			   (attrs & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0);
	if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME)))
		fl |= MS_STRICTATIME; /* else the kernel picks relatime */
	if (mount(NULL, path, NULL, fl, NULL) < 0)
		die("mount", "%s: remount %s", dest, path);
}

/* In place: mountinfo writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static char *read_mountinfo(void)
{
	int fd = open("/oldroot/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;

	if (fd < 0 || !buf)
		die("mount", "read /proc/self/mountinfo");
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096 && !(buf = realloc(buf, cap *= 2)))
			die("mount", "read /proc/self/mountinfo");
	}
	if (n < 0)
		die("mount", "read /proc/self/mountinfo");
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Linux 5.10/5.11: the tree TREE was attached without its flags; remount
 * its top mount and every mount below it, found by mount id and parent id
 * in one read of mountinfo. */
static void remount_tree(int tree, unsigned attrs, const char *dest)
{
	struct statx sx;
	struct info {
		int id, parent, in;
		char *path;
	} *v = NULL;
	size_t n = 0, cap = 0;

	if (statx(tree, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		die("mount", "%s: mount id", dest);
	char *text = read_mountinfo(), *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct info e = { 0 };
		int at = 0;
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (proc(5)) */
		if (sscanf(line, "%d %d %*s %*s %n", &e.id, &e.parent, &at) < 2 || !at)
			continue;
		e.path = line + at;
		e.path[strcspn(e.path, " ")] = '\0';
		unescape(e.path);
		e.in = (uint64_t)e.id == sx.stx_mnt_id;
		if (n == cap && !(v = realloc(v, (cap = cap * 2 + 64) * sizeof *v)))
			die("mount", "read /proc/self/mountinfo");
		v[n++] = e;
	}
	/* Mark descendants until nothing changes (the list is short). */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n && !v[i].in; j++)
				if (v[j].in && v[j].id == v[i].parent)
					v[i].in = changed = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].in)
			remount(v[i].path, attrs, dest);
	free(v);
	free(text);
}

/* Attach the detached tree TREE on TARGET with ATTRS on every mount in it:
 * on the detached tree first when the kernel can (nothing is ever visible
 * without its flags), else right after attaching. Consumes both fds. */
static void bind_tree(int tree, int target, unsigned attrs, const char *dest)
{
	if (attrs && !legacy && mount_setattr_(tree, AT_RECURSIVE, attrs) < 0) {
		if (errno != ENOSYS)
			die("mount", "set flags on the tree for %s", dest);
		legacy = 1;
	}
	if (attrs && legacy) {
		int top = dup(tree);
		if (top < 0)
			die("mount", "dup");
		attach(tree, target, dest);
		remount_tree(top, attrs, dest);
		close(top);
		return;
	}
	attach(tree, target, dest);
}

struct fs_opt {
	const char *key, *value; /* value NULL: a flag */
};

/* A new filesystem of TYPE with OPTS, mounted on DEST with ATTRS. */
static void new_fs(const char *type, const struct fs_opt *opts, unsigned attrs, const char *dest)
{
	int target = open_dest(dest, 'd');
	int fs = (int)syscall(NR_fsopen, type, FSOPEN_CLOEXEC);

	if (fs < 0)
		die("mount", "fsopen %s for %s", type, dest);
	for (; opts && opts->key; opts++)
		if (syscall(NR_fsconfig, fs, opts->value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			    opts->key, opts->value, 0) < 0)
			die("mount", "%s on %s: option %s", type, dest, opts->key);
	if (syscall(NR_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die("mount", "create %s for %s", type, dest);
	int mnt = (int)syscall(NR_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		die("mount", "fsmount %s for %s", type, dest);
	close(fs);
	attach(mnt, target, dest);
}

/* BIND and DEVBIND: the host inode must be the one the plan saw. */
static void bind_host(const struct plan_mount *m)
{
	int is_dev = m->type == R_DEVBIND;
	const char *step = is_dev ? "device" : "bind";
	int src = open_host(m->src, step);
	struct stat st;

	if (fstat(src, &st) < 0)
		die(step, "stat %s", m->src);
	if (is_dev) {
		if (!(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) || (uint64_t)st.st_rdev != m->dev)
			die_stale(step, "%s is not the device the plan names: stale plan", m->src);
	} else if ((uint64_t)st.st_dev != m->dev || (uint64_t)st.st_ino != m->ino ||
		   (m->kind == PLAN_KIND_DIR) != !!S_ISDIR(st.st_mode)) {
		die_stale(step,
			  "%s changed since the plan was made (dev %llu ino %llu, plan %llu %llu): "
			  "stale plan",
			  m->src, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			  (unsigned long long)m->dev, (unsigned long long)m->ino);
	}
	int target = open_dest(m->dest, is_dev || m->kind == PLAN_KIND_OTHER ? 'f' : 'd');
	int tree = clone_tree(src, "", m->dest);
	close(src);
	bind_tree(tree, target, is_dev ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC : attrs_of(m->flags),
		  m->dest);
}

static void remount_dest(const struct plan_mount *m)
{
	int fd = open_dest(m->dest, 0);
	unsigned attrs = attrs_of(m->flags);

	/* Not AT_RECURSIVE: "/" read-only must not make the binds under it
	 * read-only. The kernel insists that fd be a mount's root (EINVAL). */
	if (!legacy && mount_setattr_(fd, 0, attrs) == 0) {
		close(fd);
		return;
	}
	if (!legacy && errno != ENOSYS)
		die("remount", "%s (must be a mount point)", m->dest);
	legacy = 1;
	/* /proc/self/fd/N of the host's procfs: mount(2) follows this magic
	 * link to exactly the mount FD holds, with no path walk to race. */
	char path[64];
	snprintf(path, sizeof path, "/oldroot/proc/self/fd/%d", fd);
	remount(path, attrs, m->dest);
	close(fd);
}

#define DENY_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

static void deny(const struct plan_mount *m)
{
	if (m->kind == PLAN_KIND_DIR) {
		static const struct fs_opt opts[] = { { "mode", "0" },
						      { "size", "4k" },
						      { NULL, NULL } };
		new_fs("tmpfs", opts, DENY_ATTRS, m->dest);
		return;
	}
	/* One empty mode-000 file in the staging tmpfs serves every DENY. */
	if (mknodat(staging_fd, "deny", S_IFREG | 0000, 0) < 0 && errno != EEXIST)
		die("deny", "create the empty file");
	int target = open_dest(m->dest, 'f');
	bind_tree(clone_tree(staging_fd, "deny", m->dest), target, DENY_ATTRS, m->dest);
}

/* Write a FILE's content to FD and close it. */
static void write_content(int fd, const struct plan_mount *m)
{
	size_t done = 0;

	while (done < m->datalen) {
		ssize_t w = write(fd, m->data + done, m->datalen - done);
		if (w < 0 && errno != EINTR)
			die("file", "write %s", m->dest);
		done += w > 0 ? (size_t)w : 0;
	}
	close(fd);
}

static void make_node(const struct plan_mount *m)
{
	char buf[PATH_MAX];
	const char *last;
	struct stat st;

	if (strcmp(m->dest, "/") == 0) {
		if (m->type == R_MKDIR)
			return;
		die_msg("mount", "cannot create /");
	}
	int dir = open_parent(m->dest, buf, &last);
	if (m->type == R_MKDIR) {
		if (mkdirat(dir, last, m->mode) < 0 &&
		    (errno != EEXIST || fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !S_ISDIR(st.st_mode)))
			die("mkdir", "%s", m->dest);
	} else if (m->type == R_SYMLINK) {
		if (symlinkat(m->src, dir, last) < 0)
			die("symlink", "%s -> %s", m->dest, m->src);
	} else {
		int fd = openat(dir, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				m->mode);
		if (fd < 0)
			die("file", "create %s", m->dest);
		write_content(fd, m);
	}
	close(dir);
}

/* FILEOVER: the content in a file of the staging tmpfs, bound read-only
 * over DEST, which must be a regular file already (a system tree's, left
 * as it is on the host). N numbers the staging file. */
static void file_over(const struct plan_mount *m, size_t n)
{
	char name[32];
	struct stat st;

	snprintf(name, sizeof name, "file-%zu", n);
	int fd = openat(staging_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			m->mode);
	if (fd < 0 || fchmod(fd, m->mode) < 0)
		die("file", "create the content of %s", m->dest);
	write_content(fd, m);
	int target = open_dest(m->dest, 0);
	if (fstat(target, &st) < 0 || !S_ISREG(st.st_mode))
		die_msg("file", "%s is not a regular file to cover", m->dest);
	bind_tree(clone_tree(staging_fd, name, m->dest), target,
		  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, m->dest);
}

void mount_apply(const struct plan *plan)
{
	static const struct fs_opt pts_opts[] = {
		{ "newinstance", NULL }, { "ptmxmode", "0666" }, { "mode", "620" }, { NULL, NULL }
	};
	for (size_t i = 0; i < plan->nmounts; i++) {
		const struct plan_mount *m = &plan->mounts[i];
		char mode[16], size[32];
		struct fs_opt tmpfs_opts[] = { { "mode", mode }, { "size", size }, { NULL, NULL } };

		switch (m->type) {
		case R_TMPFS:
			snprintf(mode, sizeof mode, "%o", m->mode);
			snprintf(size, sizeof size, "%llu", (unsigned long long)m->size);
			if (!m->size)
				tmpfs_opts[1].key = NULL;
			new_fs("tmpfs", tmpfs_opts, attrs_of(m->flags), m->dest);
			break;
		case R_BIND:
		case R_DEVBIND:
			bind_host(m);
			break;
		case R_PROC:
			new_fs("proc", NULL,
			       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, m->dest);
			break;
		case R_DEVPTS:
			new_fs("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, m->dest);
			break;
		case R_REMOUNT:
			remount_dest(m);
			break;
		case R_BINDSELF: {
			int target = open_dest(m->dest, 0);
			bind_tree(clone_tree(target, "", m->dest), target, attrs_of(m->flags),
				  m->dest);
			break;
		}
		case R_DENY:
			deny(m);
			break;
		case R_FILEOVER:
			file_over(m, i);
			break;
		default:
			make_node(m);
		}
		note("%s %s%s%s%s", plan_type_name(m->type), m->dest, m->src ? " (" : "",
		     m->src ? m->src : "", m->src ? ")" : "");
	}
}

void mount_finish(void)
{
	close(oldroot_fd);
	close(staging_fd);
	/* MNT_DETACH: the host tree is busy (our cwd was in it, the kernel
	 * holds references) and its submounts are locked to it. */
	if (umount2("/oldroot", MNT_DETACH) < 0)
		die("pivot", "detach /oldroot");
	/* pivot_root(".", ".") stacks the old root on the new one, and the
	 * umount below removes it; no put_old directory is needed inside
	 * the sandbox (pivot_root(2) NOTES; runc and LXC do the same). */
	if (chdir("/newroot") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot", "pivot_root into /newroot");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die("pivot", "detach the staging tmpfs");
	note("pivoted into the sandbox root");
}
