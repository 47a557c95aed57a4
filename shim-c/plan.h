/*
 * plan.h - the launch plan (PLAN.md, wire format v1) as C structs.
 *
 * plan_parse() checks the whole plan and copies it into these structs
 * before the shim changes anything, so a bad plan stops the shim with
 * nothing started. It has no side effects and no global state, so the
 * fuzzer and the unit tests call it directly.
 */
#ifndef TSJAIL_PLAN_H
#define TSJAIL_PLAN_H

#include <stddef.h>
#include <stdint.h>

enum plan_type {
	R_NAMESPACES = 1,
	R_IDS = 2,
	R_HOSTNAME = 3,
	R_VERBOSE = 4,
	R_LIFELINE = 5,
	R_TTY = 6,
	R_IPC = 7,
	R_RECORD = 8,
	R_PARENT = 9,
	R_TMPFS = 10,
	R_BIND = 11,
	R_MKDIR = 12,
	R_SYMLINK = 13,
	R_FILE = 14,
	R_PROC = 15,
	R_DEVBIND = 16,
	R_DEVPTS = 17,
	R_REMOUNT = 18,
	R_BINDSELF = 19,
	R_DENY = 20,
	R_DISCARD = 21,
	R_CGROUP = 23,
	R_CGWRITE = 24,
	R_CHDIR = 30,
	R_RLIMIT = 31,
	R_ENV = 32,
	R_ARGV = 33,
	R_EXEC = 34,
	R_LANDLOCK = 40,
	R_LL_PATH = 41,
	R_LL_PORT = 42,
	R_SECCOMP = 50,
	R_ENTER = 60,
	R_NETARG = 61,
	R_NETRULE = 62,
	R_NETLISTEN = 63,
	R_CAPS = 64,
	R_IDMAP = 65,
	R_FILEOVER = 66,
	R_REPORT = 70,
	R_REPORT_SYSCALL = 71,
	R_REPORT_PATH = 72,
	R_REPORT_DBUS = 73,
	R_REPORT_LANDLOCK = 74,
	R_CGJOIN = 80,
};

#define PLAN_NS_NET 0x1u

/* TTY flags */
#define PLAN_TTY_RAW 0x1u

/* At most this many DISCARD records. */
#define PLAN_MAX_DISCARDS 8

/* At most this many LIFELINE records. */
#define PLAN_MAX_LIFELINES 16

/* At most this many NETARG and NETRULE records. */
#define PLAN_MAX_NETARGS 64
#define PLAN_MAX_NETRULES 256
/* CGJOIN: the cgroups an entered command joins (one per v1 controller, or a v2 sandbox's one). */
#define PLAN_MAX_CGJOINS 8

/* NETRULE actions */
#define PLAN_NETRULE_UNREACHABLE 1u
#define PLAN_NETRULE_PASS 2u

/* REPORT flags */
#define PLAN_REPORT_SUMMARY 0x1u
/* REPORT flags: learning (tsjail learn): REPORT_SYSCALL records with errno 0
 * are calls the filter allows and the reporter lets go on, each said once;
 * REPORT_PATH lines are written for every path, hidden or not, and the
 * addresses of connect and sendto are said. */
#define PLAN_REPORT_LEARN 0x2u
/* REPORT fd: none (only the summary) */
#define PLAN_REPORT_NO_FD 0xFFFFFFFFu
/* REPORT_SYSCALL nr: below this */
#define PLAN_REPORT_MAX_NR 1024u

/* mflags */
#define PLAN_RDONLY 0x1u
#define PLAN_NOSUID 0x2u
#define PLAN_NODEV 0x4u
#define PLAN_NOEXEC 0x8u

/* BIND and DENY kind */
#define PLAN_KIND_DIR 1u
#define PLAN_KIND_OTHER 2u

/* CGROUP flags */
#define PLAN_CG_PROCS 0x1u
#define PLAN_CG_SELF 0x2u
#define PLAN_CG_OOM_V1 0x4u
#define PLAN_CG_OOM_V2 0x8u
#define PLAN_CG_NAMED 0x10u /* path is where the monitor makes sb-PID-START (cg_name) */

/* CGROUP (value NULL) or CGWRITE (flags 0, message NULL), in plan order. */
struct plan_cgroup {
	uint16_t type;
	const char *path;
	uint32_t flags;      /* CGROUP */
	const char *message; /* CGROUP: printed when its OOM count rose ("" none) */
	const char *value;   /* CGWRITE */
};

/* One mount record (types 10-20). Fields a type does not have are 0/NULL. */
struct plan_mount {
	uint16_t type;
	const char *src;     /* BIND, DEVBIND: host path; SYMLINK: target */
	const char *dest;    /* path inside the new root */
	uint64_t dev, ino;   /* BIND: expected st_dev, st_ino; DEVBIND: dev = st_rdev */
	uint64_t size;       /* TMPFS: bytes, 0 = kernel default */
	uint32_t mode;       /* TMPFS, MKDIR, FILE */
	uint32_t kind;       /* BIND, DENY */
	uint32_t flags;      /* mflags: TMPFS, BIND, REMOUNT, BINDSELF */
	const uint8_t *data; /* FILE content */
	size_t datalen;
};

struct plan_rlimit {
	uint32_t resource;
	uint64_t soft, hard;
};

/* LL_PATH (path set) or LL_PORT (path NULL). */
struct plan_ll_rule {
	const char *path;
	uint64_t port, access;
};

/* NETRULE: a routing policy rule of the sandbox's network namespace. */
struct plan_netrule {
	uint32_t family; /* 4 or 6 */
	uint32_t prefix; /* bits of addr that count, at most 32 or 128 */
	uint8_t addr[16];
	uint32_t action; /* PLAN_NETRULE_* */
};

/* REPORT_SYSCALL: a syscall whose refusal the filter leaves to the
 * reporter (SECCOMP_RET_USER_NOTIF), the errno it answers with, the JSON
 * object (without its closing brace) and the hint TypeScript wrote. With
 * PLAN_REPORT_LEARN, errno 0: a call the filter allows, let go on and said
 * the first time it is made. */
struct plan_report_syscall {
	uint32_t nr, err;
	const char *json, *hint;
};

/* REPORT_PATH: a call with a path argument that the filter hands to the
 * reporter although it allows it: the reporter lets it go on
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) and reports the path when the sandbox
 * does not show it but the host has it. Argument indexes, or
 * PLAN_REPORT_NO_ARG: the path, the directory it is relative to (else the
 * working directory), the open(2) flags (whether it is opened to write). */
#define PLAN_REPORT_NO_ARG 0xFFFFFFFFu
struct plan_report_path {
	uint32_t nr, path_arg, dirfd_arg, flags_arg;
	const char *json, *hint;
};

/* REPORT_LANDLOCK: what a Landlock refusal of ACCESS (LANDLOCK_ACCESS_FS_*
 * bits) at or below PATH means to the user: the JSON object (without its
 * closing brace) and the summary's words TypeScript wrote. The reporter
 * attributes a REPORT_PATH call to the LANDLOCK rules (an access they do
 * not grant there) and takes the deepest record whose ACCESS has a right
 * missing. */
struct plan_report_ll {
	const char *path;
	uint64_t access;
	const char *json, *hint;
};

struct plan {
	uint32_t ns_flags;
	uint32_t uid, gid;
	const char *hostname; /* NULL: no HOSTNAME record */
	uint32_t verbose;
	/* LIFELINE: descriptors the monitor keeps open, distinct, each >= 3. */
	int lifelines[PLAN_MAX_LIFELINES];
	size_t nlifelines;
	/* TTY: which of 0-2 are terminals (bit N: fd N), relayed through a
	 * pty of the devpts instance mounted at tty_devpts. 0: no TTY record. */
	uint32_t tty_fds, tty_flags;
	const char *tty_devpts;
	/* IPC: the IPC namespace's System V limits. ipc_shm: shared memory
	 * in bytes (kernel.shmmax, and shmall in pages); 0: no IPC record,
	 * the kernel's defaults. ipc_msg: kernel.msgmax, msgmnb, msgmni;
	 * ipc_sem: kernel.sem (semmsl, semmns, semopm, semmni). */
	uint64_t ipc_shm;
	uint32_t ipc_msg[3], ipc_sem[4];
	/* RECORD: the directory where the monitor keeps this sandbox's record
	 * (ps, enter, stop), the sandbox's name ("": none) and the JSON object
	 * TypeScript describes it with. NULL dir: no RECORD record. */
	const char *record_dir, *record_name;
	const uint8_t *record_meta;
	size_t record_metalen;
	/* PARENT: the monitor dies with this process (its parent). 0: none. */
	uint32_t parent_pid;
	/* ENTER: join the namespaces of this running sandbox's program (its
	 * pid, and its start time in clock ticks since boot) instead of
	 * building new ones. 0: no ENTER record. */
	uint32_t enter_pid;
	uint64_t enter_start;
	/* CGJOIN (with ENTER only): the running sandbox's cgroups, host
	 * directories that exist; the entering process moves itself into
	 * each (its pid to DIR/cgroup.procs) before it joins the namespaces. */
	const char *cg_joins[PLAN_MAX_CGJOINS];
	size_t ncg_joins;
	/* CGROUP and CGWRITE records, in plan order (the monitor applies
	 * them before the clone). */
	struct plan_cgroup *cgroups;
	size_t ncgroups;
	/* CAPS: capabilities (bit N: capability N) the program keeps inside
	 * its user namespace, as ambient capabilities. 0: none. */
	uint64_t caps;
	/* IDMAP: maps written by these setuid helpers from outside, as
	 * space-separated "INSIDE OUTSIDE COUNT" triples. NULL: no IDMAP
	 * record, IDS's one-id maps written by the child itself. */
	const char *newuidmap, *newgidmap, *uid_map, *gid_map;

	/* NETARG: the user-mode network helper's argv (absolute argv[0]),
	 * NULL-terminated; nnetargs 0: no helper. */
	const char *netargv[PLAN_MAX_NETARGS + 1];
	size_t nnetargs;
	struct plan_netrule netrules[PLAN_MAX_NETRULES];
	size_t nnetrules;
	/* NETLISTEN: a TCP socket on 127.0.0.1:listen_port of the sandbox's
	 * network namespace, sent over LIFELINE listen_fd. listen_fd -1: none. */
	uint32_t listen_port;
	int listen_fd;

	struct plan_mount *mounts;
	size_t nmounts;

	/* REPORT: refusals are reported on report_out (a LIFELINE; -1: none)
	 * and, with PLAN_REPORT_SUMMARY, summed up on stderr at the end.
	 * has_report 0: no REPORT record. */
	int has_report;
	int report_out;
	uint32_t report_flags;
	struct plan_report_syscall *report_syscalls;
	size_t nreport_syscalls;
	struct plan_report_path *report_paths;
	size_t nreport_paths;
	struct plan_report_ll *report_ll;
	size_t nreport_ll;
	/* REPORT_DBUS: the read end of xdg-dbus-proxy's --log (a LIFELINE;
	 * -1: none) and the starts of the JSON objects of a refused talk and
	 * own TypeScript wrote. */
	int report_dbus_fd;
	const char *report_dbus_talk, *report_dbus_own;

	/* DISCARD: private tmpfs mount points (paths inside the sandbox) whose
	 * new files init reports when the program has exited. */
	const char *discard[PLAN_MAX_DISCARDS];
	size_t ndiscard;

	const char *chdir; /* NULL: no CHDIR record */
	struct plan_rlimit *rlimits;
	size_t nrlimits;
	char **envp; /* NULL-terminated */
	size_t envc;
	char **argv; /* NULL-terminated, argc >= 1 */
	size_t argc;
	const char *program, *search_path;

	int has_landlock;
	uint32_t ll_abi, ll_flags;
	uint64_t ll_fs, ll_net, ll_scoped;
	struct plan_ll_rule *ll_rules;
	size_t nll_rules;

	int has_seccomp;
	uint32_t seccomp_flags;
	const uint8_t *seccomp_prog; /* raw struct sock_filter[] bytes */
	size_t seccomp_len;

	char *arena; /* holds every string and blob above */
};

/* Parse BUF[0..LEN). On success return 0 and fill OUT (free it with
 * plan_free). On failure return -1, write one line into ERR and leave OUT
 * empty (nothing to free). */
int plan_parse(const uint8_t *buf, size_t len, struct plan *out, char *err, size_t errlen);
void plan_free(struct plan *plan);
/* "BIND" for 11; NULL for a type PLAN.md does not define. */
const char *plan_type_name(unsigned type);

#endif
