// Named syscall groups ("@file-system", ...) and tsjail's desktop baseline
// "@default". Pure data plus expansion.
//
// The groups follow systemd's syscall_filter_sets[] (src/shared/seccomp-util.c)
// in name and spirit; systemd's "@default" (what every process needs) is
// called "@essential" here because "@default" is tsjail's desktop baseline
// (SPEC: `syscalls.allow` defaults to ["@default"]). Members that do not exist
// on an architecture are skipped for it. man/seccomp-groups.md is generated
// from this file (see test/helpers/seccomp/groups-doc.ts).

import { CLONE_NS_FLAGS, CONSTANTS } from './constants.js';

/** A condition on one argument, as written in a profile. */
export interface ArgCond {
  arg: number;
  op: '==' | '!=' | '<' | '<=' | '>' | '>=' | '&==' | 'in';
  value: number | string | (number | string)[];
  mask?: number | string;
}

/** A profile entry: a syscall name, a "@group", or a syscall with conditions (ANDed). */
export type SyscallEntry = string | { name: string; args?: ArgCond[] };

export interface GroupContext {
  network: 'none' | 'host' | 'tcp';
  nestedSandbox: boolean;
}

export interface GroupDef {
  readonly description: string;
  /** Names and "@group" references; for "@default" see defaultEntries(). */
  readonly members: readonly string[];
}

export const GROUPS: Readonly<Record<string, GroupDef>> = {
  '@aio': {
    description: 'Asynchronous I/O: classic Linux AIO and io_uring.',
    members: [
      'io_cancel',
      'io_destroy',
      'io_getevents',
      'io_pgetevents',
      'io_pgetevents_time64',
      'io_setup',
      'io_submit',
      'io_uring_enter',
      'io_uring_register',
      'io_uring_setup',
    ],
  },
  '@basic-io': {
    description: 'Reading, writing, seeking and closing file descriptors.',
    members: [
      '_llseek',
      'close',
      'close_range',
      'dup',
      'dup2',
      'dup3',
      'lseek',
      'pread64',
      'preadv',
      'preadv2',
      'pwrite64',
      'pwritev',
      'pwritev2',
      'read',
      'readv',
      'write',
      'writev',
    ],
  },
  '@chown': {
    description: 'Changing file ownership.',
    members: ['chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32'],
  },
  '@clock': {
    description: 'Setting the system clock.',
    members: [
      'adjtimex',
      'clock_adjtime',
      'clock_adjtime64',
      'clock_settime',
      'clock_settime64',
      'settimeofday',
      'stime',
    ],
  },
  '@cpu-emulation': {
    description: 'CPU emulation and legacy segment/mode switches (old information leaks).',
    members: ['modify_ldt', 'subpage_prot', 'switch_endian', 'vm86', 'vm86old'],
  },
  '@debug': {
    description: 'Debugging, tracing and profiling other processes or the kernel.',
    members: [
      'lookup_dcookie',
      'perf_event_open',
      'pidfd_getfd',
      'ptrace',
      'rtas',
      's390_runtime_instr',
      'sys_debug_setcontext',
    ],
  },
  '@essential': {
    description:
      'What every process needs to start and run: memory, threads, time, identity, exit ' +
      '(systemd calls this set @default).',
    members: [
      '@sandbox',
      'arch_prctl',
      'brk',
      'cacheflush',
      'clock_getres',
      'clock_getres_time64',
      'clock_gettime',
      'clock_gettime64',
      'clock_nanosleep',
      'clock_nanosleep_time64',
      'execve',
      'exit',
      'exit_group',
      'futex',
      'futex_time64',
      'futex_requeue',
      'futex_wait',
      'futex_waitv',
      'futex_wake',
      'get_robust_list',
      'get_thread_area',
      'getegid',
      'getegid32',
      'geteuid',
      'geteuid32',
      'getgid',
      'getgid32',
      'getgroups',
      'getgroups32',
      'getpgid',
      'getpgrp',
      'getpid',
      'getppid',
      'getrandom',
      'getresgid',
      'getresgid32',
      'getresuid',
      'getresuid32',
      'getrlimit',
      'getsid',
      'gettid',
      'gettimeofday',
      'getuid',
      'getuid32',
      'lsm_get_self_attr',
      'lsm_list_modules',
      'map_shadow_stack',
      'membarrier',
      'mmap',
      'mmap2',
      'mprotect',
      'mseal',
      'munmap',
      'nanosleep',
      'pause',
      'prlimit64',
      'restart_syscall',
      'rseq',
      'rt_sigreturn',
      'sched_getaffinity',
      'sched_yield',
      'set_robust_list',
      'set_thread_area',
      'set_tid_address',
      'set_tls',
      'sigreturn',
      'time',
      'ugetrlimit',
      'uprobe',
      'uretprobe',
    ],
  },
  '@file-system': {
    description: 'File system access: open, stat, directories, links, extended attributes, inotify.',
    members: [
      'access',
      'chdir',
      'chmod',
      'close',
      'creat',
      'faccessat',
      'faccessat2',
      'fallocate',
      'fchdir',
      'fchmod',
      'fchmodat',
      'fchmodat2',
      'fcntl',
      'fcntl64',
      'fgetxattr',
      'file_getattr',
      'file_setattr',
      'flistxattr',
      'fremovexattr',
      'fsetxattr',
      'fstat',
      'fstat64',
      'fstatat64',
      'fstatfs',
      'fstatfs64',
      'ftruncate',
      'ftruncate64',
      'futimesat',
      'getcwd',
      'getdents',
      'getdents64',
      'getxattr',
      'getxattrat',
      'inotify_add_watch',
      'inotify_init',
      'inotify_init1',
      'inotify_rm_watch',
      'lgetxattr',
      'link',
      'linkat',
      'listmount',
      'listxattr',
      'listxattrat',
      'llistxattr',
      'lremovexattr',
      'lsetxattr',
      'lstat',
      'lstat64',
      'mkdir',
      'mkdirat',
      'mknod',
      'mknodat',
      'newfstat',
      'newfstatat',
      'oldfstat',
      'oldlstat',
      'oldstat',
      'open',
      'open_tree',
      'openat',
      'openat2',
      'readlink',
      'readlinkat',
      'removexattr',
      'removexattrat',
      'rename',
      'renameat',
      'renameat2',
      'rmdir',
      'setxattr',
      'setxattrat',
      'stat',
      'stat64',
      'statfs',
      'statfs64',
      'statmount',
      'statx',
      'symlink',
      'symlinkat',
      'truncate',
      'truncate64',
      'unlink',
      'unlinkat',
      'utime',
      'utimensat',
      'utimensat_time64',
      'utimes',
    ],
  },
  '@io-event': {
    description: 'Waiting for events on file descriptors: poll, select, epoll, eventfd.',
    members: [
      '_newselect',
      'epoll_create',
      'epoll_create1',
      'epoll_ctl',
      'epoll_ctl_old',
      'epoll_pwait',
      'epoll_pwait2',
      'epoll_wait',
      'epoll_wait_old',
      'eventfd',
      'eventfd2',
      'poll',
      'ppoll',
      'ppoll_time64',
      'pselect6',
      'pselect6_time64',
      'select',
    ],
  },
  '@ipc': {
    description:
      'Inter-process communication: pipes, SysV IPC, POSIX message queues, memfd, ' + 'cross-process memory access.',
    members: [
      '@mqueue',
      '@sysv-msg',
      '@sysv-sem',
      '@sysv-shm',
      'ipc',
      'memfd_create',
      'pipe',
      'pipe2',
      'process_madvise',
      'process_vm_readv',
      'process_vm_writev',
    ],
  },
  '@keyring': {
    description: 'Kernel keyrings (shared beyond the sandbox: secrets could leak).',
    members: ['add_key', 'keyctl', 'request_key'],
  },
  '@memlock': {
    description: 'Locking memory into RAM.',
    members: ['mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall'],
  },
  '@module': {
    description: 'Loading and unloading kernel modules.',
    members: ['delete_module', 'finit_module', 'init_module'],
  },
  '@mount': {
    description: 'Mounting, the new mount API, pivot_root and chroot.',
    members: [
      'chroot',
      'fsconfig',
      'fsmount',
      'fsopen',
      'fspick',
      'mount',
      'mount_setattr',
      'move_mount',
      'open_tree_attr',
      'pivot_root',
      'umount',
      'umount2',
    ],
  },
  '@network-io': {
    description: 'Sockets: creating, connecting, sending and receiving.',
    members: [
      'accept',
      'accept4',
      'bind',
      'connect',
      'getpeername',
      'getsockname',
      'getsockopt',
      'listen',
      'recv',
      'recvfrom',
      'recvmmsg',
      'recvmmsg_time64',
      'recvmsg',
      'send',
      'sendmmsg',
      'sendmsg',
      'sendto',
      'setsockopt',
      'shutdown',
      'socket',
      'socketcall',
      'socketpair',
    ],
  },
  '@obsolete': {
    description: 'Unused or removed system calls.',
    members: [
      '_sysctl',
      'afs_syscall',
      'bdflush',
      'break',
      'create_module',
      'ftime',
      'get_kernel_syms',
      'getpmsg',
      'gtty',
      'idle',
      'lock',
      'mpx',
      'prof',
      'profil',
      'putpmsg',
      'query_module',
      'security',
      'sgetmask',
      'ssetmask',
      'stime',
      'stty',
      'sysfs',
      'tuxcall',
      'ulimit',
      'uselib',
      'ustat',
      'vserver',
    ],
  },
  '@pkey': {
    description: 'Memory protection keys.',
    members: ['pkey_alloc', 'pkey_free', 'pkey_mprotect'],
  },
  '@privileged': {
    description: 'Calls that need privileges (capabilities) to do anything.',
    members: [
      '@chown',
      '@clock',
      '@module',
      '@raw-io',
      '@reboot',
      '@swap',
      '_sysctl',
      'acct',
      'bpf',
      'capset',
      'chroot',
      'fanotify_init',
      'fanotify_mark',
      'nfsservctl',
      'open_by_handle_at',
      'pivot_root',
      'quotactl',
      'quotactl_fd',
      'setdomainname',
      'setfsuid',
      'setfsuid32',
      'setgroups',
      'setgroups32',
      'sethostname',
      'setresuid',
      'setresuid32',
      'setreuid',
      'setreuid32',
      'setuid',
      'setuid32',
      'vhangup',
    ],
  },
  '@process': {
    description: 'Creating, signalling and waiting for processes, namespaces.',
    members: [
      'capget',
      'clone',
      'clone3',
      'execveat',
      'fork',
      'getrusage',
      'kill',
      'pidfd_open',
      'pidfd_send_signal',
      'prctl',
      'process_mrelease',
      'rt_sigqueueinfo',
      'rt_tgsigqueueinfo',
      'setns',
      'swapcontext',
      'tgkill',
      'times',
      'tkill',
      'unshare',
      'vfork',
      'wait4',
      'waitid',
      'waitpid',
    ],
  },
  '@raw-io': {
    description: 'Raw I/O port and PCI configuration access.',
    members: [
      'ioperm',
      'iopl',
      'pciconfig_iobase',
      'pciconfig_read',
      'pciconfig_write',
      's390_pci_mmio_read',
      's390_pci_mmio_write',
    ],
  },
  '@reboot': {
    description: 'Rebooting and loading a new kernel.',
    members: ['kexec_file_load', 'kexec_load', 'reboot'],
  },
  '@resources': {
    description: 'Changing scheduling, priorities, limits and NUMA memory placement.',
    members: [
      '@priority',
      'mbind',
      'migrate_pages',
      'move_pages',
      'set_mempolicy',
      'set_mempolicy_home_node',
      'setrlimit',
    ],
  },
  '@sandbox': {
    description: 'Sandboxing oneself further: seccomp and Landlock (needed by nested sandboxes).',
    members: ['landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'seccomp'],
  },
  '@setuid': {
    description: 'Changing user and group ids.',
    members: [
      'setgid',
      'setgid32',
      'setgroups',
      'setgroups32',
      'setregid',
      'setregid32',
      'setresgid',
      'setresgid32',
      'setresuid',
      'setresuid32',
      'setreuid',
      'setreuid32',
      'setuid',
      'setuid32',
    ],
  },
  '@signal': {
    description: 'Signal handling and masks.',
    members: [
      'rt_sigaction',
      'rt_sigpending',
      'rt_sigprocmask',
      'rt_sigsuspend',
      'rt_sigtimedwait',
      'rt_sigtimedwait_time64',
      'sigaction',
      'sigaltstack',
      'signal',
      'signalfd',
      'signalfd4',
      'sigpending',
      'sigprocmask',
      'sigsuspend',
    ],
  },
  '@swap': {
    description: 'Enabling and disabling swap.',
    members: ['swapoff', 'swapon'],
  },
  '@sync': {
    description: 'Flushing file data to storage.',
    members: ['fdatasync', 'fsync', 'msync', 'sync', 'sync_file_range', 'sync_file_range2', 'syncfs'],
  },
  '@timer': {
    description: 'Timers and alarms.',
    members: [
      'alarm',
      'getitimer',
      'setitimer',
      'timer_create',
      'timer_delete',
      'timer_getoverrun',
      'timer_gettime',
      'timer_gettime64',
      'timer_settime',
      'timer_settime64',
      'timerfd_create',
      'timerfd_gettime',
      'timerfd_gettime64',
      'timerfd_settime',
      'timerfd_settime64',
      'times',
    ],
  },
  '@system-service': {
    description: "What a typical system service uses (systemd's @system-service); unrestricted.",
    members: [
      '@aio',
      '@basic-io',
      '@chown',
      '@essential',
      '@file-system',
      '@io-event',
      '@ipc',
      '@keyring',
      '@memlock',
      '@network-io',
      '@process',
      '@resources',
      '@setuid',
      '@signal',
      '@sync',
      '@timer',
      'arm_fadvise64_64',
      'cachestat',
      'capget',
      'capset',
      'copy_file_range',
      'fadvise64',
      'fadvise64_64',
      'flock',
      'get_mempolicy',
      'getcpu',
      'getpriority',
      'ioctl',
      'ioprio_get',
      'kcmp',
      'madvise',
      'mincore',
      'mremap',
      'name_to_handle_at',
      'oldolduname',
      'olduname',
      'personality',
      'readahead',
      'readdir',
      'remap_file_pages',
      'sched_get_priority_max',
      'sched_get_priority_min',
      'sched_getattr',
      'sched_getparam',
      'sched_getscheduler',
      'sched_rr_get_interval',
      'sched_rr_get_interval_time64',
      'sched_yield',
      'sendfile',
      'sendfile64',
      'setfsgid',
      'setfsgid32',
      'setfsuid',
      'setfsuid32',
      'setpgid',
      'setsid',
      'splice',
      'sysinfo',
      'tee',
      'umask',
      'uname',
      'userfaultfd',
      'vmsplice',
    ],
  },
  '@sysv-msg': {
    description: 'System V message queues (part of @ipc).',
    members: ['msgctl', 'msgget', 'msgrcv', 'msgsnd'],
  },
  '@sysv-sem': {
    description: 'System V semaphores (part of @ipc).',
    members: ['semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64'],
  },
  '@sysv-shm': {
    description: "System V shared memory (part of @ipc; X11's MIT-SHM extension uses it).",
    members: ['shmat', 'shmctl', 'shmdt', 'shmget'],
  },
  '@mqueue': {
    description: 'POSIX message queues (part of @ipc).',
    members: [
      'mq_getsetattr',
      'mq_notify',
      'mq_open',
      'mq_timedreceive',
      'mq_timedreceive_time64',
      'mq_timedsend',
      'mq_timedsend_time64',
      'mq_unlink',
    ],
  },
  '@priority': {
    description: 'Changing scheduling, CPU affinity and I/O or process priorities (part of @resources).',
    members: [
      'ioprio_set',
      'nice',
      'sched_setaffinity',
      'sched_setattr',
      'sched_setparam',
      'sched_setscheduler',
      'setpriority',
    ],
  },
  '@page-cache': {
    description: 'Asking which pages of a file are in memory (a side channel on other processes).',
    members: ['cachestat', 'mincore'],
  },
  '@default': {
    description:
      "tsjail's desktop baseline: @system-service without the calls listed below, plus " +
      'argument-checked ioctl, clone, socket and personality.',
    members: ['@system-service'],
  },
};

/** Removed from @system-service to form @default, with the reason shown in the documentation. */
export const DEFAULT_REMOVED: Readonly<Record<string, string>> = {
  io_uring_setup: 'io_uring operations bypass seccomp entirely',
  io_uring_enter: 'io_uring operations bypass seccomp entirely',
  io_uring_register: 'io_uring operations bypass seccomp entirely',
  add_key: 'keyrings are not per-application',
  keyctl: 'keyrings are not per-application',
  request_key: 'keyrings are not per-application',
  unshare: 'namespaces: kernel attack surface (allowed with nestedSandbox, see below)',
  setns: 'entering other namespaces',
  personality: 'only the harmless forms are allowed, see below',
  userfaultfd: 'a classic exploit primitive for widening kernel races',
  clone: 'allowed without namespace flags, see below',
  clone3: 'flags live in memory seccomp cannot read; ENOSYS makes libc fall back to clone',
  open_tree: 'new mount API; ENOSYS (CVE-2021-41133)',
  ioctl: 'allowed, but TIOCSTI and TIOCLINUX are always refused, see below',
  socket: 'allowed per address family, see below',
  socketcall: 'i386 multiplexer hiding the address family; ENOSYS makes libc use socket()',
  process_vm_readv: "reads another process's memory",
  process_vm_writev: "writes another process's memory",
  mbind: 'NUMA placement changes ("scary VM ops", refused by Flatpak too)',
  migrate_pages: 'NUMA placement changes',
  move_pages: 'NUMA placement changes',
  set_mempolicy: 'NUMA placement changes',
  set_mempolicy_home_node: 'NUMA placement changes',
};

/**
 * Calls of @default that a shipped profile drops when its program was not
 * seen making them in the learning run of its acceptance jobs
 * (scripts/derive-syscalls.mjs; test/unit/profile/syscalls-tight.test.ts
 * holds every profile to its record): kernel attack surface, reach into
 * other processes or the page cache, and privileges a desktop program seldom
 * needs. The rest of @default (reading and writing, files, polling, signals,
 * timers, syncing, threads, memfd, splice) stays whole: those are
 * alternatives of one another that another code path of the same program
 * takes (epoll or poll, fsync when saving, memfd under Wayland, splice when
 * GIO copies a file), and refusing them would break that path while
 * narrowing nothing that matters.
 *
 * These are the groups of it, each dropped whole or kept whole, and why each matters.
 */
export const TIGHTENABLE_GROUPS: Readonly<Record<string, string>> = {
  '@sysv-msg': 'System V message queues: objects that outlive the process',
  '@sysv-sem': 'System V semaphores: objects that outlive the process',
  '@sysv-shm': "System V shared memory (X11's MIT-SHM uses it)",
  '@mqueue': 'POSIX message queues: a kernel object type few programs use',
  '@aio': 'classic Linux AIO: a kernel path few desktop programs take',
  '@memlock': 'locking memory into RAM',
  '@chown': "changing a file's owner or group",
  '@setuid': 'changing user or group ids',
  '@priority': 'changing scheduling or priorities, real-time ones among them',
  '@page-cache': 'which pages of a file are in memory: a page-cache side channel',
};

/** The single calls of TIGHTENABLE, and why each matters. */
export const TIGHTENABLE_SINGLE: Readonly<Record<string, string>> = {
  setfsuid: 'changing the user id of file access',
  setfsgid: 'changing the group id of file access',
  capset: 'changing capabilities',
  name_to_handle_at: 'file handles, which open_by_handle_at outside the sandbox turns into files',
  remap_file_pages: 'deprecated, emulated in the kernel',
  vmsplice: "mapping a process's pages into a pipe: an old exploit primitive",
  process_madvise: "advice on another process's memory",
  process_mrelease: "releasing another process's memory",
  listmount: 'listing mounts: a new kernel interface',
  statmount: 'describing mounts: a new kernel interface',
};

/** The members of @default a TIGHTENABLE group stands for. */
export function tightenableMembers(group: string): string[] {
  return expandNames(group).filter((n) => !(n in DEFAULT_REMOVED));
}

/** Every call of TIGHTENABLE, with the reason of its group or its own. */
export const TIGHTENABLE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    Object.entries(TIGHTENABLE_GROUPS).flatMap(([g, why]) => tightenableMembers(g).map((n) => [n, why] as const)),
  ),
  ...TIGHTENABLE_SINGLE,
};

/**
 * What a profile refuses of TIGHTENABLE given the calls its program was seen
 * making and the calls or groups it keeps on purpose: each group none of
 * whose members was seen or kept (a group is kept whole: mlock goes with
 * munlock, shmget with shmctl), then each single call neither seen nor kept.
 */
export function tightDeny(seen: ReadonlySet<string>, kept: ReadonlySet<string>): string[] {
  const keptNames = new Set([...kept].flatMap((k) => (k.startsWith('@') ? expandNames(k) : [k])));
  const used = (n: string) => seen.has(n) || keptNames.has(n);
  return [
    ...Object.keys(TIGHTENABLE_GROUPS).filter((g) => !kept.has(g) && !tightenableMembers(g).some(used)),
    ...Object.keys(TIGHTENABLE_SINGLE).filter((n) => !used(n)),
  ];
}

const C = CONSTANTS;

/** Argument-checked and context-dependent members of @default. */
export function defaultConditionalEntries(ctx: GroupContext): SyscallEntry[] {
  const nsAllowedMask = ctx.nestedSandbox ? C.CLONE_NEWCGROUP! : CLONE_NS_FLAGS;
  const out: SyscallEntry[] = [
    'ioctl',
    { name: 'clone', args: [{ arg: 0, op: '&==', mask: nsAllowedMask, value: 0 }] },
    { name: 'socket', args: [{ arg: 0, op: '==', value: 'AF_UNIX' }] },
    { name: 'personality', args: [{ arg: 0, op: 'in', value: ['PER_LINUX', 0xffffffff] }] },
  ];
  if (ctx.network !== 'none') {
    out.push({ name: 'socket', args: [{ arg: 0, op: 'in', value: ['AF_INET', 'AF_INET6'] }] });
    // Netlink for routing (getifaddrs, network-change monitors) and device
    // events (libudev) only: netfilter, generic netlink, xfrm and the rest are
    // kernel attack surface that a nested user and network namespace would
    // reach with CAP_NET_ADMIN.
    out.push({
      name: 'socket',
      args: [
        { arg: 0, op: '==', value: 'AF_NETLINK' },
        { arg: 2, op: 'in', value: ['NETLINK_ROUTE', 'NETLINK_KOBJECT_UEVENT'] },
      ],
    });
  }
  if (ctx.nestedSandbox) {
    // Chromium's and Firefox's layer-1 sandboxes: new user/pid/net/ipc
    // namespaces, then chroot into an empty directory. Mounting stays refused.
    out.push({ name: 'unshare', args: [{ arg: 0, op: '&==', mask: C.CLONE_NEWCGROUP! | C.CLONE_NEWTIME!, value: 0 }] });
    out.push('chroot');
  }
  return out;
}

/** Expands a group to plain names (recursively), without @default's special handling. */
function expandNames(group: string, seen: Set<string> = new Set()): string[] {
  const def = GROUPS[group];
  if (def === undefined) throw new Error(`unknown group ${group}`);
  if (seen.has(group)) return [];
  seen.add(group);
  const out: string[] = [];
  for (const m of def.members) {
    if (m.startsWith('@')) out.push(...expandNames(m, seen));
    else out.push(m);
  }
  return out;
}

/** The entries a group stands for in a given context. Names may be absent on an arch. */
export function expandGroup(group: string, ctx: GroupContext): SyscallEntry[] {
  if (group === '@default') {
    const plain = [...new Set(expandNames('@system-service'))].filter((n) => !(n in DEFAULT_REMOVED));
    return [...plain, ...defaultConditionalEntries(ctx)];
  }
  return [...new Set(expandNames(group))];
}

export const isGroup = (s: string): boolean => s.startsWith('@');
