/**
 * The on-disk profile shape (ProfileDoc) as schema.ts accepts it.
 *
 * Contract: a value typed ProfileDoc has passed validateDoc(); strings are
 * still unexpanded (`${HOME}/x`, `~/x`). Every field is optional: a profile
 * says only what it adds. Defaults are applied by merge.ts, not here.
 */

export const FILESYSTEM_KINDS = ['ro', 'rw', 'exec', 'tmpfs', 'deny'] as const;
export type FilesystemKind = (typeof FILESYSTEM_KINDS)[number];

/** filesystem.args: how the paths among the program's arguments are shown. */
export const FILE_ARGS = ['none', 'ro', 'rw'] as const;
export type FileArgs = (typeof FILE_ARGS)[number];

/** Named device classes; the mount planner maps each to its /dev and /sys nodes. */
export const DEVICE_CLASSES = ['dri', 'snd', 'video', 'input', 'kvm', 'fuse', 'hidraw'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

/** Host sockets a profile may ask for by name. */
export const SOCKET_NAMES = ['wayland', 'x11', 'x11-isolated', 'pulseaudio', 'pipewire'] as const;
export type SocketName = (typeof SOCKET_NAMES)[number];

export const DBUS_BUSES = ['session', 'system'] as const;
export const DBUS_RULE_KINDS = ['talk', 'own', 'see', 'call', 'broadcast'] as const;
export type DbusRuleKind = (typeof DBUS_RULE_KINDS)[number];
export type DbusRules = Record<DbusRuleKind, string[]>;
/** One bus as written: its rules, and the refused names it is let reach anyway (src/desktop/dbus.ts). */
export type DbusBusDoc = Partial<DbusRules> & { dangerouslyAllow?: string[] };

export const NETWORK_MODES = ['none', 'host', 'private'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const SYSCALL_ACTIONS = ['errno', 'kill', 'log'] as const;
export type SyscallAction = (typeof SYSCALL_ACTIONS)[number];

export const SYSCALL_ARG_OPS = ['==', '!=', '<', '<=', '>', '>=', '&==', 'in'] as const;
export type SyscallArgOp = (typeof SYSCALL_ARG_OPS)[number];

export type SyscallArgScalar = number | string;
export interface SyscallArgCond {
  /** Argument index, 0..5. */
  arg: number;
  op: SyscallArgOp;
  /** A list only with op "in"; strings are constants resolved by src/seccomp. */
  value: SyscallArgScalar | SyscallArgScalar[];
  /** Only, and always, with op "&==": (arg & mask) == value. */
  mask?: SyscallArgScalar;
}
/** A syscall name, a "@group", or a name with argument conditions (all must hold). */
export type SyscallEntry = string | { name: string; args?: SyscallArgCond[] };

/** setrlimit(2) resources a profile may set, by their RLIMIT_* suffix. */
export const LIMIT_NAMES = [
  'as',
  'core',
  'cputime',
  'data',
  'fsize',
  'memlock',
  'nofile',
  'nproc',
  'stack',
  'msgqueue',
  'nice',
  'rtprio',
  'sigpending',
  'rss',
  // Not rlimits: the size of each tmpfs tsjail mounts, and the System V shared
  // memory of the sandbox's IPC namespace (src/launch/limits.ts).
  'tmpfs',
  'shm',
  // Not rlimits: the sandbox's cgroup (src/cgroup): memory (a size), pids (a
  // count), cpu (CPUs, fractions allowed), and whether a machine that cannot
  // enforce them refuses to start (required, true by default).
  'memory',
  'pids',
  'cpu',
  'required',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
/** A number, "unlimited", a size such as "512M" (tmpfs, shm, memory), or a boolean (required). */
export type LimitValue = number | 'unlimited' | string | boolean;

export const LANDLOCK_MODES = ['best-effort', 'required'] as const;
export type LandlockMode = (typeof LANDLOCK_MODES)[number];

/** `landlock: "required"` is short for `landlock: { mode: "required" }`. */
export interface LandlockDoc {
  mode?: LandlockMode;
  /** Have the kernel log what Landlock refuses the program (as --log-denials). */
  logDenials?: boolean;
}

export interface NetworkDoc {
  mode: NetworkMode;
  tcp?: { connect?: number[]; bind?: number[] };
  /**
   * With mode "host": inet sockets other than TCP (UDP, ICMP echo, SCTP)
   * allowed. Default: true, false when a tcp list is given (seccomp refuses
   * them, so that the list is all the program reaches).
   */
  udp?: boolean;
  /** Start with the host's network, desktop sockets or D-Bus where Landlock cannot scope abstract sockets (ABI < 6). */
  unscopedAbstractSockets?: boolean;
  /** With mode "private": egress only to these hosts ([*.]name, address, each with an optional :PORT), through tsjail's proxy. */
  allow?: string[];
  /** With mode "private": the mode used where no user-mode network helper can run (said on stderr). */
  fallback?: 'host' | 'none';
}

/**
 * Capabilities a profile may keep inside its own user namespace (`uid: 0`
 * for a package manager): each acts on what the namespace owns only, never
 * on the host (tsjail-profile(5), "capabilities").
 */
export const CAPABILITY_NAMES = [
  'chown',
  'dac_override',
  'dac_read_search',
  'fowner',
  'fsetid',
  'kill',
  'setgid',
  'setuid',
  'net_bind_service',
  'sys_chroot',
] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** `root: "DIR"` is short for `root: { path: "DIR" }`; `{ writable: true }` alone lets --root give the path. */
export interface RootDoc {
  path?: string;
  writable?: boolean;
}

export interface ProfileDoc {
  description?: string;
  command?: string[];
  include?: string[];
  filesystem?: Partial<Record<FilesystemKind, string[]>> & {
    /** Paths inside writable ones kept read-only (SPEC v2), added to the built-in list. */
    protect?: string[];
    /** Entries of the built-in protect list this profile switches off, each said on stderr. */
    unprotect?: string[];
    /** Paths among the program's arguments shown at the same path (SPEC v2): "none" (default), "ro", "rw". */
    args?: FileArgs;
  };
  devices?: string[];
  sockets?: SocketName[];
  dbus?: { session?: DbusBusDoc; system?: DbusBusDoc };
  network?: NetworkMode | NetworkDoc;
  syscalls?: { allow?: SyscallEntry[]; deny?: SyscallEntry[]; action?: SyscallAction; multiarch?: boolean };
  env?: { keep?: string[]; set?: Record<string, string> };
  limits?: Partial<Record<LimitName, LimitValue>>;
  hostname?: string;
  nestedSandbox?: boolean;
  landlock?: LandlockMode | LandlockDoc;
  /** A directory tree as the system runtime instead of the host's /usr and /etc (src/mounts/tree.ts). */
  root?: string | RootDoc;
  /** The uid and gid seen inside: the caller's (default) or 0. */
  uid?: 0 | 'caller';
  capabilities?: CapabilityName[];
}
