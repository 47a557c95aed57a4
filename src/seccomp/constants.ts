// Named constants accepted in syscall argument conditions, wherever a number
// is. Kept deliberately small: the values a desktop policy filters on. All of
// them are identical on x86_64, i386 and aarch64 (asm-generic ioctls.h,
// linux/socket.h, linux/sched.h, linux/personality.h, linux/net.h).

export const CONSTANTS: Readonly<Record<string, number>> = {
  // Address families: include/linux/socket.h
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_LOCAL: 1,
  AF_INET: 2,
  AF_AX25: 3,
  AF_IPX: 4,
  AF_APPLETALK: 5,
  AF_X25: 9,
  AF_INET6: 10,
  AF_KEY: 15,
  AF_NETLINK: 16,
  AF_PACKET: 17,
  AF_RDS: 21,
  AF_LLC: 26,
  AF_IB: 27,
  AF_MPLS: 28,
  AF_CAN: 29,
  AF_TIPC: 30,
  AF_BLUETOOTH: 31,
  AF_ALG: 38,
  AF_NFC: 39,
  AF_VSOCK: 40,
  AF_QIPCRTR: 42,
  AF_SMC: 43,
  AF_XDP: 44,
  AF_MCTP: 45,
  // Socket types and flags: include/linux/net.h, asm-generic/fcntl.h
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0x800,
  SOCK_CLOEXEC: 0x80000,
  // Netlink protocols: include/uapi/linux/netlink.h
  NETLINK_ROUTE: 0,
  NETLINK_AUDIT: 9,
  NETLINK_KOBJECT_UEVENT: 15,
  // Terminal and file ioctls: include/uapi/asm-generic/ioctls.h
  TCGETS: 0x5401,
  TCSETS: 0x5402,
  TIOCSCTTY: 0x540e,
  TIOCGPGRP: 0x540f,
  TIOCSPGRP: 0x5410,
  TIOCSTI: 0x5412,
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  FIONREAD: 0x541b,
  TIOCLINUX: 0x541c,
  FIONBIO: 0x5421,
  TIOCSETD: 0x5423,
  TIOCGPTN: 0x80045430,
  TIOCSPTLCK: 0x40045431,
  FIONCLEX: 0x5450,
  FIOCLEX: 0x5451,
  FIOASYNC: 0x5452,
  // clone/unshare flags: include/uapi/linux/sched.h
  CLONE_NEWTIME: 0x80,
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_PIDFD: 0x1000,
  CLONE_PTRACE: 0x2000,
  CLONE_VFORK: 0x4000,
  CLONE_PARENT: 0x8000,
  CLONE_THREAD: 0x10000,
  CLONE_NEWNS: 0x20000,
  CLONE_SYSVSEM: 0x40000,
  CLONE_SETTLS: 0x80000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_UNTRACED: 0x800000,
  CLONE_CHILD_SETTID: 0x1000000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  // personality(2): include/uapi/linux/personality.h
  PER_LINUX: 0,
  PER_LINUX32: 8,
  ADDR_NO_RANDOMIZE: 0x40000,
  READ_IMPLIES_EXEC: 0x400000,
  // prctl(2): include/uapi/linux/prctl.h
  PR_SET_DUMPABLE: 4,
  PR_SET_NAME: 15,
  PR_SET_SECCOMP: 22,
  PR_SET_NO_NEW_PRIVS: 38,
};

/** Every namespace flag clone(2) and unshare(2) know, excluding CLONE_NEWTIME (low byte = exit signal in clone). */
export const CLONE_NS_FLAGS = 0x7e020000;

/** Which constant families name the values of (syscall, argument) in disassembly. */
const FAMILIES: Record<string, Record<number, string[]>> = {
  socket: { 0: ['AF_'], 1: ['SOCK_'], 2: ['NETLINK_'] },
  socketpair: { 0: ['AF_'] },
  ioctl: { 1: ['TIOC', 'FIO', 'TC'] },
  clone: { 0: ['CLONE_'] },
  unshare: { 0: ['CLONE_'] },
  personality: { 0: ['PER_', 'ADDR_', 'READ_'] },
  prctl: { 0: ['PR_'] },
};

/** Name of value v for (syscall, arg), or undefined. AF_LOCAL loses to AF_UNIX by order. */
export function constantName(syscall: string, arg: number, v: number): string | undefined {
  const prefixes = FAMILIES[syscall]?.[arg];
  if (prefixes === undefined) return undefined;
  for (const [name, value] of Object.entries(CONSTANTS)) {
    if (value === v && prefixes.some((p) => name.startsWith(p))) return name;
  }
  return undefined;
}
