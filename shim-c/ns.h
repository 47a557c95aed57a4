/*
 * ns.h - the new namespaces: clone into them, map ids, set up the
 * network and UTS namespaces.
 */
#ifndef TSJAIL_NS_H
#define TSJAIL_NS_H

#include <stdint.h>
#include <sys/types.h>

/* clone(2) into new user, mount, PID, IPC, UTS namespaces, a new cgroup
 * namespace when CGROUP is set (else the child unshares one once it is in
 * the sandbox's cgroups) and a network namespace when NET is set. Returns
 * the child's pid in the parent, 0 in the child; on failure explains the
 * likely cause and exits 125. */
pid_t ns_clone(int net, int cgroup);

/* `tsjail-shim --probe-userns`: can this binary, run by this user, get a
 * user namespace in which it holds the capabilities to build a sandbox?
 * Clones into new user and mount namespaces and makes the mount tree
 * private there, the first thing a sandbox needs. Prints one line and
 * returns the exit status: 0 yes; 1 the clone was refused; 2 the
 * namespace came without capabilities (what AppArmor's
 * apparmor_restrict_unprivileged_userns does to an unconfined program).
 * It reports; tsjail decides what to tell the user. */
int ns_probe(void);

/* Deny setgroups and map INSIDE_UID/GID to the caller's OUTSIDE ids. */
void ns_map_ids(uint32_t inside_uid, uint32_t inside_gid, uid_t outside_uid, gid_t outside_gid);

struct plan;

/* Init, after the fork of the program's process: move into a new IPC
 * namespace whose kernel.shmmax is the plan's ipc_shm bytes and shmall that
 * rounded up to pages, and whose message queue (msgmax, msgmnb, msgmni) and
 * semaphore (sem) limits are the plan's, owned by a user namespace nested in
 * ours that maps root to the plan's uid/gid (our ids there), and send a
 * descriptor of it over SOCK. SYSCTL_DIR: a descriptor of a writable
 * procfs's sys/kernel. Both are closed. */
void ns_ipc_limit(int sysctl_dir, const struct plan *plan, int sock);

/* The program's process: enter the IPC namespace init sends over SOCK
 * (closed). Init gone first: exit 125 without a word (it said why). */
void ns_ipc_join(int sock);

/* From the monitor, outside: have the setuid helpers PLAN's IDMAP names
 * write the maps of CHILD (newuidmap/newgidmap CHILD WORDS...). On failure
 * kills CHILD and exits 125 saying which helper failed. */
void ns_map_ids_outside(const struct plan *plan, pid_t child);

/* After ns_map_ids_outside: become UID/GID of the new namespace, with no
 * supplementary groups. The caller's own ids need not be mapped then (a
 * tree's subordinate root), and files we create have owners the maps know. */
void ns_become(uint32_t uid, uint32_t gid);

/* Bring up "lo" in the new network namespace. */
void ns_loopback_up(void);

/* sethostname(2) in the new UTS namespace. */
void ns_set_hostname(const char *name);

#endif
