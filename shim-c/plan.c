/*
 * plan.c - parse and validate a launch plan (PLAN.md) without side effects.
 *
 * Two passes over the bytes: the first walks the record headers only
 * (framing, types, counts), so every array can be sized exactly; the second
 * decodes each payload field by field into those arrays. Every string and
 * blob is copied into one arena, NUL-terminated, so nothing points into the
 * caller's buffer. Any rule of PLAN.md that a plan breaks is an error: the
 * shim never guesses what a malformed plan meant.
 */
#include "plan.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAGIC 0x504A5354u
#define PLAN_VERSION 1u
#define HEADER_SIZE 16u
#define MAX_PLAN (16u << 20)
#define MAX_RECORDS 65536u
#define MAX_STR 4096u
#define MAX_BLOB (1u << 20)
#define MAX_INSNS 4096u
#define RLIMIT_COUNT 16u /* RLIMIT_NLIMITS on Linux */
#define MAX_HOSTNAME 64u /* HOST_NAME_MAX */
#define MAX_NAME 64u     /* a sandbox's --name */

struct parser {
	struct plan *pl;
	char *err;
	size_t errlen;
	bool failed;
	uint32_t index; /* record being decoded, for messages */
	uint16_t type;
	const uint8_t *p; /* rest of the current payload */
	size_t left;
	size_t arena_used, arena_size;
};

const char *plan_type_name(unsigned type)
{
	static const char *const names[] = {
		[R_NAMESPACES] = "NAMESPACES",
		[R_IDS] = "IDS",
		[R_HOSTNAME] = "HOSTNAME",
		[R_VERBOSE] = "VERBOSE",
		[R_LIFELINE] = "LIFELINE",
		[R_TTY] = "TTY",
		[R_IPC] = "IPC",
		[R_RECORD] = "RECORD",
		[R_PARENT] = "PARENT",
		[R_CGROUP] = "CGROUP",
		[R_CGWRITE] = "CGWRITE",
		[R_TMPFS] = "TMPFS",
		[R_BIND] = "BIND",
		[R_MKDIR] = "MKDIR",
		[R_SYMLINK] = "SYMLINK",
		[R_FILE] = "FILE",
		[R_FILEOVER] = "FILEOVER",
		[R_PROC] = "PROC",
		[R_DEVBIND] = "DEVBIND",
		[R_DEVPTS] = "DEVPTS",
		[R_REMOUNT] = "REMOUNT",
		[R_BINDSELF] = "BINDSELF",
		[R_DENY] = "DENY",
		[R_DISCARD] = "DISCARD",
		[R_CHDIR] = "CHDIR",
		[R_RLIMIT] = "RLIMIT",
		[R_ENV] = "ENV",
		[R_ARGV] = "ARGV",
		[R_EXEC] = "EXEC",
		[R_LANDLOCK] = "LANDLOCK",
		[R_LL_PATH] = "LL_PATH",
		[R_LL_PORT] = "LL_PORT",
		[R_SECCOMP] = "SECCOMP",
		[R_ENTER] = "ENTER",
		[R_NETARG] = "NETARG",
		[R_NETRULE] = "NETRULE",
		[R_NETLISTEN] = "NETLISTEN",
		[R_CAPS] = "CAPS",
		[R_IDMAP] = "IDMAP",
		[R_CGJOIN] = "CGJOIN",
		[R_REPORT] = "REPORT",
		[R_REPORT_SYSCALL] = "REPORT_SYSCALL",
		[R_REPORT_PATH] = "REPORT_PATH",
		[R_REPORT_DBUS] = "REPORT_DBUS",
		[R_REPORT_LANDLOCK] = "REPORT_LANDLOCK",
	};
	return type < sizeof names / sizeof names[0] ? names[type] : NULL;
}

/* Record the first error only; later ones are consequences of it. */
__attribute__((format(printf, 2, 3))) static bool fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->failed)
		return false;
	ps->failed = true;
	if (!ps->errlen)
		return false;
	if (ps->type)
		n = snprintf(ps->err, ps->errlen, "record %u (%s): ", ps->index,
			     plan_type_name(ps->type));
	if (n < 0 || (size_t)n >= ps->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool check(struct parser *ps, bool ok, const char *what)
{
	return ok || fail(ps, "%s", what);
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const uint8_t *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

static bool take(struct parser *ps, size_t n, const char *what)
{
	return ps->left >= n || fail(ps, "%s: payload too short", what);
}

static bool get_u32(struct parser *ps, uint32_t *v, const char *what)
{
	if (!take(ps, 4, what))
		return false;
	*v = le32(ps->p);
	ps->p += 4, ps->left -= 4;
	return true;
}

static bool get_u64(struct parser *ps, uint64_t *v, const char *what)
{
	if (!take(ps, 8, what))
		return false;
	*v = le64(ps->p);
	ps->p += 8, ps->left -= 8;
	return true;
}

/* len:u32 bytes[len], copied into the arena with a NUL after it. Each
 * copy takes at most len+1 of the 4+len bytes it had in the plan, so an
 * arena as large as the plan always suffices; check anyway. */
static bool get_bytes(struct parser *ps, const uint8_t **out, size_t *outlen, uint32_t max,
		      const char *what)
{
	uint32_t n;

	if (!get_u32(ps, &n, what))
		return false;
	if (n > max)
		return fail(ps, "%s: length %u exceeds %u", what, n, max);
	if (!take(ps, n, what))
		return false;
	if (ps->arena_size - ps->arena_used < (size_t)n + 1)
		return fail(ps, "%s: plan arena exhausted", what);
	char *dst = ps->pl->arena + ps->arena_used;
	memcpy(dst, ps->p, n);
	dst[n] = '\0';
	ps->arena_used += (size_t)n + 1;
	ps->p += n, ps->left -= n;
	*out = (const uint8_t *)dst;
	*outlen = n;
	return true;
}

static bool get_str(struct parser *ps, const char **out, const char *what)
{
	const uint8_t *s;
	size_t n;

	if (!get_bytes(ps, &s, &n, MAX_STR, what))
		return false;
	if (memchr(s, '\0', n))
		return fail(ps, "%s: contains a NUL byte", what);
	*out = (const char *)s;
	return true;
}

/* Absolute and normalised: "/" or "/a/b", no empty, "." or ".." segment. */
static bool path_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	if (s[1] == '\0')
		return true;
	for (const char *seg = s + 1;;) {
		size_t n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (seg[n] == '\0')
			return true;
		seg += n + 1;
	}
}

static bool get_path(struct parser *ps, const char **out, const char *what)
{
	if (!get_str(ps, out, what))
		return false;
	return path_ok(*out) || fail(ps, "%s: not an absolute normalised path", what);
}

static bool flags_ok(struct parser *ps, uint32_t flags)
{
	return check(ps, !(flags & ~(PLAN_RDONLY | PLAN_NOSUID | PLAN_NODEV | PLAN_NOEXEC)),
		     "unknown mount flag bits");
}

static bool mode_ok(struct parser *ps, uint32_t mode)
{
	return check(ps, mode <= 07777, "mode has bits outside 07777");
}

static bool kind_ok(struct parser *ps, uint32_t kind)
{
	return check(ps, kind == PLAN_KIND_DIR || kind == PLAN_KIND_OTHER, "kind is not 1 or 2");
}

/*
 * An IDMAP map: 1 to 5 triples of decimal ids separated by single spaces,
 * each below 4294967295, the first starting at FIRST (the IDS id). The
 * shim passes the words to newuidmap/newgidmap as arguments, so nothing
 * else may be in them.
 */
static bool id_map_ok(const char *map, uint32_t first)
{
	unsigned words = 0;
	const char *p = map;

	for (;;) {
		uint64_t v = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9' && p - start < 10)
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (p == start || v >= UINT32_MAX || (*p && *p != ' '))
			return false;
		if (words == 0 && v != first)
			return false;
		words++;
		if (!*p)
			break;
		p++;
	}
	return words % 3 == 0 && words <= 15;
}

static bool decode_mount(struct parser *ps, struct plan_mount *m)
{
	m->type = ps->type;
	switch (ps->type) {
	case R_TMPFS:
		return get_path(ps, &m->dest, "dest") && get_u32(ps, &m->mode, "mode") &&
		       get_u64(ps, &m->size, "size") && get_u32(ps, &m->flags, "mflags") &&
		       mode_ok(ps, m->mode) && flags_ok(ps, m->flags);
	case R_BIND:
		return get_path(ps, &m->src, "src") && get_path(ps, &m->dest, "dest") &&
		       get_u64(ps, &m->dev, "dev") && get_u64(ps, &m->ino, "ino") &&
		       get_u32(ps, &m->kind, "kind") && get_u32(ps, &m->flags, "mflags") &&
		       kind_ok(ps, m->kind) && flags_ok(ps, m->flags);
	case R_MKDIR:
		return get_path(ps, &m->dest, "dest") && get_u32(ps, &m->mode, "mode") &&
		       mode_ok(ps, m->mode);
	case R_SYMLINK:
		return get_str(ps, &m->src, "target") && get_path(ps, &m->dest, "dest") &&
		       check(ps, m->src[0] != '\0', "empty symlink target");
	case R_FILE:
	case R_FILEOVER:
		return get_path(ps, &m->dest, "dest") && get_u32(ps, &m->mode, "mode") &&
		       get_bytes(ps, &m->data, &m->datalen, MAX_BLOB, "content") &&
		       mode_ok(ps, m->mode);
	case R_PROC:
	case R_DEVPTS:
		return get_path(ps, &m->dest, "dest");
	case R_DEVBIND:
		return get_path(ps, &m->src, "src") && get_path(ps, &m->dest, "dest") &&
		       get_u64(ps, &m->dev, "rdev");
	case R_REMOUNT:
	case R_BINDSELF:
		return get_path(ps, &m->dest, "dest") && get_u32(ps, &m->flags, "mflags") &&
		       flags_ok(ps, m->flags);
	case R_DENY:
		return get_path(ps, &m->dest, "dest") && get_u32(ps, &m->kind, "kind") &&
		       kind_ok(ps, m->kind);
	}
	return fail(ps, "not a mount record");
}

/* A sandbox's name: "" (none), or what `tsjail run --name` accepts; it
 * becomes a file name in the record directory. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (n > MAX_NAME || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
			      (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The directory part of PATH (an absolute normalised path) is DIR. */
static bool parent_is(const char *path, const char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n = (size_t)(slash - path);
	return strlen(dir) == n && strncmp(path, dir, n) == 0;
}

/* A CGWRITE names a file of an earlier CGROUP's directory, or of the
 * directory holding one (a delegated scope's cgroup.subtree_control). */
static bool decode_cgroup(struct parser *ps, struct plan_cgroup *c)
{
	const struct plan *pl = ps->pl;

	c->type = ps->type;
	if (ps->type == R_CGROUP) {
		uint32_t oom = PLAN_CG_OOM_V1 | PLAN_CG_OOM_V2;
		if (!get_path(ps, &c->path, "path") || !get_u32(ps, &c->flags, "flags") ||
		    !get_str(ps, &c->message, "message"))
			return false;
		return check(ps, strcmp(c->path, "/") != 0, "path /") &&
		       check(ps,
			     !(c->flags & ~(PLAN_CG_PROCS | PLAN_CG_SELF | PLAN_CG_NAMED | oom)),
			     "unknown cgroup flag bits") &&
		       check(ps, (c->flags & oom) != oom, "both OOM flags") &&
		       check(ps,
			     !(c->flags & PLAN_CG_SELF) ||
				     !(c->flags & (PLAN_CG_PROCS | PLAN_CG_NAMED | oom)),
			     "SELF with PROCS, NAMED or an OOM flag") &&
		       check(ps, (c->flags & oom) || c->message[0] == '\0',
			     "a message without an OOM flag");
	}
	if (!get_str(ps, &c->path, "path") || !get_str(ps, &c->value, "value"))
		return false;
	if (c->path[0] != '/') {
		/* A bare file name: a file of the nearest earlier CGROUP (cg_name). */
		size_t n = strlen(c->path);
		if (n == 0 || n > NAME_MAX || strchr(c->path, '/') || c->path[0] == '.')
			return fail(ps, "path: neither an absolute path nor a control file's name");
		for (size_t i = 0; i + 1 < pl->ncgroups; i++)
			if (pl->cgroups[i].type == R_CGROUP)
				return true;
		return fail(ps, "%s: a control file's name before any CGROUP", c->path);
	}
	if (!path_ok(c->path))
		return fail(ps, "path: not an absolute normalised path");
	for (size_t i = 0; i + 1 < pl->ncgroups; i++) {
		const struct plan_cgroup *d = &pl->cgroups[i];
		/* A NAMED cgroup's files are reached by name only: its path is where it is made. */
		if (d->type != R_CGROUP || (d->flags & PLAN_CG_NAMED))
			continue;
		if (parent_is(c->path, d->path))
			return true;
		const char *slash = strrchr(d->path, '/');
		char up[MAX_STR + 1];
		size_t n = (size_t)(slash - d->path);
		memcpy(up, d->path, n);
		up[n] = '\0';
		if (n > 0 && parent_is(c->path, up))
			return true;
	}
	return fail(ps, "%s is not a file of an earlier CGROUP or of its parent", c->path);
}

/* Decode the record at ps->p (payload only) into the plan. */
static bool decode(struct parser *ps)
{
	struct plan *pl = ps->pl;
	const char *s;

	switch (ps->type) {
	case R_NAMESPACES:
		return get_u32(ps, &pl->ns_flags, "flags") &&
		       check(ps, !(pl->ns_flags & ~PLAN_NS_NET), "unknown namespace flag bits");
	case R_IDS:
		/* (uid_t)-1 means "no id" to the kernel and cannot be mapped. */
		return get_u32(ps, &pl->uid, "uid") && get_u32(ps, &pl->gid, "gid") &&
		       check(ps, pl->uid != UINT32_MAX && pl->gid != UINT32_MAX, "id 4294967295");
	case R_HOSTNAME:
		return get_str(ps, &pl->hostname, "name") &&
		       check(ps, strlen(pl->hostname) <= MAX_HOSTNAME,
			     "hostname longer than 64 bytes");
	case R_VERBOSE:
		return get_u32(ps, &pl->verbose, "level");
	case R_LIFELINE: {
		uint32_t fd;
		if (!get_u32(ps, &fd, "fd") ||
		    !check(ps, fd >= 3 && fd <= INT_MAX, "fd below 3 or above INT_MAX"))
			return false;
		for (size_t i = 0; i < pl->nlifelines; i++)
			if (!check(ps, pl->lifelines[i] != (int)fd, "fd listed twice"))
				return false;
		pl->lifelines[pl->nlifelines++] = (int)fd;
		return true;
	}
	case R_TTY:
		return get_path(ps, &pl->tty_devpts, "devpts") &&
		       get_u32(ps, &pl->tty_fds, "fds") && get_u32(ps, &pl->tty_flags, "flags") &&
		       check(ps, pl->tty_fds && !(pl->tty_fds & ~7u),
			     "fds is not a non-empty set of 0, 1, 2") &&
		       check(ps, !(pl->tty_flags & ~PLAN_TTY_RAW), "unknown tty flag bits");
	case R_IPC: {
		static const char *const names[] = { "msgmax", "msgmnb", "msgmni", "semmsl",
						     "semmns", "semopm", "semmni" };
		uint32_t *const fields[] = { &pl->ipc_msg[0], &pl->ipc_msg[1], &pl->ipc_msg[2],
					     &pl->ipc_sem[0], &pl->ipc_sem[1], &pl->ipc_sem[2],
					     &pl->ipc_sem[3] };
		if (!get_u64(ps, &pl->ipc_shm, "shm") || !check(ps, pl->ipc_shm > 0, "shm 0"))
			return false;
		for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
			if (!get_u32(ps, fields[i], names[i]) ||
			    !check(ps, *fields[i] > 0 && *fields[i] <= INT_MAX,
				   "an IPC limit is 0 or above INT_MAX"))
				return false;
		return true;
	}
	case R_RECORD:
		return get_path(ps, &pl->record_dir, "dir") &&
		       get_str(ps, &pl->record_name, "name") &&
		       get_bytes(ps, &pl->record_meta, &pl->record_metalen, MAX_BLOB, "meta") &&
		       check(ps, name_ok(pl->record_name),
			     "name is not 1 to 64 of [A-Za-z0-9._-] "
			     "starting with a letter or digit") &&
		       check(ps, pl->record_metalen > 0 && pl->record_meta[0] == '{',
			     "meta is not a JSON object");
	case R_PARENT:
		return get_u32(ps, &pl->parent_pid, "pid") &&
		       check(ps, pl->parent_pid > 1 && pl->parent_pid <= INT_MAX,
			     "pid is not a process other than 1");
	case R_ENTER:
		return get_u32(ps, &pl->enter_pid, "pid") &&
		       get_u64(ps, &pl->enter_start, "start") &&
		       check(ps, pl->enter_pid > 1 && pl->enter_pid <= INT_MAX,
			     "pid is not a process other than 1");
	case R_NETARG:
		if (!get_str(ps, &s, "arg"))
			return false;
		if (!pl->nnetargs &&
		    !check(ps, path_ok(s), "argv[0] is not an absolute normalised path"))
			return false;
		pl->netargv[pl->nnetargs++] = s;
		return true;
	case R_NETRULE: {
		struct plan_netrule *r = &pl->netrules[pl->nnetrules++];
		const uint8_t *a;
		size_t n;
		if (!get_u32(ps, &r->family, "family") || !get_u32(ps, &r->prefix, "prefix") ||
		    !get_bytes(ps, &a, &n, 16, "addr") || !get_u32(ps, &r->action, "action"))
			return false;
		memcpy(r->addr, a, n);
		return check(ps, (r->family == 4 && n == 4) || (r->family == 6 && n == 16),
			     "family is not 4 with a 4-byte addr or 6 with a 16-byte one") &&
		       check(ps, r->prefix <= n * 8, "prefix longer than the address") &&
		       check(ps,
			     r->action == PLAN_NETRULE_UNREACHABLE ||
				     r->action == PLAN_NETRULE_PASS,
			     "action is not 1 or 2");
	}
	case R_NETLISTEN: {
		uint32_t fd;
		if (!get_u32(ps, &pl->listen_port, "port") || !get_u32(ps, &fd, "fd"))
			return false;
		pl->listen_fd = (int)fd;
		return check(ps, pl->listen_port >= 1 && pl->listen_port <= 65535,
			     "port not between 1 and 65535") &&
		       check(ps, fd >= 3 && fd <= INT_MAX, "fd below 3 or above INT_MAX");
	}
	case R_CGROUP:
	case R_CGWRITE:
		return decode_cgroup(ps, &pl->cgroups[pl->ncgroups++]);
	case R_CGJOIN: {
		const char **dir = &pl->cg_joins[pl->ncg_joins++];
		return get_path(ps, dir, "path") && check(ps, strcmp(*dir, "/") != 0, "path /");
	}
	case R_CAPS:
		return get_u64(ps, &pl->caps, "mask") && check(ps, pl->caps != 0, "mask 0");
	case R_IDMAP:
		return get_path(ps, &pl->newuidmap, "newuidmap") &&
		       get_path(ps, &pl->newgidmap, "newgidmap") &&
		       get_str(ps, &pl->uid_map, "uid map") && get_str(ps, &pl->gid_map, "gid map");
	case R_REPORT: {
		uint32_t fd;
		pl->has_report = 1;
		if (!get_u32(ps, &fd, "fd") || !get_u32(ps, &pl->report_flags, "flags"))
			return false;
		pl->report_out = fd == PLAN_REPORT_NO_FD ? -1 : (int)fd;
		return check(ps, fd == PLAN_REPORT_NO_FD || (fd >= 3 && fd <= INT_MAX),
			     "fd below 3 or above INT_MAX") &&
		       check(ps, !(pl->report_flags & ~(PLAN_REPORT_SUMMARY | PLAN_REPORT_LEARN)),
			     "unknown report flag bits");
	}
	case R_REPORT_SYSCALL: {
		struct plan_report_syscall *r = &pl->report_syscalls[pl->nreport_syscalls++];
		if (!get_u32(ps, &r->nr, "nr") || !get_u32(ps, &r->err, "errno") ||
		    !get_str(ps, &r->json, "json") || !get_str(ps, &r->hint, "hint"))
			return false;
		for (size_t i = 0; i + 1 < pl->nreport_syscalls; i++)
			if (!check(ps, pl->report_syscalls[i].nr != r->nr, "nr listed twice"))
				return false;
		return check(ps, r->nr < PLAN_REPORT_MAX_NR, "nr not below 1024") &&
		       check(ps, r->err <= 4095, "errno above 4095") &&
		       check(ps, r->json[0] == '{', "json is not the start of a JSON object");
	}
	case R_REPORT_PATH: {
		struct plan_report_path *r = &pl->report_paths[pl->nreport_paths++];
		if (!get_u32(ps, &r->nr, "nr") || !get_u32(ps, &r->path_arg, "path arg") ||
		    !get_u32(ps, &r->dirfd_arg, "dirfd arg") ||
		    !get_u32(ps, &r->flags_arg, "flags arg") || !get_str(ps, &r->json, "json") ||
		    !get_str(ps, &r->hint, "hint"))
			return false;
		for (size_t i = 0; i < pl->nreport_syscalls; i++)
			if (!check(ps, pl->report_syscalls[i].nr != r->nr,
				   "nr also a REPORT_SYSCALL"))
				return false;
		for (size_t i = 0; i + 1 < pl->nreport_paths; i++)
			if (!check(ps, pl->report_paths[i].nr != r->nr, "nr listed twice"))
				return false;
		return check(ps, r->nr < PLAN_REPORT_MAX_NR, "nr not below 1024") &&
		       check(ps, r->path_arg < 6, "path arg not 0 to 5") &&
		       check(ps, r->dirfd_arg < 6 || r->dirfd_arg == PLAN_REPORT_NO_ARG,
			     "dirfd arg not 0 to 5 or none") &&
		       check(ps, r->flags_arg < 6 || r->flags_arg == PLAN_REPORT_NO_ARG,
			     "flags arg not 0 to 5 or none") &&
		       check(ps, r->json[0] == '{', "json is not the start of a JSON object");
	}
	case R_REPORT_LANDLOCK: {
		struct plan_report_ll *r = &pl->report_ll[pl->nreport_ll++];
		if (!get_path(ps, &r->path, "path") || !get_u64(ps, &r->access, "access") ||
		    !get_str(ps, &r->json, "json") || !get_str(ps, &r->hint, "hint"))
			return false;
		return check(ps, r->access != 0, "access is empty") &&
		       check(ps, r->json[0] == '{', "json is not the start of a JSON object");
	}
	case R_REPORT_DBUS: {
		uint32_t fd;
		if (!get_u32(ps, &fd, "fd") || !get_str(ps, &pl->report_dbus_talk, "talk json") ||
		    !get_str(ps, &pl->report_dbus_own, "own json"))
			return false;
		pl->report_dbus_fd = (int)fd;
		return check(ps, fd >= 3 && fd <= INT_MAX, "fd below 3 or above INT_MAX") &&
		       check(ps, pl->report_dbus_talk[0] == '{' && pl->report_dbus_own[0] == '{',
			     "json is not the start of a JSON object");
	}
	case R_CHDIR:
		return get_path(ps, &pl->chdir, "path");
	case R_DISCARD:
		return get_path(ps, &pl->discard[pl->ndiscard++], "dest");
	case R_RLIMIT: {
		struct plan_rlimit *r = &pl->rlimits[pl->nrlimits++];
		return get_u32(ps, &r->resource, "resource") && get_u64(ps, &r->soft, "soft") &&
		       get_u64(ps, &r->hard, "hard") &&
		       check(ps, r->resource < RLIMIT_COUNT, "unknown resource") &&
		       check(ps, r->soft <= r->hard, "soft limit above hard limit");
	}
	case R_ENV:
		if (!get_str(ps, &s, "entry"))
			return false;
		pl->envp[pl->envc++] = (char *)s;
		return check(ps, s[0] != '=' && strchr(s, '=') != NULL, "not NAME=VALUE");
	case R_ARGV:
		if (!get_str(ps, &s, "arg"))
			return false;
		pl->argv[pl->argc++] = (char *)s;
		return true;
	case R_EXEC:
		return get_str(ps, &pl->program, "program") &&
		       get_str(ps, &pl->search_path, "path") &&
		       check(ps, pl->program[0] != '\0', "empty program");
	case R_LANDLOCK:
		pl->has_landlock = 1;
		/* The shim passes only the struct prefix the ABI knows (see
		 * landlock.c), so a right in a later field would be dropped
		 * silently: refuse it instead. */
		return get_u32(ps, &pl->ll_abi, "abi") && get_u64(ps, &pl->ll_fs, "fs") &&
		       get_u64(ps, &pl->ll_net, "net") && get_u64(ps, &pl->ll_scoped, "scoped") &&
		       get_u32(ps, &pl->ll_flags, "flags") && check(ps, pl->ll_abi >= 1, "abi 0") &&
		       check(ps, pl->ll_abi >= 4 || pl->ll_net == 0, "net rights need abi 4") &&
		       check(ps, pl->ll_abi >= 6 || pl->ll_scoped == 0, "scoped rights need abi 6");
	case R_LL_PATH: {
		struct plan_ll_rule *r = &pl->ll_rules[pl->nll_rules++];
		return get_path(ps, &r->path, "path") && get_u64(ps, &r->access, "access");
	}
	case R_LL_PORT: {
		struct plan_ll_rule *r = &pl->ll_rules[pl->nll_rules++];
		return get_u64(ps, &r->port, "port") && get_u64(ps, &r->access, "access") &&
		       check(ps, r->port <= 65535, "port above 65535");
	}
	case R_SECCOMP: {
		size_t n;
		pl->has_seccomp = 1;
		if (!get_u32(ps, &pl->seccomp_flags, "flags") ||
		    !get_bytes(ps, &pl->seccomp_prog, &n, MAX_INSNS * 8, "program"))
			return false;
		pl->seccomp_len = n;
		return check(ps, n > 0 && n % 8 == 0,
			     "program length is not a positive multiple of 8");
	}
	default:
		return decode_mount(ps, &pl->mounts[pl->nmounts++]);
	}
}

/* Types that may appear at most once. */
static bool singleton(unsigned type)
{
	switch (type) {
	case R_NAMESPACES:
	case R_IDS:
	case R_HOSTNAME:
	case R_VERBOSE:
	case R_TTY:
	case R_IPC:
	case R_RECORD:
	case R_PARENT:
	case R_ENTER:
	case R_NETLISTEN:
	case R_CAPS:
	case R_IDMAP:
	case R_REPORT:
	case R_REPORT_DBUS:
	case R_CHDIR:
	case R_EXEC:
	case R_LANDLOCK:
	case R_SECCOMP:
		return true;
	}
	return false;
}

struct counts {
	size_t cgroups, mounts, rlimits, env, argv, ll_rules, lifelines, netargs, netrules,
		discards, cgjoins, report_syscalls, report_paths, report_ll;
	uint64_t seen[2]; /* bit t set: a record of type t was seen (types < 128) */
};

static bool seen(const struct counts *c, unsigned type)
{
	return c->seen[type / 64] >> (type % 64) & 1;
}

/* Pass 1: framing and record types, nothing decoded. */
static bool scan(struct parser *ps, const uint8_t *buf, size_t len, uint32_t count,
		 struct counts *c)
{
	size_t off = HEADER_SIZE;

	for (uint32_t i = 0; i < count; i++) {
		ps->index = i;
		if (len - off < 8)
			return fail(ps, "record %u: header runs past the end of the plan", i);
		unsigned type = buf[off] | buf[off + 1] << 8;
		unsigned reserved = buf[off + 2] | buf[off + 3] << 8;
		uint32_t size = le32(buf + off + 4);
		if (!plan_type_name(type))
			return fail(ps, "record %u: unknown type %u", i, type);
		if (reserved)
			return fail(ps, "record %u: reserved field is %u, not 0", i, reserved);
		if (size > len - off - 8)
			return fail(ps, "record %u: size %u runs past the end of the plan", i,
				    size);
		if (singleton(type) && (seen(c, type)))
			return fail(ps, "record %u: a second %s record", i, plan_type_name(type));
		c->seen[type / 64] |= (uint64_t)1 << (type % 64);
		switch (type) {
		case R_RLIMIT:
			c->rlimits++;
			break;
		case R_ENV:
			c->env++;
			break;
		case R_ARGV:
			c->argv++;
			break;
		case R_LL_PATH:
		case R_LL_PORT:
			c->ll_rules++;
			break;
		case R_NETARG:
			if (++c->netargs > PLAN_MAX_NETARGS)
				return fail(ps, "record %u: more than %u NETARG records", i,
					    PLAN_MAX_NETARGS);
			break;
		case R_NETRULE:
			if (++c->netrules > PLAN_MAX_NETRULES)
				return fail(ps, "record %u: more than %u NETRULE records", i,
					    PLAN_MAX_NETRULES);
			break;
		case R_DISCARD:
			if (++c->discards > PLAN_MAX_DISCARDS)
				return fail(ps, "record %u: more than %u DISCARD records", i,
					    PLAN_MAX_DISCARDS);
			break;
		case R_CGROUP:
		case R_CGWRITE:
			c->cgroups++;
			break;
		case R_CGJOIN:
			if (++c->cgjoins > PLAN_MAX_CGJOINS)
				return fail(ps, "record %u: more than %u CGJOIN records", i,
					    PLAN_MAX_CGJOINS);
			break;
		case R_REPORT_SYSCALL:
			c->report_syscalls++;
			break;
		case R_REPORT_PATH:
			c->report_paths++;
			break;
		case R_REPORT_LANDLOCK:
			c->report_ll++;
			break;
		case R_LIFELINE:
			if (++c->lifelines > PLAN_MAX_LIFELINES)
				return fail(ps, "record %u: more than %u LIFELINE records", i,
					    PLAN_MAX_LIFELINES);
			break;
		default:
			if ((type >= R_TMPFS && type <= R_DENY) || type == R_FILEOVER)
				c->mounts++;
		}
		off += 8 + (size_t)size;
	}
	if (off != len)
		return fail(ps, "%zu bytes after the last record", len - off);
	if (!(seen(c, R_IDS)))
		return fail(ps, "no IDS record");
	if (!(seen(c, R_EXEC)))
		return fail(ps, "no EXEC record");
	if (!c->argv)
		return fail(ps, "no ARGV record");
	if (c->ll_rules && !(seen(c, R_LANDLOCK)))
		return fail(ps, "LL_PATH or LL_PORT without a LANDLOCK record");
	/* Entering builds nothing: the sandbox is there already. */
	if (seen(c, R_ENTER) && (c->mounts || c->lifelines || (seen(c, R_HOSTNAME)) ||
				 (seen(c, R_IPC)) || (seen(c, R_RECORD))))
		return fail(ps, "ENTER with a mount, LIFELINE, HOSTNAME, IPC or RECORD record");
	if (seen(c, R_ENTER) && (c->netargs || c->netrules || (seen(c, R_NETLISTEN))))
		return fail(ps, "ENTER with a NETARG, NETRULE or NETLISTEN record");
	/* An entered command joins the sandbox's cgroups; it makes none. */
	if (seen(c, R_ENTER) && c->cgroups)
		return fail(ps, "ENTER with a CGROUP or CGWRITE record");
	if (c->cgjoins && !(seen(c, R_ENTER)))
		return fail(ps, "CGJOIN without an ENTER record");
	if ((c->report_syscalls || c->report_paths) && !(seen(c, R_REPORT) && seen(c, R_SECCOMP)))
		return fail(ps,
			    "REPORT_SYSCALL or REPORT_PATH without a REPORT and a SECCOMP record");
	if (seen(c, R_ENTER) && seen(c, R_REPORT))
		return fail(ps, "ENTER with a REPORT record");
	if (c->report_ll && !(seen(c, R_REPORT) && seen(c, R_LANDLOCK) && c->report_paths))
		return fail(
			ps,
			"REPORT_LANDLOCK without a REPORT, a LANDLOCK and a REPORT_PATH record");
	if (seen(c, R_REPORT_DBUS) && !seen(c, R_REPORT))
		return fail(ps, "REPORT_DBUS without a REPORT record");
	return true;
}

void plan_free(struct plan *pl)
{
	free(pl->cgroups);
	free(pl->mounts);
	free(pl->rlimits);
	free(pl->envp);
	free(pl->argv);
	free(pl->ll_rules);
	free(pl->report_syscalls);
	free(pl->report_paths);
	free(pl->report_ll);
	free(pl->arena);
	memset(pl, 0, sizeof *pl);
}

int plan_parse(const uint8_t *buf, size_t len, struct plan *out, char *err, size_t errlen)
{
	struct parser ps = { .pl = out, .err = err, .errlen = errlen };
	struct counts c = { 0 };

	memset(out, 0, sizeof *out);
	out->listen_fd = -1;
	out->report_out = -1;
	out->report_dbus_fd = -1;
	if (errlen)
		err[0] = '\0';
	if (len < HEADER_SIZE)
		return fail(&ps, "plan of %zu bytes is shorter than its header", len), -1;
	if (le32(buf) != PLAN_MAGIC)
		return fail(&ps, "bad magic 0x%08x (not a launch plan, or wrong byte order)",
			    le32(buf)),
		       -1;
	if (le32(buf + 4) != PLAN_VERSION)
		return fail(&ps, "plan version %u, this shim reads version %u", le32(buf + 4),
			    PLAN_VERSION),
		       -1;
	if (le32(buf + 8) != len)
		return fail(&ps, "header says %u bytes, the plan has %zu", le32(buf + 8), len), -1;
	if (len > MAX_PLAN)
		return fail(&ps, "plan of %zu bytes exceeds %u", len, MAX_PLAN), -1;
	uint32_t count = le32(buf + 12);
	if (count > MAX_RECORDS)
		return fail(&ps, "%u records exceed %u", count, MAX_RECORDS), -1;
	if (!scan(&ps, buf, len, count, &c))
		return -1;

	/* calloc(0) may return NULL; ask for one element at least. */
	out->cgroups = calloc(c.cgroups + 1, sizeof *out->cgroups);
	out->mounts = calloc(c.mounts + 1, sizeof *out->mounts);
	out->rlimits = calloc(c.rlimits + 1, sizeof *out->rlimits);
	out->envp = calloc(c.env + 1, sizeof *out->envp);
	out->argv = calloc(c.argv + 1, sizeof *out->argv);
	out->ll_rules = calloc(c.ll_rules + 1, sizeof *out->ll_rules);
	out->report_syscalls = calloc(c.report_syscalls + 1, sizeof *out->report_syscalls);
	out->report_paths = calloc(c.report_paths + 1, sizeof *out->report_paths);
	out->report_ll = calloc(c.report_ll + 1, sizeof *out->report_ll);
	out->arena = malloc(len);
	ps.arena_size = len;
	if (!out->cgroups || !out->mounts || !out->rlimits || !out->envp || !out->argv ||
	    !out->ll_rules || !out->report_syscalls || !out->report_paths || !out->report_ll ||
	    !out->arena) {
		fail(&ps, "out of memory");
		goto bad;
	}

	/* Pass 2: decode. scan() vouched for every header. */
	size_t off = HEADER_SIZE;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t size = le32(buf + off + 4);
		ps.index = i;
		ps.type = (uint16_t)(buf[off] | buf[off + 1] << 8);
		ps.p = buf + off + 8;
		ps.left = size;
		if (!decode(&ps))
			goto bad;
		if (ps.left)
			fail(&ps, "%zu bytes left over after the last field", ps.left);
		if (ps.failed)
			goto bad;
		off += 8 + (size_t)size;
	}
	if ((out->nnetargs || out->nnetrules || out->listen_fd >= 0) &&
	    !(out->ns_flags & PLAN_NS_NET)) {
		ps.type = 0;
		fail(&ps,
		     "NETARG, NETRULE or NETLISTEN without a network namespace (NAMESPACES NET)");
		goto bad;
	}
	if (out->listen_fd >= 0) {
		bool found = false;
		for (size_t i = 0; i < out->nlifelines; i++)
			found |= out->lifelines[i] == out->listen_fd;
		if (!found) {
			ps.type = 0;
			fail(&ps, "NETLISTEN: fd %d is not a LIFELINE", out->listen_fd);
			goto bad;
		}
	}
	for (size_t i = 0; i < out->nreport_syscalls; i++) {
		/* errno 0 (a call let go on) only when learning. */
		if (out->report_syscalls[i].err == 0 && !(out->report_flags & PLAN_REPORT_LEARN)) {
			ps.type = 0;
			fail(&ps, "REPORT_SYSCALL: errno 0 without the learn flag");
			goto bad;
		}
	}
	if (out->report_out >= 0) {
		bool found = false;
		for (size_t i = 0; i < out->nlifelines; i++)
			found |= out->lifelines[i] == out->report_out;
		if (!found) {
			ps.type = 0;
			fail(&ps, "REPORT: fd %d is not a LIFELINE", out->report_out);
			goto bad;
		}
	}
	if (out->report_dbus_fd >= 0) {
		bool found = false;
		for (size_t i = 0; i < out->nlifelines; i++)
			found |= out->lifelines[i] == out->report_dbus_fd;
		if (!found || out->report_dbus_fd == out->report_out) {
			ps.type = 0;
			fail(&ps, "REPORT_DBUS: fd %d is not a LIFELINE of its own",
			     out->report_dbus_fd);
			goto bad;
		}
	}
	if (out->uid_map &&
	    (!id_map_ok(out->uid_map, out->uid) || !id_map_ok(out->gid_map, out->gid))) {
		ps.type = R_IDMAP;
		fail(&ps, "IDMAP: a map is not 1 to 5 triples of ids starting at the IDS id");
		goto bad;
	}
	if (out->tty_fds && !out->enter_pid) {
		bool found = false;
		for (size_t i = 0; i < out->nmounts; i++)
			found |= out->mounts[i].type == R_DEVPTS &&
				 strcmp(out->mounts[i].dest, out->tty_devpts) == 0;
		if (!found) {
			ps.type = 0;
			fail(&ps, "TTY: no DEVPTS record mounts %s", out->tty_devpts);
			goto bad;
		}
	}
	return 0;
bad:
	plan_free(out);
	return -1;
}
